"""The emulated Linux kernel for one single-threaded x86-64 process.

It implements the `GuestOS` interface of the machine: system calls, rdtsc,
and what happens on a fault.  All of its state is deterministic; whatever
comes from outside goes through the `HostIO` it is given (recording or
replaying), so the same kernel code serves both.  The system calls it
knows are the rows of syscalls.py; their handlers live in the sys_*.py
modules and share the vocabulary of abi.py.
"""

from __future__ import annotations

import copy
import errno
import logging
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from ..events import ClockSource, ExceptionCause, FileKind, ProcessChange, ProcessEvent, RandomSource, ShutdownReason
from ..hostio import HostIO
from ..machine import Machine, RunStop, StopKind
from . import shared_files
from . import signals as sig
from .abi import AT_FDCWD, ERESTARTSYS, MASK64, Args, Blocked, GuestExit, NoReturnValue, s32
from .creds import Credentials
from .files import FdLimitReached, FdTable, OpenFile
from .itimer import CLOCK_MONOTONIC, ITIMER_REAL_ID, SIGEV_THREAD_ID, IntervalTimer, PosixTimer
from .sigframe import SigInfo
from .sigframes import SIGNAL_FRAMES
from .signals import (
    SA_NODEFER,
    SA_ONSTACK,
    SA_RESETHAND,
    SA_RESTART,
    SA_RESTORER,
    SI_KERNEL,
    SI_TIMER,
    SI_TKILL,
    SI_USER,
    SigAction,
    SignalGate,
)
from .sys_open import release
from .syscalls import dispatch_table, log_numbers
from .tasks import ThreadState, Wait, WaitKind

if TYPE_CHECKING:
    from .family import Family

log = logging.getLogger(__name__)

_LEGACY = ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp")
_REG_WIDTHS: dict[str, tuple[str, int]] = {
    **{f"r{r}": (f"r{r}", 8) for r in _LEGACY},
    **{f"e{r}": (f"r{r}", 4) for r in _LEGACY},
    **{r: (f"r{r}", 2) for r in _LEGACY},
    **{f"r{i}": (f"r{i}", 8) for i in range(8, 16)},
    **{f"r{i}d": (f"r{i}", 4) for i in range(8, 16)},
    **{f"r{i}w": (f"r{i}", 2) for i in range(8, 16)},
}

FAULT_CODES = {sig.SIGFPE: 1, sig.SIGILL: 2, sig.SIGTRAP: 1}   # FPE_INTDIV, ILL_ILLOPN, TRAP_BRKPT


@dataclass
class ProcessExit:
    reason: ShutdownReason
    status: int
    icount: int


@dataclass
class KernelState:
    """Everything of the kernel a checkpoint must save."""

    cwd: str
    brk_start: int = 0
    brk: int = 0
    umask: int = 0o022
    sigactions: dict[int, SigAction] = field(default_factory=dict)
    threads: dict[int, ThreadState] = field(default_factory=dict)   # by tid (tasks.py)
    current: int = 0          # the tid of the thread running (or last run)
    ppid: int = 0             # the parent's pid (0: the first process, whose parent is the host's)
    pgid: int = 0             # its process group (0: the recording's own, asked of the host and logged)
    sid: int = 0              # its session (0: the recording's own)
    wait_order: int = 0       # how many waits began (orders futex waiters: first come, first woken)
    yielding: bool = False    # the running thread asked to give way (sched_yield)
    held: tuple[SigInfo, ...] = ()   # deliveries stopped at the signal gate, not yet made
    itimer: IntervalTimer | None = None   # ITIMER_REAL (alarm, setitimer), when armed
    timers: dict[int, PosixTimer] = field(default_factory=dict)   # timer_create's, by id
    exited: ProcessExit | None = None
    auxv: bytes = b""         # the auxiliary vector of its last exec (a fork's child: its parent's)
    ran: int = 0              # instructions its threads ran, up to `ran_from` while it runs (wait4's rusage)
    ran_from: int = 0         # the count at which it last got the CPU
    children_ran: int = 0     # instructions of its children it reaped (with wait4/waitid), theirs included
    # Resource limits the guest set (setrlimit, prlimit64), by resource: (soft, hard).
    # The others are the host's, asked and logged.  Replaced, never changed in place.
    rlimits: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class KernelSnapshot:
    """What LinuxKernel.save() keeps: private copies of its state and its
    file descriptors, never changed once taken (restore copies them again)."""

    state: KernelState
    fds: FdTable

    @property
    def held(self) -> bool:
        """Taken with a delivery waiting at the signal gate."""
        return bool(self.state.held)


