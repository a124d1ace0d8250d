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
import struct
from typing import TYPE_CHECKING

from ..events import ShutdownReason
from .abi import Args, s32
from .files import FdTable
from .tasks import TASK_LIMIT, ThreadState, Wait, WaitKind

if TYPE_CHECKING:
    from .kernel import LinuxKernel

CLONE_VM, CLONE_VFORK, CLONE_SETTLS = 0x100, 0x4000, 0x80000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID = 0x100000, 0x200000, 0x1000000
WNOHANG, WUNTRACED, WEXITED, WCONTINUED, WNOWAIT = 1, 2, 4, 8, 0x01000000
P_ALL, P_PID, P_PGID = 0, 1, 2
SIGCHLD = 17
CLD_EXITED, CLD_KILLED = 1, 2
RUSAGE_SIZE = 144
_HANDLE_SPACE = 1 << 24        # each process numbers its open files apart (the recorder keys host fds by them)


def fork(k: LinuxKernel, flags: int, stack: int, parent_tid: int, child_tid: int) -> int:
    family = k.family
    assert family is not None
    if family.task_count() >= TASK_LIMIT:
        return -errno.EAGAIN
    if flags & CLONE_VM and not flags & CLONE_VFORK:
        k.warn_once("clone-vm", "clone of a process sharing the parent's memory without CLONE_VFORK is not "
                    "supported; returning -ENOSYS")
        return -errno.ENOSYS
    pid = family.new_tid()
    child = family.spawn(pid)
    for r in k.mem.regions():
        child.mem.map(r.start, r.end - r.start, r.prot, r.name, data=bytes(r.view()))
    parent_thread = k.thread
    state = copy.copy(k.state)
    state.sigactions = copy.deepcopy(k.state.sigactions)
    context = k.machine.cpu_context()
    m = k.machine
    pc = m.pc
    for name, value in (("rip", pc), ("rax", 0), ("rcx", pc), ("r11", m.reg("eflags"))):
        m.set_context_reg(context, name, value)
    if stack:
        m.set_context_reg(context, "rsp", stack)
    thread = ThreadState(pid, sigmask=parent_thread.sigmask, altstack=copy.copy(parent_thread.altstack),
                         comm=parent_thread.comm, context=context,
                         clear_child_tid=child_tid if flags & CLONE_CHILD_CLEARTID else 0)
    state.threads = {pid: thread}
    state.current = pid
    state.ppid = k.pid
    state.exited = None
    state.held = ()
    state.yielding = False
    child.state = state
    child.fds = _inherit(k.fds, pid)
    child.exe, child.exe_image, child.arg_span, child.env_span = k.exe, k.exe_image, k.arg_span, k.env_span
    if flags & CLONE_CHILD_SETTID and child.can_write(child_tid, 4):
        child.write(child_tid, struct.pack("<I", pid))
    if flags & CLONE_PARENT_SETTID and k.can_write(parent_tid, 4):
        k.write(parent_tid, struct.pack("<I", pid))
    if flags & CLONE_VFORK:
        k.block(Wait(WaitKind.VFORK, address=pid, timeout_result=pid))
    return pid


def _inherit(fds: FdTable, pid: int) -> FdTable:
    """The child's fd table: the same open files (shared, as after fork)."""
    table = FdTable()
    table._next_handle = pid * _HANDLE_SPACE
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
        k.write(rusage, bytes(RUSAGE_SIZE))     # resource usage is not measured: zeros
    k.family.reap(zombie.pid)
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
        k.write(rusage, bytes(RUSAGE_SIZE))
    if not options & WNOWAIT:
        k.family.reap(zombie.pid)
    return 0
