"""Processes: fork, vfork, clone of a process, wait4, waitid, execve.

A child process is a new LinuxKernel with its own Machine holding a copy of
the parent's memory (family.py); its fds are the parent's open files,
shared as Linux shares them (offsets, pipes).  vfork copies too (the
parent's memory is not shared), and its parent waits until the child execs
or exits, as Linux's does.  wait4 and waitid reap zombies; a parent that
must wait blocks, and a child's end makes its call again.  Everything here
is emulated: no event is logged.
"""

from __future__ import annotations

import copy
import errno
import posixpath
import struct
from typing import TYPE_CHECKING

from ..errors import ProgramError
from ..events import FileKind, ProcessChange, ProcessEvent, RandomSource, ShutdownReason
from ..loader import MAX_SHEBANG, script_argv, shebang
from . import procfs, shared_files
from .abi import AT_EMPTY_PATH, AT_FDCWD, Args, NoReturnValue, s32
from .exec_image import interpreter_of, load_program
from .files import FdTable, OpenFile
from .sigframe import AltStack
from .signals import SIG_IGN, SigAction
from .sys_open import release
from .tasks import ThreadState, Wait, WaitKind

if TYPE_CHECKING:
    from ..machine import Machine
    from .kernel import LinuxKernel

CLONE_VM, CLONE_VFORK, CLONE_SETTLS = 0x100, 0x4000, 0x80000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID = 0x100000, 0x200000, 0x1000000
WNOHANG, WUNTRACED, WEXITED, WCONTINUED, WNOWAIT = 1, 2, 4, 8, 0x01000000
P_ALL, P_PID, P_PGID = 0, 1, 2
SIGCHLD = 17
CLD_EXITED, CLD_KILLED = 1, 2
RUSAGE_SIZE = 144
NS_PER_INSTRUCTION = 1         # the CPU time model of rusage: one instruction a nanosecond (a 1 GHz, 1 IPC CPU)
_COPY_CHUNK = 1 << 16          # fork copies memory in chunks, skipping those all zeros
_ZEROS = bytes(_COPY_CHUNK)
_HANDLE_SPACE = 1 << 24        # each process numbers its open files apart (the recorder keys host fds by them)


def child_returns(m: Machine, context: object, stack: int) -> None:
    """A new task's CPU (`context`, saved inside the clone/fork system call's hook): it starts
    after the call with a result of 0, the registers the instruction clobbers (x86-64: rcx, r11)
    as it leaves them, and on `stack` if one is given."""
    arch = m.arch
    pc = m.pc
    m.set_context_reg(context, arch.pc, pc)
    m.set_context_reg(context, arch.syscall_return, 0)
    for name, source in arch.syscall_clobbers:
        m.set_context_reg(context, name, pc if source == arch.pc else m.reg(source))
    if stack:
        m.set_context_reg(context, arch.sp, stack)


def fork(k: LinuxKernel, flags: int, stack: int, parent_tid: int, child_tid: int) -> int:
    family = k.family
    assert family is not None
    if family.task_count() >= family.task_limit:
        return -errno.EAGAIN
    if flags & CLONE_VM and not flags & CLONE_VFORK:
        k.warn_once("clone-vm", "clone of a process sharing the parent's memory without CLONE_VFORK is not "
                    "supported; returning -ENOSYS")
        return -errno.ENOSYS
    pid = family.new_tid()
    child = family.spawn(pid)
    _copy_memory(k, child)
    parent_thread = k.thread
    state = copy.copy(k.state)
    state.sigactions = copy.deepcopy(k.state.sigactions)
    context = k.machine.cpu_context()
    child_returns(k.machine, context, stack)
    thread = ThreadState(pid, sigmask=parent_thread.sigmask, altstack=copy.copy(parent_thread.altstack),
                         comm=parent_thread.comm, context=context,
                         clear_child_tid=child_tid if flags & CLONE_CHILD_CLEARTID else 0)
    state.threads = {pid: thread}
    state.current = pid
    state.ppid = k.pid
    state.exited = None
    state.held = ()
    state.yielding = False
    state.itimer = None                 # alarm(2): interval timers are not inherited by fork
    state.ran = state.children_ran = 0  # its own CPU time starts (counted from when it first runs)
    state.timers = {}                   # nor POSIX timers (timer_create(2))
    child.state = state
    child.fds = _inherit(k.fds, pid)
    child.exe, child.exe_image, child.arg_span, child.env_span = k.exe, k.exe_image, k.arg_span, k.env_span
    if flags & CLONE_CHILD_SETTID and child.can_write(child_tid, 4):
        child.write(child_tid, struct.pack("<I", pid))
    if flags & CLONE_PARENT_SETTID and k.can_write(parent_tid, 4):
        k.write(parent_tid, struct.pack("<I", pid))
    family.forked = True
    k.host.process(ProcessEvent(k.icount, pid, k.pid, ProcessChange.START))
    if flags & CLONE_VFORK:
        k.block(Wait(WaitKind.VFORK, address=pid, timeout_result=pid))
    return pid


