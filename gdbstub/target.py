"""The contract between the gdb stub and whatever it debugs.

The stub speaks the GDB Remote Serial Protocol on one side and calls only the
:class:`Target` protocol on the other.  Everything the stub needs to know about
the debuggee (its registers, its capabilities, why it stopped) is expressed
here in plain values, so the protocol code never learns about Unicorn, the
replay engine or any particular architecture.

A target advertises what it can do through :attr:`Target.capabilities`; the
stub only offers gdb the features that appear there (``ReverseStep+`` comes
from :attr:`Capability.REVERSE_STEP`, never from a constant).
"""

from __future__ import annotations

import errno as _errno
import os
import stat as _stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntFlag
from types import MappingProxyType
from typing import Protocol, runtime_checkable

SIGINT = 2
SIGTRAP = 5


class Capability(Enum):
    """Optional features a target may offer; the stub advertises only these."""

    REVERSE_STEP = "reverse-step"
    REVERSE_CONTINUE = "reverse-continue"
    SW_BREAK = "sw-break"
    HW_BREAK = "hw-break"
    WATCH_WRITE = "watch-write"
    WATCH_READ = "watch-read"
    WATCH_ACCESS = "watch-access"
    HOST_IO = "host-io"
    AUXV = "auxv"
    EXEC_FILE = "exec-file"
    MONITOR = "monitor"
    WRITE_REGISTERS = "write-registers"
    WRITE_MEMORY = "write-memory"
    PASS_SIGNALS = "pass-signals"  # QPassSignals / QProgramSignals
    PROCESS_EVENTS = "process-events"  # fork-events+ / vfork-events+ / exec-events+
    CATCH_SYSCALLS = "catch-syscalls"  # QCatchSyscalls: gdb's `catch syscall`


class Direction(Enum):
    """Which way execution runs when resumed."""

    FORWARD = "forward"
    BACKWARD = "backward"


class StopKind(Enum):
    """Closed set of reasons a target can report for being stopped."""

    SIGNAL = "signal"  # stopped with StopReason.signal (e.g. 11 for SIGSEGV)
    SW_BREAK = "sw-break"  # software breakpoint (Z0) hit
    HW_BREAK = "hw-break"  # hardware breakpoint (Z1) hit
    WATCH = "watch"  # write watchpoint (Z2) triggered at StopReason.address
    RWATCH = "rwatch"  # read watchpoint (Z3)
    AWATCH = "awatch"  # access watchpoint (Z4)
    REPLAY_BEGIN = "replay-begin"  # ran backwards into the start of the recording
    REPLAY_END = "replay-end"  # ran forwards into the end of the recording
    EXITED = "exited"  # process exited with StopReason.exit_status
    TERMINATED = "terminated"  # process killed by StopReason.signal
    INTERRUPTED = "interrupted"  # should_stop() returned True (gdb's Ctrl-C)
    FORK = "fork"  # the process forked StopReason.child (the child runs on, not debugged)
    VFORK = "vfork"  # the process vforked StopReason.child
    VFORK_DONE = "vfork-done"  # that vfork's child exec'd or exited: the parent runs again
    EXEC = "exec"  # the process exec'd StopReason.path (now at the new program's entry)
    SYSCALL_ENTRY = "syscall-entry"  # a caught system call, StopReason.syscall, is entered
    SYSCALL_RETURN = "syscall-return"  # it returned


_WATCH_KINDS = frozenset({StopKind.WATCH, StopKind.RWATCH, StopKind.AWATCH})


@dataclass(frozen=True)
class StopReason:
    """Why the target is stopped.

    ``signal`` is reported in ``T`` stop replies (default SIGTRAP) and in
    ``X`` replies for :attr:`StopKind.TERMINATED`.  ``address`` is the data
    address for watchpoint stops.  ``exit_status`` is the process exit code
    for :attr:`StopKind.EXITED`.  ``child`` is the new process's pid for
    :attr:`StopKind.FORK` and :attr:`StopKind.VFORK`, ``path`` the program
    of an :attr:`StopKind.EXEC`, ``syscall`` the number of a
    :attr:`StopKind.SYSCALL_ENTRY`'s or :attr:`StopKind.SYSCALL_RETURN`'s call.
    """

    kind: StopKind
    signal: int = SIGTRAP
    address: int | None = None
    exit_status: int | None = None
    child: int | None = None
    path: str | None = None
    syscall: int | None = None

    def __post_init__(self) -> None:
        if self.kind in _WATCH_KINDS and self.address is None:
            raise ValueError(f"{self.kind.name} stop needs an address")
        if self.kind is StopKind.EXITED and self.exit_status is None:
            raise ValueError("EXITED stop needs an exit_status")
        if self.kind in (StopKind.FORK, StopKind.VFORK) and self.child is None:
            raise ValueError(f"{self.kind.name} stop needs the child's pid")
        if self.kind is StopKind.EXEC and self.path is None:
            raise ValueError("EXEC stop needs the program's path")
        if self.kind in (StopKind.SYSCALL_ENTRY, StopKind.SYSCALL_RETURN) and self.syscall is None:
            raise ValueError(f"{self.kind.name} stop needs the call's number")


