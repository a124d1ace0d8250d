"""Threads of the emulated process: per-thread kernel state and what a thread waits on.

Linux splits a process's state in two, and so does this kernel: what every
thread of a thread group shares (fds, cwd, sigactions, brk, the exec image,
memory: KernelState in kernel.py, and the Machine) and what each thread has
of its own (`ThreadState` here: its tid, signal mask, pending signals,
alternate stack, name, clear_child_tid and robust list, and what it is
blocked on).  All threads of a process share one Machine (one Unicorn
address space); a thread not running keeps its CPU in `context`, a saved
Unicorn context (picklable, as checkpoints need), swapped in by the
scheduler (scheduler.py).

Thread ids are allocated by this kernel, deterministically: the process's
pid, then pid+1, pid+2, ... so the recording and every replay agree.

`ThreadInfo` and `ProcessInfo` are the public values front ends see.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .sigframe import AltStack

TASK_LIMIT = 4096          # threads a recording may create (more: EAGAIN)


@dataclass(frozen=True)
class ThreadInfo:
    """One live thread of the debugged process, as front ends see it."""

    tid: int
    pid: int
    name: str                 # its comm (PR_SET_NAME, else the program file's name)


@dataclass(frozen=True)
class ProcessInfo:
    """One process of a trace (for `ttdbg ps` and `ttdbg info`)."""

    pid: int
    ppid: int
    exit_status: int | None   # the shell-style status; None: it did not end in the recording
    argv: tuple[str, ...]

    @property
    def cmd(self) -> str:
        return " ".join(self.argv)


class WaitKind(enum.Enum):
    """What a blocked thread waits for."""

    FUTEX = "futex"           # a futex word (address), woken by FUTEX_WAKE & co or a timeout
    SLEEP = "sleep"           # nanosleep: only its deadline ends it
    JOIN = "join"             # wait4/waitid: a child's exit (the call is made again when one ends)
    PIPE = "pipe"             # a read of an empty in-guest pipe or a write to a full one (made again when it changes)
    VFORK = "vfork"           # vfork's parent: until the child execs or exits
    HOST = "host"             # a read of a terminal or outside pipe with no input yet (made again when it comes)
    SIGNAL = "signal"         # pause, rt_sigsuspend: until a signal's handler runs (EINTR)
    POLL = "poll"             # poll/select/epoll_wait with nothing ready (made again when one of `fds` is)
    SOCKET = "socket"         # a blocking socket call (accept, recv, send) that must wait (made again, as POLL)


@dataclass
class Wait:
    kind: WaitKind
    address: int = 0
    bitset: int = 0xFFFFFFFF
    deadline: int | None = None        # ns on `clock`; None: no timeout
    clock: int = 1                     # CLOCK_MONOTONIC unless told otherwise
    timeout_result: int = 0            # rax when the deadline ends the wait (-ETIMEDOUT, 0)
    order: int = 0                     # when it began (KernelState.wait_order): FIFO wake-ups
    sysno: int = 0                     # the system call that waits (made again after SA_RESTART)
    fds: tuple[tuple[int, int], ...] = ()   # POLL, SOCKET: the (fd, poll events) it waits for

    @property
    def restartable(self) -> bool:
        """A signal handler with SA_RESTART makes the call again (Linux: futex waits without a timeout)."""
        return (self.kind == WaitKind.FUTEX and self.deadline is None) or self.kind in (
            WaitKind.PIPE, WaitKind.JOIN, WaitKind.HOST, WaitKind.SOCKET)

    @property
    def retried(self) -> bool:
        """Ended by making the call again (input came), not by a result of its own."""
        return self.kind in (WaitKind.HOST, WaitKind.POLL, WaitKind.SOCKET)

    def describe(self) -> str:
        what = {WaitKind.FUTEX: f"futex {self.address:#x}", WaitKind.SLEEP: "nanosleep",
                WaitKind.JOIN: "a child's exit (wait4)", WaitKind.PIPE: "a pipe",
                WaitKind.VFORK: f"its vfork child {self.address}",
                WaitKind.HOST: f"input on fd {self.address}", WaitKind.SIGNAL: "a signal (pause)",
                WaitKind.POLL: f"fds {[fd for fd, _ in self.fds]} (poll)",
                WaitKind.SOCKET: f"socket fd {self.fds[0][0] if self.fds else -1}"}[self.kind]
        return what + ("" if self.deadline is None else " (with a timeout)")


@dataclass
class ThreadState:
    """One thread's own kernel state (the shared part is KernelState)."""

    tid: int
    sigmask: int = 0
    pending: int = 0          # signals sent while blocked (bit N-1 for signal N)
    pending_codes: dict[int, int] = field(default_factory=dict)   # their si_code
    suspended_mask: int | None = None   # during rt_sigsuspend: the mask it replaced (a handler's frame keeps it)
    altstack: AltStack = field(default_factory=AltStack)
    comm: bytes = b""         # PR_SET_NAME's name; b"": the program file's
    clear_child_tid: int = 0  # set_tid_address / CLONE_CHILD_CLEARTID: zeroed and woken at exit
    robust_list: int = 0      # set_robust_list's head (kept; futexes are not recovered)
    wait: Wait | None = None  # what it is blocked on; None: runnable
    resume_deadline: int | None = None   # a POLL wait's deadline (CLOCK_MONOTONIC ns), for the call made again
    context: object | None = None   # its CPU while it is not running (a Unicorn context)
    exited: bool = False

    @property
    def runnable(self) -> bool:
        return not self.exited and self.wait is None