def _copy_memory(parent: LinuxKernel, child: LinuxKernel) -> None:
    """The child's address space: the parent's mappings, with the pages that are not
    all zeros copied (the others stay untouched, as the host's zero pages); MAP_SHARED
    memory is not copied but shared."""
    for r in parent.mem.regions():
        if r.shared:
            child.mem.share(r)
            continue
        # Straight into the new region's buffer: the child's machine has translated no
        # code yet, so no cache needs forgetting (as AddressSpace.write would, chunk by chunk).
        mine = child.mem.map(r.start, r.end - r.start, r.prot, r.name, file_offset=r.file_offset)
        view, dest = r.view(), memoryview(mine.buf.mm)[mine.offset:mine.offset + mine.size]
        for off in range(0, len(view), _COPY_CHUNK):
            chunk = view[off:off + _COPY_CHUNK]
            if chunk != _ZEROS[:len(chunk)]:
                dest[off:off + len(chunk)] = chunk
        dest.release()
        view.release()


def _inherit(fds: FdTable, pid: int) -> FdTable:
    """The child's fd table: the same open files (shared, as after fork)."""
    table = FdTable()
    table._next_handle = pid * _HANDLE_SPACE
    table.limit = fds.limit
    for fd, _f in fds.items():
        entry = fds.entry(fd)
        assert entry is not None
        table.install(fd, entry.file, entry.cloexec)
    return table


def sys_fork(k: LinuxKernel, a: Args) -> int:
    return fork(k, SIGCHLD, 0, 0, 0)


def sys_vfork(k: LinuxKernel, a: Args) -> int:
    return fork(k, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0)


# -- waiting for children ---------------------------------------------------------------------
def _children(k: LinuxKernel, which: int) -> list[LinuxKernel]:
    """The children `which` selects: a pid (> 0), or any (-1, 0, < -1: groups are not kept)."""
    assert k.family is not None
    kids = [c for c in k.family.kernels.values() if c.state.ppid == k.pid and c is not k]
    return [c for c in kids if which <= 0 or c.pid == which]


def _first_zombie(kids: list[LinuxKernel]) -> LinuxKernel | None:
    zombies = [c for c in kids if c.state.exited is not None]
    return min(zombies, key=lambda c: (c.state.exited.icount, c.pid)) if zombies else None  # type: ignore[union-attr]


def wait_status(child: LinuxKernel) -> int:
    ended = child.state.exited
    assert ended is not None
    return (ended.status & 0xFF) << 8 if ended.reason == ShutdownReason.EXIT else ended.status & 0x7F


def sys_wait4(k: LinuxKernel, a: Args) -> int:
    which, status_ptr, options, rusage = s32(a[0]), a[1], a[2] & 0xFFFFFFFF, a[3]
    if options & ~(WNOHANG | WUNTRACED | WCONTINUED | 0x40000000 | 0x80000000 | 0x20000000):
        return -errno.EINVAL
    kids = _children(k, which)
    if not kids:
        return -errno.ECHILD
    zombie = _first_zombie(kids)
    if zombie is None:
        if options & WNOHANG:
            return 0
        k.block(Wait(WaitKind.JOIN))
    assert zombie is not None and k.family is not None
    for ptr, size in ((status_ptr, 4), (rusage, RUSAGE_SIZE)):
        if ptr and not k.can_write(ptr, size):
            return -errno.EFAULT
    if status_ptr:
        k.write(status_ptr, struct.pack("<i", wait_status(zombie)))
    if rusage:
        k.write(rusage, child_rusage(zombie))
    _reap(k, zombie)
    return zombie.pid