class LinuxKernel:
    """System calls and process lifetime for one guest process."""

    def __init__(self, machine: Machine, host: HostIO, pid: int, exe: str, cwd: str,
                 warn: Callable[[str], None], ids: Sequence[int] | None = None) -> None:
        self.machine = machine
        self.mem = machine.mem
        self.host = host
        self.pid = pid
        # /proc/self/exe is always absolute (glibc asserts so in _dl_get_origin).
        self.exe = posixpath.normpath(posixpath.join(cwd, exe))
        self.state = KernelState(cwd=cwd, threads={pid: ThreadState(pid)}, current=pid)
        self.fds = FdTable()
        self._warn = warn
        self._warned: set[str] = set()
        self._sysno = 0                        # the system call being answered
        self.family: Family | None = None       # every process of the recording (family.py)
        self._to_deliver: list[SigInfo] = []   # signals to enter (or ignore) after this syscall
        # Asked before each delivery to a handler (before its frame is built); True
        # holds the delivery in state.held and stops the machine (see signals.py).
        self.signal_gate: SignalGate | None = None
        # Told of each system call the process makes: (the count before its instruction, its
        # number in the architecture's numbering); the timeline's syscall catchpoints.
        self.syscall_seen: Callable[[int, int], None] | None = None
        # The recording's ids (header extra.ids); None for a trace without them.
        self.creds = Credentials.from_header(ids) if ids else None
        self.handlers = dispatch_table(machine.arch.syscall_numbers, machine.arch.unported_syscalls)
        self._log_numbers = log_numbers(machine.arch.syscall_numbers)   # see log_number
        # What /proc/self shows of the exec (set_exec_image): the program's bytes
        # and where argv's and the environment's strings lie in guest memory.
        self.exe_image = b""
        self.arg_span = (0, 0)
        self.env_span = (0, 0)
        machine.os = self

    # -- helpers for handlers ----------------------------------------------------
    def warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._warn(message)

    @property
    def icount(self) -> int:
        return self.machine.icount

    @property
    def thread(self) -> ThreadState:
        """The running thread's own state."""
        return self.state.threads[self.state.current]

    @property
    def tid(self) -> int:
        return self.state.current

    def thread_name(self, tid: int) -> bytes:
        """A thread's comm: its PR_SET_NAME name, else the program file's (15 bytes at most)."""
        return self.state.threads[tid].comm or self.exe.rsplit("/", 1)[-1].encode("utf-8", "surrogateescape")[:15]

    def read(self, addr: int, n: int) -> bytes:
        return self.mem.read(addr, n)

    def write(self, addr: int, data: bytes) -> None:
        self.mem.write(addr, data)

    def can_write(self, addr: int, n: int) -> bool:
        return n == 0 or self.mem.is_mapped(addr, n, 2)

    def can_read(self, addr: int, n: int) -> bool:
        return n == 0 or self.mem.is_mapped(addr, n, 1)

    def cstring(self, addr: int) -> str:
        return self.mem.read_cstring(addr).decode("utf-8", "surrogateescape")

    def apply_writes(self, writes: tuple[tuple[int, bytes], ...]) -> None:
        for addr, data in writes:
            self.mem.write(addr, data)

    def resolve(self, dirfd: int, path: str) -> str | int:
        """Absolute guest path for (dirfd, path), or -errno."""
        if not path:
            return -errno.ENOENT
        if path.startswith("/"):
            return posixpath.normpath(path) if path != "/" else "/"
        if s32(dirfd) == AT_FDCWD:
            base = self.state.cwd
        else:
            f = self.fds.get(dirfd)
            if f is None:
                return -errno.EBADF
            if not f.is_directory:
                return -errno.ENOTDIR
            base = f.path
        return posixpath.normpath(posixpath.join(base, path))

    def log_number(self, sysno: int) -> int:
        """A handler's number for a call (x86-64's, sysnames.py) -> the number the log
        stores: the trace's architecture's (syscalls.log_numbers).  A call this
        architecture lacks (none is reached: x86-64-only handlers name only their
        own calls) is logged as the call being answered, the guest's number."""
        return self._log_numbers.get(sysno, self._sysno)

    def host_syscall(self, sysno: int, call: Callable[[], tuple[int, tuple]]) -> int:
        result, writes = self.host.syscall(self.icount, self.log_number(sysno), call)
        self.apply_writes(writes)
        return result

    def host_files_syscall(self, sysno: int, files: list, call: Callable) -> int:
        result, writes = self.host.files_syscall(self.icount, self.log_number(sysno), files, call)
        self.apply_writes(writes)
        return result

    def host_fd_syscall(self, sysno: int, f: OpenFile, call: Callable[[int], tuple[int, tuple]]) -> int:
        result, writes = self.host.fd_syscall(self.icount, self.log_number(sysno), f, call)
        self.apply_writes(writes)
        return result

    def host_wait_syscall(self, sysno: int, files: list, call: Callable, new_files: tuple = (),
                          interrupt_at: int | None = None, block: bool = False) -> tuple[int, tuple]:
        """HostIO.wait_syscall under the log's number; the caller applies the writes."""
        return self.host.wait_syscall(self.icount, self.log_number(sysno), files, call, new_files,
                                      interrupt_at, block)

    # -- GuestOS -----------------------------------------------------------------
    def on_syscall(self, machine: Machine) -> None:
        arch = machine.arch
        uc_regs = machine.read_registers((arch.syscall_number, *arch.syscall_args))
        sysno = uc_regs[arch.syscall_number]
        self._sysno = sysno
        if self.syscall_seen is not None:
            self.syscall_seen(self.icount - 1, sysno)
        args: Args = tuple(uc_regs[r] for r in arch.syscall_args)  # type: ignore[assignment]
        handler = self.handlers.get(sysno)
        self._to_deliver.clear()
        try:
            if handler is None:
                self.warn_once(f"sys{sysno}", f"unsupported system call {arch.syscall_name(sysno)} "
                               f"({sysno}); returning -ENOSYS")
                result = -errno.ENOSYS
            else:
                result = handler(self, args)
        except GuestExit:
            return
        except Blocked:
            # The thread waits (thread.wait): another runs; its result is set when it wakes.
            for reg, source in arch.syscall_clobbers:   # x86-64's syscall clobbers rcx and r11
                machine.set_reg(reg, machine.reg(source))
            machine.halt(RunStop(StopKind.HALTED, self.icount, machine.pc))
            return
        except NoReturnValue:
            result = None
        except ValueError:
            # A guest pointer that is not mapped (the handler read or wrote it).
            result = -errno.EFAULT
        except FdLimitReached:
            result = -errno.EMFILE
        if result == -ERESTARTSYS:
            if any(not info.ignored and self.state.sigactions.get(info.signo, SigAction()).flags & SA_RESTART
                   for info in self._to_deliver):
                # Back to the syscall instruction with its number in place (x86-64: rax; the
                # arguments are intact): the handler returns there and the call is made again.
                for reg, source in arch.syscall_clobbers:   # x86-64's syscall clobbers rcx and r11
                    machine.set_reg(reg, machine.reg(source))
                machine.set_reg(arch.syscall_number, sysno)
                machine.set_reg(arch.pc, machine.pc - arch.syscall_size)
                result = None
            else:
                result = -errno.EINTR
        if result is not None:
            machine.set_reg(arch.syscall_return, result & MASK64)
            for reg, source in arch.syscall_clobbers:   # x86-64's syscall clobbers rcx and r11
                machine.set_reg(reg, machine.reg(source))
        # Signals with handlers are entered on the way back to user mode.
        if self._to_deliver and self._gate(tuple(self._to_deliver)):
            machine.halt(RunStop(StopKind.HALTED, self.icount, machine.pc))
            return
        for info in self._to_deliver:
            self.enter_handler(info)

    def on_rdtsc(self, machine: Machine, with_aux: bool) -> tuple[int, int]:
        icount = machine.exact_icount_at(machine.pc)
        return self.host.tsc(icount, with_aux)

    def on_fault(self, stop: RunStop) -> bool:
        """Handle a fault; True when execution may continue (emulated insn)."""
        if stop.signal == sig.SIGILL and self._emulate_random_insn(stop):
            return True
        if stop.note:
            self.warn_once(f"insn@{stop.pc:x}", stop.note)
        if stop.detail.startswith("int 0x80"):
            self.warn_once("int80", "32-bit system calls (int 0x80) are not supported")
        action = self.state.sigactions.get(stop.signal, SigAction())
        blocked = self.thread.sigmask & (1 << (stop.signal - 1))
        if action.handler not in (sig.SIG_DFL, sig.SIG_IGN) and not blocked:
            # A handler for a synchronous fault: enter it; returning re-executes
            # the faulting instruction, as on Linux.
            code = FAULT_CODES.get(stop.signal)
            if stop.signal in (sig.SIGSEGV, sig.SIGBUS):
                code = 2 if self.mem.find(stop.address) is not None else 1   # SEGV_ACCERR / MAPERR
            info = SigInfo(stop.signal, code or 0, address=stop.address)
            if not self._gate((info,)):
                self.enter_handler(info)
            return True
        self.terminate(stop.signal, ExceptionCause.FAULT, stop.pc, stop.address, stop.icount)
        return False

    def _emulate_random_insn(self, stop: RunStop) -> bool:
        """rdrand/rdseed trap on our CPU model; answer them from HostIO."""
        insn = self.machine.instruction_at(stop.pc)
        if insn is None or insn.mnemonic not in ("rdrand", "rdseed"):
            return False
        target = _REG_WIDTHS.get(insn.op_str.strip())
        if target is None:
            return False
        name, size = target
        source = RandomSource.RDRAND if insn.mnemonic == "rdrand" else RandomSource.RDSEED
        value = int.from_bytes(self.host.random(stop.icount, source, size), "little")
        if size == 2:
            value |= self.machine.reg(name) & ~0xFFFF
        self.machine.set_reg(name, value)
        flags = self.machine.reg("eflags") & ~0x8D5   # clear OF SF ZF AF PF CF
        self.machine.set_reg("eflags", flags | 1)       # CF=1: a value is available
        self.machine.set_reg("rip", stop.pc + insn.size)
        self.machine.set_icount(stop.icount + 1)
        return True

    # -- threads (tasks.py; switching them is the scheduler's) ------------------------
    def give_way(self) -> None:
        """Stop the machine after this system call so that the scheduler runs."""
        self.machine.halt(RunStop(StopKind.HALTED, self.icount, self.machine.pc))

    def can_block(self) -> bool:
        """Other threads or processes exist that may run while this thread waits."""
        return self.family is not None and self.family.task_count() > 1

    def block(self, wait: Wait) -> NoReturn:
        """The running thread waits for `wait`; another runs (its result comes with its wake-up)."""
        self.state.wait_order += 1
        wait.order = self.state.wait_order
        wait.sysno = self._sysno
        self.thread.wait = wait
        raise Blocked()

    def wake(self, thread: ThreadState, result: int) -> None:
        """End a waiting thread's wait: its system call returns `result`."""
        thread.wait = None
        ret = self.machine.arch.syscall_return
        if thread.context is None:          # the running thread (its wait just began)
            self.machine.set_reg(ret, result & MASK64)
        else:
            self.machine.set_context_reg(thread.context, ret, result & MASK64)

    def futex_waiters(self, address: int) -> list[ThreadState]:
        """The threads waiting on the futex word at `address`, first come first."""
        waiting = [t for t in self.state.threads.values()
                   if t.wait is not None and t.wait.kind == WaitKind.FUTEX and t.wait.address == address]
        return sorted(waiting, key=lambda t: t.wait.order)  # type: ignore[union-attr]

    def futex_wake(self, address: int, count: int, bitset: int = 0xFFFFFFFF) -> int:
        """Wake up to `count` waiters of the futex word; a word in MAP_SHARED memory
        also wakes other processes' waiters on the same bytes (this process's first,
        then by pid)."""
        woken = 0
        for k, t in self._futex_waiters_sharing(address):
            if woken >= count:
                break
            if t.wait is not None and t.wait.bitset & bitset:
                k.wake(t, 0)
                woken += 1
        return woken

    def _futex_waiters_sharing(self, address: int) -> list[tuple[LinuxKernel, ThreadState]]:
        out = [(self, t) for t in self.futex_waiters(address)]
        region = self.mem.find(address)
        if region is None or not region.shared or self.family is None:
            return out
        where = (region.buf.key, region.offset + address - region.start)
        for k in sorted(self.family.live(), key=lambda k: k.pid):
            if k is self:
                continue
            for t in sorted(k.state.threads.values(), key=lambda t: t.wait.order if t.wait else 0):
                if t.wait is None or t.wait.kind != WaitKind.FUTEX:
                    continue
                r = k.mem.find(t.wait.address)
                if r is not None and (r.buf.key, r.offset + t.wait.address - r.start) == where:
                    out.append((k, t))
        return out

    def signal_thread(self, tid: int, signum: int) -> int:
        """tgkill/tkill: a signal for one thread of this process.  A fatal one
        ends the process at once (as Linux does for the whole group); one with
        a handler is pending on the thread, entered when it runs next, and
        interrupts its wait (EINTR)."""
        target = self.state.threads.get(tid)
        if target is None or target.exited:
            return -errno.ESRCH
        if tid == self.tid:
            return self.deliver_self_signal(signum, SI_TKILL)
        if signum == 0:
            return 0
        if not 1 <= signum <= 64:
            return -errno.EINVAL
        action = self.state.sigactions.get(signum, SigAction())
        bit = 1 << (signum - 1)
        if signum not in (sig.SIGKILL, sig.SIGSTOP):
            if action.handler == sig.SIG_IGN or (action.handler == sig.SIG_DFL and (
                    signum in sig.IGNORED_BY_DEFAULT or signum in (sig.SIGTSTP, 21, 22))):
                return 0
            if action.handler != sig.SIG_DFL or target.sigmask & bit:
                target.pending |= bit
                target.pending_codes.setdefault(signum, SI_TKILL)
                if target.wait is not None and not target.sigmask & bit:
                    self._interrupt(target, action)
                return 0
        self.terminate(signum, ExceptionCause.KILL, self.machine.pc, 0)
        self.machine.halt(RunStop(StopKind.HALTED, self.icount, self.machine.pc))
        raise GuestExit()

    def _interrupt(self, thread: ThreadState, action: SigAction) -> None:
        """A signal for a handler ends a thread's wait: EINTR, or with SA_RESTART
        a wait without a timeout is made again after the handler (as Linux's
        -ERESTARTSYS: the system call instruction runs again)."""
        wait = thread.wait
        assert wait is not None
        if wait.kind == WaitKind.VFORK:
            return                           # the vfork parent waits on (the handler runs after)
        if action.flags & SA_RESTART and wait.restartable:
            self.restart(thread)
        else:
            self.wake(thread, -errno.EINTR)

    def restart(self, thread: ThreadState) -> None:
        """End a wait by making its system call again when the thread runs (pipes, wait4)."""
        wait = thread.wait
        assert wait is not None
        thread.wait = None
        m = self.machine
        pc, number, size = m.arch.pc, m.arch.syscall_number, m.arch.syscall_size
        # (The arguments are intact: a waiting call's result is written only when it ends.)
        if thread.context is None:          # the running thread (its wait just began)
            m.set_reg(pc, m.reg(pc) - size)
            m.set_reg(number, wait.sysno)
            return
        m.set_context_reg(thread.context, pc, m.context_reg(thread.context, pc) - size)
        m.set_context_reg(thread.context, number, wait.sysno)

    def receive(self, signum: int, code: int, sender: int) -> None:
        """A signal from another process (kill, SIGCHLD): ignored, pending on a
        thread that does not block it (its wait interrupted), or, by default
        action, the end of this process."""
        action = self.state.sigactions.get(signum, SigAction())
        if signum not in (sig.SIGKILL, sig.SIGSTOP):
            if action.handler == sig.SIG_IGN or (action.handler == sig.SIG_DFL and (
                    signum in sig.IGNORED_BY_DEFAULT or signum in (sig.SIGTSTP, 21, 22))):
                return
            bit = 1 << (signum - 1)
            live = [t for t in sorted(self.state.threads.values(), key=lambda t: t.tid) if not t.exited]
            if action.handler != sig.SIG_DFL or all(t.sigmask & bit for t in live):
                target = next((t for t in live if not t.sigmask & bit), live[0])
                target.pending |= bit
                target.pending_codes.setdefault(signum, code)
                if target.wait is not None and target.context is not None and not target.sigmask & bit:
                    self._interrupt(target, action)
                return
        # Not running: the count is the running process's, the pc where this one stands.
        now = self.family.running.machine.icount if self.family is not None else self.icount
        context = self.thread.context
        pc = self.machine.pc if context is None else self.machine.context_reg(context, self.machine.arch.pc)
        self.terminate(signum, ExceptionCause.KILL, pc, 0, now)

    def enter_pending_handlers(self) -> bool:
        """A thread switched in: enter the handlers of signals other threads (or processes)
        sent it, through the signal gate like every delivery; True when the gate holds them."""
        t = self.thread
        infos: list[SigInfo] = []
        mask = t.sigmask                    # as each handler entered will leave it
        while ready := t.pending & ~mask:
            signum = (ready & -ready).bit_length()
            t.pending &= ~(1 << (signum - 1))
            code = t.pending_codes.pop(signum, SI_USER)
            action = self.state.sigactions.get(signum, SigAction())
            if action.handler not in (sig.SIG_DFL, sig.SIG_IGN):
                infos.append(SigInfo(signum, code, pid=self.pid))
                mask |= action.mask | (0 if action.flags & SA_NODEFER else 1 << (signum - 1))
        if infos and self._gate(tuple(infos)):
            return True
        for info in infos:
            self.enter_handler(info)
        return False

    def live_threads(self) -> list[ThreadState]:
        return [t for t in self.state.threads.values() if not t.exited]

    def exit_thread(self, status: int) -> NoReturn:
        """exit(2): the thread ends; the last one's exit ends the process."""
        t = self.thread
        if len(self.live_threads()) <= 1:
            self.exit(status)
        if t.clear_child_tid and self.can_write(t.clear_child_tid, 4):
            self.write(t.clear_child_tid, b"\0\0\0\0")
            self.futex_wake(t.clear_child_tid, 1)
        t.exited = True
        self.give_way()
        raise GuestExit()

    # -- process lifetime ---------------------------------------------------------
    def exit(self, status: int) -> NoReturn:
        self._end(ProcessExit(ShutdownReason.EXIT, status & 0xFF, self.icount))
        self.machine.halt(RunStop(StopKind.HALTED, self.icount, self.machine.pc))
        raise GuestExit()

    def terminate(self, signal: int, cause: ExceptionCause, pc: int, address: int,
                  icount: int | None = None) -> None:
        at = self.icount if icount is None else icount
        self.host.exception(at, signal, cause, pc, address)
        self._end(ProcessExit(ShutdownReason.SIGNAL, signal, at))

    def _end(self, ended: ProcessExit) -> None:
        """The process ended: its threads stop, its fds close, its parent hears of it;
        the recording ends (SHUTDOWN, with the first process's status) with the last process."""
        shared_files.write_back_all(self)
        self.state.exited = ended
        for t in self.state.threads.values():
            t.exited = True
            t.wait = None
        family = self.family
        if family is None:
            self.host.shutdown(ended.icount, ended.reason, ended.status)
            return
        if self is family.first:
            family.first_exit = ended
        if family.forked:
            status = (ended.status & 0xFF) << 8 if ended.reason == ShutdownReason.EXIT else ended.status & 0x7F
            self.host.process(ProcessEvent(ended.icount, self.pid, self.state.ppid, ProcessChange.EXIT, status))
        if len(family.live()) > 0:
            for fd, _f in self.fds.items():
                dropped = self.fds.remove(fd)
                if dropped is not None:
                    release(self, dropped)
        family.process_ended(self)
        if family.all_exited:
            first = family.first_exit
            assert isinstance(first, ProcessExit)
            self.host.shutdown(ended.icount, first.reason, first.status)

    def deliver_self_signal(self, signum: int, code: int = SI_USER, info: SigInfo | None = None) -> int:
        """kill/tgkill to ourselves, with Linux semantics: ignored, pending
        while blocked, a handler entered when the system call returns, or the
        default action (which ends the process)."""
        if signum == 0:
            return 0
        if not 1 <= signum <= 64:
            return -errno.EINVAL
        action = self.state.sigactions.get(signum, SigAction())
        if signum not in (sig.SIGKILL, sig.SIGSTOP):
            if action.handler == sig.SIG_IGN or (action.handler == sig.SIG_DFL and (
                    signum in sig.IGNORED_BY_DEFAULT or signum in (sig.SIGTSTP, 21, 22))):
                # Nothing happens, but a debugger sees it (as ptrace reports it).
                self._to_deliver.append(SigInfo(signum, code, pid=self.pid, ignored=True))
                return 0
            if self.thread.sigmask & (1 << (signum - 1)):
                # Pending until unblocked (musl's raise() and abort() rely on it).
                self.thread.pending |= 1 << (signum - 1)
                self.thread.pending_codes.setdefault(signum, code)
                return 0
            if action.handler != sig.SIG_DFL:
                self._to_deliver.append(info or SigInfo(signum, code, pid=self.pid))
                return 0
        self.terminate(signum, ExceptionCause.KILL, self.machine.pc, 0)
        self.machine.halt(RunStop(StopKind.HALTED, self.icount, self.machine.pc))
        raise GuestExit()

    # -- the timers' signals: the interval timer's SIGALRM, POSIX timers' (itimer.py) --------
    def armed_timers(self) -> list[tuple[int, IntervalTimer]]:
        """(id, expiry) of every armed timer that sends a signal, the first to expire first
        (the interval timer's id is ITIMER_REAL_ID)."""
        out = [(ITIMER_REAL_ID, self.state.itimer)] if self.state.itimer is not None else []
        out += [(i, p.armed) for i, p in self.state.timers.items() if p.armed is not None and p.signo]
        return sorted(out, key=lambda it: (it[1].expiry, it[0]))

    def next_timer(self) -> IntervalTimer | None:
        """The first armed timer to expire (None: none)."""
        timers = self.armed_timers()
        return timers[0][1] if timers else None

    def _fire(self, timer_id: int) -> tuple[SigInfo, int]:
        """The timer expires: re-armed one interval later (or disarmed); its signal's
        siginfo and the thread it is for (0: the process)."""
        if timer_id == ITIMER_REAL_ID:
            assert self.state.itimer is not None
            self.state.itimer = self.state.itimer.next()
            return SigInfo(sig.SIGALRM, SI_KERNEL, pid=0), 0
        p = self.state.timers[timer_id]
        assert p.armed is not None
        p.armed = p.armed.next()
        tid = p.tid if p.notify & SIGEV_THREAD_ID else 0
        return SigInfo(p.signo, SI_TIMER, timer=(timer_id, 0, p.value)), tid

    def check_timer(self, icount: int) -> bool:
        """Between time slices (the global count `icount`): if this process's first
        timer has expired (HostIO decides while recording, the log on replay), its
        signal is sent to the process: its first thread not blocking it receives it,
        as Linux does (a waiting one's wait is interrupted); a SIGEV_THREAD_ID timer's
        to its thread.  True when its delivery to the running thread waits at the signal gate."""
        timers = self.armed_timers()
        if not timers or self.state.exited is not None:
            return False
        timer_id, t = timers[0]
        signo = sig.SIGALRM if timer_id == ITIMER_REAL_ID else self.state.timers[timer_id].signo
        if not self.host.async_signal(icount, self.pid, signo, CLOCK_MONOTONIC, t.expiry):
            return False
        info, for_tid = self._fire(timer_id)
        return self._deliver_async(info, for_tid)

    def _deliver_async(self, info: SigInfo, for_tid: int) -> bool:
        """A signal from outside, between time slices: to thread `for_tid`, else the
        process's first thread not blocking it.  True when held at the signal gate."""
        signo = info.signo
        bit = 1 << (signo - 1)
        live = sorted(self.live_threads(), key=lambda t: t.tid)
        if for_tid:
            target = self.state.threads.get(for_tid)
            target = target if target is not None and not target.exited else None
            if target is not None and target.sigmask & bit:
                target.pending |= bit
                target.pending_codes.setdefault(signo, info.code)
                return False
        else:
            target = next((t for t in live if not t.sigmask & bit), None)
        running = self.family is None or self.family.running is self
        action = self.state.sigactions.get(signo, SigAction())
        waits = target is not None and target.wait is not None
        if (not running or target is None or target is not self.thread or target.context is not None
                or (waits and target.wait.kind == WaitKind.VFORK)):  # type: ignore[union-attr]
            if for_tid and target is not None:
                try:
                    self.signal_thread(for_tid, signo)
                except GuestExit:
                    pass
            else:
                self.receive(signo, info.code, 0)
            return False
        if waits and action.handler not in (sig.SIG_DFL, sig.SIG_IGN):
            self._interrupt(target, action)     # the running thread's wait just began: EINTR or restart
        self._to_deliver.clear()
        try:
            self.deliver_self_signal(signo, info.code, info)
        except GuestExit:
            return False
        infos, self._to_deliver = tuple(self._to_deliver), []
        if infos and self._gate(infos):
            return True
        for i in infos:
            self.enter_handler(i)
        return False

    # -- signals sent to the recording from outside (kill from another host process) --------
    def takes_external(self) -> bool:
        """This process is the one a signal sent to the recording reaches: the first."""
        return self.family is None or self.family.first is self

    def check_external(self, icount: int) -> bool:
        """Between time slices: a signal another host process sent the recording (the
        log's, on replay), delivered here as a timer's is.  True when held at the gate."""
        if not self.takes_external() or self.state.exited is not None:
            return False
        signo = self.host.external_signal(icount, self.pid)
        if not signo:
            return False
        return self._deliver_async(SigInfo(signo, SI_USER, pid=0), 0)

    def external_in_syscall(self) -> bool:
        """In a wait that a signal from outside may end (pause, sigsuspend, poll...): the
        one that arrived (the log's, on replay) is sent; True when a handler will run."""
        if not self.takes_external():
            return False
        signo = self.host.external_signal(self.icount, self.pid)
        if not signo:
            return False
        before = len(self._to_deliver)
        self.deliver_self_signal(signo, SI_USER, SigInfo(signo, SI_USER, pid=0))
        return any(not i.ignored for i in self._to_deliver[before:])

    def _external_wakes(self) -> bool:
        """A signal from outside would interrupt this thread's wait: one of those the
        recording forwards is neither blocked nor ignored."""
        actions = self.state.sigactions
        return self.takes_external() and any(
            not self.thread.sigmask & (1 << (s - 1)) and actions.get(s, SigAction()).handler != sig.SIG_IGN
            for s in sig.FORWARDED)

    def interrupt_at(self) -> int | None:
        """When a timer would interrupt a host wait (its expiry on CLOCK_MONOTONIC):
        the first armed one whose signal is neither blocked nor ignored; NEVER when
        none is but a signal from outside may still cut it; None: nothing cuts it."""
        for timer_id, t in self.armed_timers():
            signo = sig.SIGALRM if timer_id == ITIMER_REAL_ID else self.state.timers[timer_id].signo
            if self.thread.sigmask & (1 << (signo - 1)):
                continue
            if self.state.sigactions.get(signo, SigAction()).handler == sig.SIG_IGN:
                continue
            return t.expiry
        return sig.NEVER if self._external_wakes() else None

    def interrupted(self, result: int) -> bool:
        """After a host wait given interrupt_at(): a signal from outside or a timer cut it
        (-EINTR): that signal is sent, or the timers expire in order until one's handler
        runs (or one ends the process).  Decided by the logged result and events alone."""
        if result != -errno.EINTR:
            return False
        if self.external_in_syscall():
            return True
        if not self.armed_timers():
            return False
        for _ in range(len(self.armed_timers())):
            if self.timer_fires_in_syscall():
                break
        return True

    def end_slice(self) -> None:
        """Stop the machine after this system call, so that the run loop starts
        a new time slice (short while a timer is armed)."""
        self.machine.halt(RunStop(StopKind.HALTED, self.icount, self.machine.pc))

    def timer_fires_in_syscall(self) -> bool:
        """A sleeping system call slept until the first timer's expiry: it expires
        now and its signal is sent (a default action may end the process).
        True when a handler will run, which interrupts the call (EINTR)."""
        timers = self.armed_timers()
        assert timers
        info, for_tid = self._fire(timers[0][0])
        if for_tid and for_tid != self.tid:
            self.signal_thread(for_tid, info.signo)
            return False
        before = len(self._to_deliver)
        self.deliver_self_signal(info.signo, info.code, info)
        return any(not i.ignored for i in self._to_deliver[before:])

    def enter_handler(self, info: SigInfo) -> None:
        """Build the signal frame and continue in the handler."""
        if info.ignored:
            return
        action = self.state.sigactions.get(info.signo, SigAction())
        saved = self.thread.sigmask
        if self.thread.suspended_mask is not None:     # rt_sigsuspend's: the frame restores the mask before it
            saved, self.thread.suspended_mask = self.thread.suspended_mask, None
        mask = saved | action.mask
        if not action.flags & SA_NODEFER:
            mask |= 1 << (info.signo - 1)
        if action.flags & SA_RESETHAND:
            self.state.sigactions[info.signo] = SigAction()
        restorer = action.restorer if action.flags & SA_RESTORER else 0
        build_frame = SIGNAL_FRAMES[self.machine.arch.name][0]
        build_frame(self.machine, info, action.handler, restorer, saved, self.thread.altstack,
                    bool(action.flags & SA_ONSTACK))
        self.thread.sigmask = mask & ~sig.UNBLOCKABLE

    def _gate(self, infos: tuple[SigInfo, ...]) -> bool:
        """True when the gate holds these deliveries (they wait in state.held)."""
        if self.signal_gate is None or not self.signal_gate(self.icount, infos):
            return False
        self.state.held = infos
        return True

    def release_held(self) -> tuple[SigInfo, ...]:
        """Make the deliveries the gate held: build their frames (no instruction runs)."""
        held, self.state.held = self.state.held, ()
        for info in held:
            self.enter_handler(info)
        return held

    def sigreturn(self) -> None:
        """rt_sigreturn: back to the interrupted state, then any signal now unblocked."""
        mask = SIGNAL_FRAMES[self.machine.arch.name][1](self.machine)
        self.thread.sigmask = mask & ~sig.UNBLOCKABLE
        self.deliver_pending()
        raise NoReturnValue()

    def handler_due(self) -> bool:
        """A handler will be entered when this system call returns."""
        return any(not i.ignored for i in self._to_deliver)

    def deliver_pending(self) -> int:
        """After the mask changed: act on the lowest pending signal now unblocked."""
        while ready := self.thread.pending & ~self.thread.sigmask:
            signum = (ready & -ready).bit_length()
            self.thread.pending &= ~(1 << (signum - 1))
            code = self.thread.pending_codes.pop(signum, SI_USER)
            self.deliver_self_signal(signum, code)      # raises GuestExit when fatal
        return 0

    # -- saving and restoring (checkpoints) -----------------------------------------
    def saved_fields(self) -> tuple:
        """What a checkpoint keeps of this process (Family.save copies all processes' at once)."""
        return (self.state, self.fds, self.exe, self.exe_image, self.arg_span, self.env_span)

    def restore_fields(self, fields: tuple) -> None:
        self.state, self.fds, self.exe, self.exe_image, self.arg_span, self.env_span = fields

    def save(self) -> KernelSnapshot:
        state, fds = copy.deepcopy((self.state, self.fds))
        return KernelSnapshot(state, fds)

    def restore(self, snapshot: KernelSnapshot) -> None:
        self.state, self.fds = copy.deepcopy((snapshot.state, snapshot.fds))

    @property
    def held(self) -> tuple[SigInfo, ...]:
        """Deliveries waiting at the signal gate (not yet made)."""
        return self.state.held

    # -- set-up ---------------------------------------------------------------------
    def set_exec_image(self, program: bytes, arg_span: tuple[int, int], env_span: tuple[int, int]) -> None:
        """The program file's bytes (the trace's captured copy) and the address
        ranges of argv's and envp's strings, for /proc/self (procfs.py)."""
        self.exe_image = program
        self.arg_span = arg_span
        self.env_span = env_span

    def setup_std_streams(self) -> None:
        for fd, flags in ((0, 0), (1, 1), (2, 1)):
            f = OpenFile(self.fds.new_handle(), FileKind.CHAR, f"/dev/std{['in', 'out', 'err'][fd]}",
                         flags, std_stream=fd)
            self.fds.install(fd, f)

    def clock(self, source: ClockSource, clock_id: int) -> int:
        return self.host.clock(self.icount, source, clock_id)