class BreakKind(Enum):
    """Breakpoint and watchpoint kinds; the value is the digit in ``Zn``/``zn``."""

    SOFTWARE = 0
    HARDWARE = 1
    WRITE = 2
    READ = 3
    ACCESS = 4


BREAK_CAPABILITY: Mapping[BreakKind, Capability] = MappingProxyType({
    BreakKind.SOFTWARE: Capability.SW_BREAK,
    BreakKind.HARDWARE: Capability.HW_BREAK,
    BreakKind.WRITE: Capability.WATCH_WRITE,
    BreakKind.READ: Capability.WATCH_READ,
    BreakKind.ACCESS: Capability.WATCH_ACCESS,
})
"""Which capability a target needs before the stub accepts each ``Z`` kind."""


class TargetError(Exception):
    """A target operation failed; ``errno`` goes on the wire as ``Exx`` or ``F-1,errno``."""

    def __init__(self, errno: int, message: str = "") -> None:
        self.errno = errno
        super().__init__(message or _errno.errorcode.get(errno, f"errno {errno}"))


@dataclass(frozen=True)
class RegisterInfo:
    """One register as gdb sees it.

    ``regnum`` is gdb's register number (the ``p``/``P`` index and the position
    in the ``g`` packet); ``type`` is a target-description type name such as
    ``int64``, ``code_ptr``, ``i387_ext`` or ``vec128``; ``feature`` names the
    ``<feature>`` element the register belongs to.  ``expedite`` registers are
    sent along with every stop reply so gdb need not ask for them.
    """

    name: str
    bitsize: int
    type: str
    regnum: int
    feature: str
    group: str | None = None
    expedite: bool = False

    @property
    def size(self) -> int:
        """Size in bytes."""
        return (self.bitsize + 7) // 8


@dataclass(frozen=True)
class TargetDescription:
    """Architecture-level facts the stub needs: the register table and names for target.xml.

    ``types`` holds the XML of the non-builtin types the registers use
    (``<flags>``, ``<vector>``, ``<union>``), by type id; a target describing
    another architecture brings its own (gdbstub.features knows x86-64's).
    """

    architecture: str
    registers: tuple[RegisterInfo, ...]
    osabi: str | None = None
    types: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, reg in enumerate(self.registers):
            if reg.regnum != index:
                raise ValueError(
                    f"register {reg.name} has regnum {reg.regnum}, expected {index}"
                )

    @property
    def g_packet_size(self) -> int:
        """Bytes in a ``g`` reply (before hex encoding)."""
        return sum(reg.size for reg in self.registers)


class HostOpenFlags(IntFlag):
    """Open flags as gdb encodes them in ``vFile:open`` (not the host's O_* values)."""

    RDONLY = 0
    WRONLY = 1
    RDWR = 2
    APPEND = 0x8
    CREAT = 0x200
    TRUNC = 0x400
    EXCL = 0x800


def host_flags_to_os(flags: int) -> int:
    """Translate ``vFile:open`` flags into this host's ``os.O_*`` flags."""
    result = (os.O_RDONLY, os.O_WRONLY, os.O_RDWR, os.O_RDWR)[flags & 3]
    for gdb_flag, os_flag in (
        (HostOpenFlags.APPEND, os.O_APPEND),
        (HostOpenFlags.CREAT, os.O_CREAT),
        (HostOpenFlags.TRUNC, os.O_TRUNC),
        (HostOpenFlags.EXCL, os.O_EXCL),
    ):
        if flags & gdb_flag:
            result |= os_flag
    return result


@dataclass(frozen=True)
class HostStat:
    """File status for ``vFile:fstat``; packed by :func:`gdbstub.replies.pack_host_stat`."""

    size: int
    mode: int = _stat.S_IFREG | 0o644
    dev: int = 0
    ino: int = 0
    nlink: int = 1
    uid: int = 0
    gid: int = 0
    rdev: int = 0
    blksize: int = 4096
    blocks: int | None = None  # None: derived from size in 512-byte units
    atime: int = 0
    mtime: int = 0
    ctime: int = 0

    @classmethod
    def from_os_stat(cls, st: os.stat_result) -> HostStat:
        return cls(
            size=st.st_size,
            mode=st.st_mode,
            dev=st.st_dev,
            ino=st.st_ino,
            nlink=st.st_nlink,
            uid=st.st_uid,
            gid=st.st_gid,
            rdev=st.st_rdev,
            blksize=getattr(st, "st_blksize", 4096),
            blocks=getattr(st, "st_blocks", None),
            atime=int(st.st_atime),
            mtime=int(st.st_mtime),
            ctime=int(st.st_ctime),
        )