def sys_waitid(k: LinuxKernel, a: Args) -> int:
    idtype, ident, infop, options, rusage = a[0] & 0xFFFFFFFF, s32(a[1]), a[2], a[3] & 0xFFFFFFFF, a[4]
    if idtype not in (P_ALL, P_PID, P_PGID) or not options & WEXITED:
        return -errno.EINVAL
    kids = _children(k, ident if idtype == P_PID else -1)
    if not kids:
        return -errno.ECHILD
    zombie = _first_zombie(kids)
    if zombie is None:
        if options & WNOHANG:
            if infop and k.can_write(infop, 128):
                k.write(infop, bytes(128))
            return 0
        k.block(Wait(WaitKind.JOIN))
    assert zombie is not None and zombie.state.exited is not None and k.family is not None
    if infop:
        if not k.can_write(infop, 128):
            return -errno.EFAULT
        ended = zombie.state.exited
        killed = ended.reason != ShutdownReason.EXIT
        uid = k.creds.user.real if k.creds is not None else 0
        info = struct.pack("<iiiiiIi", SIGCHLD, 0, CLD_KILLED if killed else CLD_EXITED, 0, zombie.pid, uid,
                           ended.status)
        k.write(infop, info + bytes(128 - len(info)))
    if rusage and k.can_write(rusage, RUSAGE_SIZE):
        k.write(rusage, child_rusage(zombie))
    if not options & WNOWAIT:
        _reap(k, zombie)
    return 0


def child_rusage(child: LinuxKernel) -> bytes:
    """wait4's and waitid's struct rusage of a child that ended, by the model of
    NS_PER_INSTRUCTION: ru_utime is the instructions its threads ran and those of the
    children it reaped (as Linux adds them), at 1 ns each; ru_stime is 0 (its system
    calls are emulated, in no guest time); every other field is 0."""
    ns = (child.state.ran + child.state.children_ran) * NS_PER_INSTRUCTION
    usec = ns // 1000
    return struct.pack("<qq", usec // 1_000_000, usec % 1_000_000) + bytes(RUSAGE_SIZE - 16)


def _reap(parent: LinuxKernel, zombie: LinuxKernel) -> None:
    """The parent collects `zombie`: its CPU time joins the parent's children's."""
    assert parent.family is not None
    parent.state.children_ran += zombie.state.ran + zombie.state.children_ran
    parent.family.reap(zombie.pid)


# -- execve ----------------------------------------------------------------------------------
MAX_ARGS = 1 << 17               # strings in argv or envp
_EXEC_FLAGS = 0o2000000          # O_RDONLY | O_CLOEXEC: how the program and its interpreter are opened


def _strings(k: LinuxKernel, ptr: int) -> list[bytes] | int:
    out: list[bytes] = []
    if not ptr:
        return out
    while True:
        if len(out) >= MAX_ARGS:
            return -errno.E2BIG
        if not k.can_read(ptr, 8):
            return -errno.EFAULT
        (addr,) = struct.unpack("<Q", k.read(ptr, 8))
        if not addr:
            return out
        out.append(k.mem.read_cstring(addr, 32 * 4096))
        ptr += 8


def _read_file(k: LinuxKernel, path: str) -> bytes | int:
    """The bytes of a program (or interpreter) file: read on the host while
    recording, captured in the trace (a FILE_OPEN event), from the trace in replay."""
    f = OpenFile(k.fds.new_handle(), FileKind.NONE, path, 0)
    outcome = k.host.open(k.icount, path, _EXEC_FLAGS, 0, 0, f)
    if outcome.result < 0:
        return outcome.result
    k.host.close(f)
    if outcome.kind == FileKind.DIRECTORY:
        return -errno.EACCES
    if outcome.kind != FileKind.CAPTURED or outcome.content is None:
        return -errno.EACCES
    return outcome.content


def sys_execve(k: LinuxKernel, a: Args) -> int:
    return _execve(k, AT_FDCWD, a[0], a[1], a[2], 0)


def sys_execveat(k: LinuxKernel, a: Args) -> int:
    return _execve(k, a[0], a[1], a[2], a[3], a[4])


def _execve(k: LinuxKernel, dirfd: int, path_ptr: int, argv_ptr: int, envp_ptr: int, flags: int) -> int:
    if flags & ~AT_EMPTY_PATH:
        k.warn_once("execveat-flags", f"execveat flags {flags:#x} are not supported; returning -EINVAL")
        return -errno.EINVAL
    name = k.cstring(path_ptr)
    if not name and flags & AT_EMPTY_PATH:
        f = k.fds.get(s32(dirfd))
        if f is None:
            return -errno.EBADF
        path: str | int = f.path
    else:
        path = k.resolve(dirfd, name)
    if isinstance(path, int):
        return path
    owner, tail = procfs.lookup(k, posixpath.normpath(path))
    if tail == "exe":                  # /proc/self/exe: the guest's program, not the host's
        path = owner.exe
    argv = _strings(k, argv_ptr)
    envp = _strings(k, envp_ptr)
    if isinstance(argv, int):
        return argv
    if isinstance(envp, int):
        return envp
    execfn = name.encode("utf-8", "surrogateescape")
    data = _read_file(k, path)
    for _ in range(MAX_SHEBANG + 1):
        if isinstance(data, int):
            return data
        script = shebang(data)
        if script is None:
            break
        interp, arg = script
        argv = script_argv(interp, arg, path.encode("utf-8", "surrogateescape"), argv)
        path = interp
        data = _read_file(k, path)
    else:
        return -errno.ELOOP
    if isinstance(data, int):
        return data
    try:
        interp_path = interpreter_of(path, data)
    except ProgramError:
        return -errno.ENOEXEC
    interp_data = None
    if interp_path:
        interp_data = _read_file(k, interp_path)
        if isinstance(interp_data, int):
            return -errno.ENOENT if interp_data == -errno.ENOENT else interp_data
        try:
            interpreter_of(interp_path, interp_data)
        except ProgramError:
            return -errno.ELIBBAD
    _point_of_no_return(k, path)
    random16 = k.host.random(k.icount, RandomSource.AT_RANDOM, 16)
    load_program(k, path, data, interp_data, argv, envp, execfn, random16,
                          [k.creds.user.real, k.creds.user.effective, k.creds.group.real, k.creds.group.effective]
                          if k.creds is not None else None)
    k.host.process(ProcessEvent(k.icount, k.pid, k.state.ppid, ProcessChange.EXEC,
                                argv=tuple(a.decode("utf-8", "surrogateescape") for a in argv)))
    if k.family is not None:
        k.family.release_vfork_parent(k)
    k.give_way()
    raise NoReturnValue()


def _point_of_no_return(k: LinuxKernel, path: str) -> None:
    """The old image goes: other threads, memory, handlers, close-on-exec fds."""
    me = k.thread
    for tid in [t for t in k.state.threads if t != me.tid]:
        del k.state.threads[tid]
    if me.tid != k.pid:                       # a thread's exec: it becomes the leader
        del k.state.threads[me.tid]
        me.tid = k.pid
        k.state.threads[k.pid] = me
        k.state.current = k.pid
    me.altstack = AltStack()
    me.comm = b""
    me.clear_child_tid = 0
    me.robust_list = 0
    k.state.sigactions = {n: SigAction(SIG_IGN) for n, act in k.state.sigactions.items() if act.handler == SIG_IGN}
    k.state.timers = {}                 # POSIX timers end at exec (the interval timer lives on)
    k.state.held = ()
    for fd, _f in k.fds.items():
        entry = k.fds.entry(fd)
        if entry is not None and entry.cloexec:
            dropped = k.fds.remove(fd)
            if dropped is not None:
                release(k, dropped)
    k.exe = path
    shared_files.write_back_all(k)
    k.machine.clear(in_syscall=True)