@dataclass(frozen=True)
class ThreadInfo:
    """One live thread of the debugged process, as ``info threads`` names it."""

    tid: int
    name: str = ""


ShouldStop = Callable[[], bool]


@runtime_checkable
class Target(Protocol):
    """What the stub needs from a debuggee: one process, one or more threads.

    ``tid`` is the current thread: the one the last stop happened in (gdb
    switches to it).  Every thread stops and resumes together (all-stop).
    Methods signal failure by raising :class:`TargetError`.  Methods tied to a
    capability are only called when that capability is present.
    """

    capabilities: frozenset[Capability]
    description: TargetDescription
    pid: int
    tid: int

    def threads(self) -> Sequence[ThreadInfo]:
        """The process's live threads here, ordered by tid (the current one among them)."""
        ...

    def stop_reason(self) -> StopReason:
        """Why the target is currently stopped (answers ``?``)."""
        ...

    def read_registers(self, tid: int | None = None) -> list[int | None]:
        """Thread ``tid``'s register values (None: the current thread's), in
        ``description.registers`` order; None = unavailable."""
        ...

    def write_register(self, regnum: int, value: int, tid: int | None = None) -> None:
        """Needs WRITE_REGISTERS.  ``tid`` as for :meth:`read_registers`."""
        ...

    def read_memory(self, addr: int, length: int) -> bytes:
        """May return fewer bytes than asked; raise TargetError(EFAULT/EIO) if none are readable."""
        ...

    def write_memory(self, addr: int, data: bytes) -> None:
        """Needs WRITE_MEMORY."""
        ...

    def resume(
        self, step: bool, direction: Direction, should_stop: ShouldStop, tid: int | None = None
    ) -> StopReason:
        """Run (or single-step) in ``direction`` until a stop; poll ``should_stop`` often.

        All threads run.  A step is one instruction of thread ``tid`` (None: the
        current thread), other threads' instructions in between included; after
        the stop :attr:`tid` names the thread it happened in.
        """
        ...

    def insert_breakpoint(self, kind: BreakKind, addr: int, length: int) -> None: ...

    def remove_breakpoint(self, kind: BreakKind, addr: int, length: int) -> None: ...

    def auxv(self) -> bytes:
        """Needs AUXV: the raw auxiliary vector."""
        ...

    def exec_file(self) -> str:
        """Needs EXEC_FILE: absolute path of the executable."""
        ...

    def host_open(self, path: str, flags: int, mode: int) -> int:
        """Needs HOST_IO.  ``flags`` use gdb's encoding (see HostOpenFlags)."""
        ...

    def host_pread(self, fd: int, count: int, offset: int) -> bytes: ...

    def host_readlink(self, path: str) -> str:
        """Needs HOST_IO: the target of a symbolic link (``/proc/PID/exe``, ``cwd``)."""
        ...

    def host_close(self, fd: int) -> None: ...

    def host_fstat(self, fd: int) -> HostStat: ...

    def monitor(self, command: str, should_stop: ShouldStop) -> str:
        """Needs MONITOR: run a ``monitor`` command, return its output text.

        A command that moves in time polls ``should_stop`` like :meth:`resume`
        (gdb's Ctrl-C, or gdb gone).
        """
        ...

    def pass_signals(self, signals: frozenset[int]) -> None:
        """Needs PASS_SIGNALS: deliver these signals without reporting a stop."""
        ...

    def program_signals(self, signals: frozenset[int]) -> None:
        """Needs PASS_SIGNALS: only these may reach the program when gdb resumes with them."""
        ...

    def process_events(self, fork: bool, vfork: bool, exec: bool) -> None:
        """Needs PROCESS_EVENTS: which of the process's forks, vforks and execs gdb asked to
        hear of (qSupported): forward continues stop at those (a VFORK_DONE follows a VFORK
        reported), with breakpoints and watchpoints gone at an EXEC, as gdb then takes them."""
        ...

    def catch_syscalls(self, numbers: frozenset[int] | None, enabled: bool) -> None:
        """Needs CATCH_SYSCALLS: continues stop at these system calls' entries and
        returns (None: every call's), in the target architecture's numbering;
        ``enabled`` False: no more."""
        ...

    def kill(self) -> None: ...

    def detach(self) -> None: ...
