"""The replay log's vocabulary: one enum of event kinds, one dataclass each.

Modelled on QEMU's replay/replay-internal.h: every non-deterministic input
of a recorded run becomes one event, stamped with the exact guest
instruction count at which it happened.  The codes are fixed forever; a new
kind takes a new code and bumps LOG_VERSION in eventlog.py.  Each kind's
encoder and decoder stand side by side so they cannot drift apart.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar


class EventKind(enum.IntEnum):
    CHAR_READ = 1        # bytes read from a character device, pipe or host file
    CHAR_WRITE = 2       # result of a write to a character device or host file
    CLOCK = 3            # a clock read (clock_gettime, gettimeofday, time, rdtsc)
    RANDOM = 4           # random bytes (getrandom, rdrand, rdseed, AT_RANDOM)
    SYSCALL = 5          # any other non-deterministic syscall: result + memory
    FILE_OPEN = 6        # an open of a host path, with the captured content hash
    EXCEPTION = 7        # a fault or a fatal signal ending the run
    SHUTDOWN = 8         # the program ended (exit status / signal / interrupt)
    STATE_HASH = 9       # a digest of the machine state at a fixed instruction count (verified by replay)
    END = 10             # the log is complete
    TASK_SWITCH = 11     # the scheduler switched to another thread (its tid) at this count (log version 3)
    PROCESS = 12         # a process started (fork), exec'd or ended: for `ttdbg ps` (log version 3)
    ASYNC_SIGNAL = 16    # a signal from outside the program (a timer expiring) delivered at this count

    @classmethod
    def named(cls, name: str) -> EventKind:
        """The kind called `name`, in any case (as `ttdbg dump --kind` takes it);
        `checkpoint`, STATE_HASH's name in earlier versions, still means it.
        Raises KeyError for any other name."""
        key = name.strip().upper()
        return cls[_FORMER_NAMES.get(key, key)]


_FORMER_NAMES = {"CHECKPOINT": "STATE_HASH"}


class ClockSource(enum.IntEnum):
    CLOCK_GETTIME = 0
    GETTIMEOFDAY = 1
    TIME = 2
    RDTSC = 3
    RDTSCP = 4


class RandomSource(enum.IntEnum):
    GETRANDOM = 0
    RDRAND = 1
    RDSEED = 2
    AT_RANDOM = 3


class FileKind(enum.IntEnum):
    NONE = 0         # the open failed
    CAPTURED = 1     # regular file read-only: content captured by hash
    HOST = 2         # regular file opened for writing: host pass-through
    CHAR = 3         # character device, fifo or socket: host pass-through
    DIRECTORY = 4


class ShutdownReason(enum.IntEnum):
    EXIT = 0          # exit/exit_group: status is the exit code
    SIGNAL = 1        # killed by a signal: status is the signal number
    INTERRUPTED = 2   # the recording was stopped (Ctrl-C)
    ERROR = 3         # the recorder stopped on an emulation error
    DEADLOCK = 4      # every thread waited on another: the recording ended there


class ExceptionCause(enum.IntEnum):
    FAULT = 0         # CPU fault (segv, ill, fpe, trap)
    KILL = 1          # kill/tgkill/tkill to itself (abort, raise)


MAX_SIGNAL = 64
_I64 = struct.Struct("<q")
_U32 = struct.Struct("<I")


def _pack_bytes(data: bytes) -> bytes:
    return _U32.pack(len(data)) + data


def _unpack_bytes(buf: bytes, off: int) -> tuple[bytes, int]:
    (n,) = _U32.unpack_from(buf, off)
    off += 4
    if off + n > len(buf):
        raise ValueError("byte string runs past the event")
    return buf[off:off + n], off + n


@dataclass(frozen=True)
class Event:
    """Base class: every event has its instruction count."""

    icount: int
    kind: ClassVar[EventKind]

    def encode(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "Event":
        raise NotImplementedError

    def describe(self) -> str:
        """One line for `ttdbg dump` and divergence messages."""
        return self.kind.name


@dataclass(frozen=True)
class CharRead(Event):
    fd: int
    result: int          # bytes read, or -errno
    data: bytes = b""
    kind: ClassVar[EventKind] = EventKind.CHAR_READ
    _S: ClassVar[struct.Struct] = struct.Struct("<iq")

    def encode(self) -> bytes:
        return self._S.pack(self.fd, self.result) + _pack_bytes(self.data)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "CharRead":
        fd, result = cls._S.unpack_from(payload, 0)
        data, _ = _unpack_bytes(payload, cls._S.size)
        return cls(icount, fd, result, data)

    def describe(self) -> str:
        preview = self.data[:24]
        more = "..." if len(self.data) > 24 else ""
        return f"CHAR_READ fd={self.fd} result={self.result} data={preview!r}{more}"


@dataclass(frozen=True)
class CharWrite(Event):
    fd: int
    count: int           # bytes the guest asked to write
    result: int          # bytes written, or -errno
    kind: ClassVar[EventKind] = EventKind.CHAR_WRITE
    _S: ClassVar[struct.Struct] = struct.Struct("<iqq")

    def encode(self) -> bytes:
        return self._S.pack(self.fd, self.count, self.result)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "CharWrite":
        return cls(icount, *cls._S.unpack_from(payload, 0))

    def describe(self) -> str:
        return f"CHAR_WRITE fd={self.fd} count={self.count} result={self.result}"


@dataclass(frozen=True)
class Clock(Event):
    source: ClockSource
    clock_id: int
    value: int           # nanoseconds (or TSC ticks for rdtsc/rdtscp)
    aux: int = 0         # rdtscp's TSC_AUX
    kind: ClassVar[EventKind] = EventKind.CLOCK
    _S: ClassVar[struct.Struct] = struct.Struct("<BiqQ")

    def encode(self) -> bytes:
        return self._S.pack(self.source, self.clock_id, self.value, self.aux)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "Clock":
        source, clock_id, value, aux = cls._S.unpack_from(payload, 0)
        return cls(icount, ClockSource(source), clock_id, value, aux)

    def describe(self) -> str:
        return f"CLOCK {self.source.name.lower()} clock={self.clock_id} value={self.value}"


@dataclass(frozen=True)
class Random(Event):
    source: RandomSource
    data: bytes
    kind: ClassVar[EventKind] = EventKind.RANDOM

    def encode(self) -> bytes:
        return bytes([self.source]) + _pack_bytes(self.data)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "Random":
        data, _ = _unpack_bytes(payload, 1)
        return cls(icount, RandomSource(payload[0]), data)

    def describe(self) -> str:
        return f"RANDOM {self.source.name.lower()} {self.data.hex()}"


@dataclass(frozen=True)
class SyscallResult(Event):
    sysno: int           # the trace's architecture's number (log version 5; x86-64's before)
    result: int
    writes: tuple[tuple[int, bytes], ...] = field(default_factory=tuple)
    # The call's name in the trace's architecture, not stored: read_log sets it from the header.
    name: str = field(default="", compare=False)
    kind: ClassVar[EventKind] = EventKind.SYSCALL
    _S: ClassVar[struct.Struct] = struct.Struct("<HqH")
    _W: ClassVar[struct.Struct] = struct.Struct("<Q")

    def encode(self) -> bytes:
        out = [self._S.pack(self.sysno, self.result, len(self.writes))]
        for addr, data in self.writes:
            out.append(self._W.pack(addr) + _pack_bytes(data))
        return b"".join(out)

    @classmethod
    def decode(cls, icount: int, payload: bytes, names: Mapping[int, str] | None = None) -> "SyscallResult":
        sysno, result, nwrites = cls._S.unpack_from(payload, 0)
        off = cls._S.size
        writes = []
        for _ in range(nwrites):
            (addr,) = cls._W.unpack_from(payload, off)
            data, off = _unpack_bytes(payload, off + 8)
            writes.append((addr, data))
        return cls(icount, sysno, result, tuple(writes), names.get(sysno, "") if names else "")

    def describe(self) -> str:
        sizes = ",".join(str(len(d)) for _, d in self.writes)
        return (f"SYSCALL {self.name or f'syscall_{self.sysno}'} (nr {self.sysno}) result={self.result} "
                f"writes=[{sizes}]")


@dataclass(frozen=True)
class FileOpen(Event):
    path: str
    flags: int
    result: int          # the guest fd, or -errno
    file_kind: FileKind
    sha256: str = ""     # hex digest of the captured content (CAPTURED)
    size: int = 0
    kind: ClassVar[EventKind] = EventKind.FILE_OPEN
    _S: ClassVar[struct.Struct] = struct.Struct("<iqBQ")

    def encode(self) -> bytes:
        digest = bytes.fromhex(self.sha256) if self.sha256 else b""
        return (self._S.pack(self.flags, self.result, self.file_kind, self.size)
                + _pack_bytes(self.path.encode("utf-8", "surrogateescape"))
                + _pack_bytes(digest))

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "FileOpen":
        flags, result, file_kind, size = cls._S.unpack_from(payload, 0)
        path, off = _unpack_bytes(payload, cls._S.size)
        digest, _ = _unpack_bytes(payload, off)
        if len(digest) not in (0, 32) or (file_kind == FileKind.CAPTURED and result >= 0) != bool(digest):
            raise ValueError("a captured file has one 32-byte SHA-256 digest, other opens none")
        return cls(icount, path.decode("utf-8", "surrogateescape"), flags, result,
                   FileKind(file_kind), digest.hex(), size)

    def describe(self) -> str:
        extra = f" sha256={self.sha256[:16]} size={self.size}" if self.sha256 else ""
        return (f"FILE_OPEN {self.path!r} flags={self.flags:#o} result={self.result} "
                f"{self.file_kind.name.lower()}{extra}")


@dataclass(frozen=True)
class GuestException(Event):
    signal: int
    cause: ExceptionCause
    pc: int
    address: int = 0     # faulting data address, when known
    kind: ClassVar[EventKind] = EventKind.EXCEPTION
    _S: ClassVar[struct.Struct] = struct.Struct("<BBQQ")

    def encode(self) -> bytes:
        return self._S.pack(self.signal, self.cause, self.pc, self.address)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "GuestException":
        sig, cause, pc, addr = cls._S.unpack_from(payload, 0)
        if not 1 <= sig <= MAX_SIGNAL:
            raise ValueError(f"no signal {sig}")
        return cls(icount, sig, ExceptionCause(cause), pc, addr)

    def describe(self) -> str:
        from .linux.signals import signal_name

        return (f"EXCEPTION {signal_name(self.signal)} ({self.cause.name.lower()}) "
                f"pc={self.pc:#x} addr={self.address:#x}")


@dataclass(frozen=True)
class Shutdown(Event):
    reason: ShutdownReason
    status: int
    kind: ClassVar[EventKind] = EventKind.SHUTDOWN
    _S: ClassVar[struct.Struct] = struct.Struct("<Bi")

    def encode(self) -> bytes:
        return self._S.pack(self.reason, self.status)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "Shutdown":
        reason, status = cls._S.unpack_from(payload, 0)
        if reason == ShutdownReason.SIGNAL and not 1 <= status <= MAX_SIGNAL:
            raise ValueError(f"no signal {status}")
        return cls(icount, ShutdownReason(reason), status)

    def exit_status(self) -> int:
        """The status a shell reports: the exit code, or 128+N for signal N."""
        if self.reason == ShutdownReason.EXIT:
            return self.status & 0xFF
        if self.reason == ShutdownReason.SIGNAL:
            return 128 + self.status
        return 130 if self.reason == ShutdownReason.INTERRUPTED else 1

    def describe(self) -> str:
        return f"SHUTDOWN {self.reason.name.lower()} status={self.status}"


@dataclass(frozen=True)
class StateHash(Event):
    state_hash: bytes
    kind: ClassVar[EventKind] = EventKind.STATE_HASH

    def encode(self) -> bytes:
        return _pack_bytes(self.state_hash)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "StateHash":
        h, _ = _unpack_bytes(payload, 0)
        return cls(icount, h)

    def describe(self) -> str:
        return f"STATE_HASH {self.state_hash.hex()[:16]}"


@dataclass(frozen=True)
class TaskSwitch(Event):
    """The scheduler ran thread `tid` from this count on (scheduler.py): a
    thread blocked or yielded, or its time slice ended.  Replay switches at
    the same count."""

    tid: int
    kind: ClassVar[EventKind] = EventKind.TASK_SWITCH
    _S: ClassVar[struct.Struct] = struct.Struct("<i")

    def encode(self) -> bytes:
        return self._S.pack(self.tid)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "TaskSwitch":
        (tid,) = cls._S.unpack_from(payload, 0)
        if tid <= 0:
            raise ValueError(f"no thread {tid}")
        return cls(icount, tid)

    def describe(self) -> str:
        return f"TASK_SWITCH to tid {self.tid}"


class ProcessChange(enum.IntEnum):
    START = 0         # fork/vfork/clone made it (argv: empty, the parent's still)
    EXEC = 1          # it ran execve (argv: the new one)
    EXIT = 2          # it ended (status: its wait status: the exit code << 8, or the signal)


@dataclass(frozen=True)
class ProcessEvent(Event):
    """A process of the recording started, exec'd or ended (only in recordings
    with several processes).  Emulated, so replay makes the same ones: they are
    in the log for `ttdbg ps` and `ttdbg info`, and verified by the replay."""

    pid: int
    ppid: int
    change: ProcessChange
    status: int = 0
    argv: tuple[str, ...] = ()
    kind: ClassVar[EventKind] = EventKind.PROCESS
    _S: ClassVar[struct.Struct] = struct.Struct("<iiBiI")

    def encode(self) -> bytes:
        out = [self._S.pack(self.pid, self.ppid, self.change, self.status, len(self.argv))]
        out += [_pack_bytes(a.encode("utf-8", "surrogateescape")) for a in self.argv]
        return b"".join(out)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "ProcessEvent":
        pid, ppid, change, status, n = cls._S.unpack_from(payload, 0)
        if n > len(payload):
            raise ValueError("more arguments than bytes")
        off = cls._S.size
        argv = []
        for _ in range(n):
            arg, off = _unpack_bytes(payload, off)
            argv.append(arg.decode("utf-8", "surrogateescape"))
        return cls(icount, pid, ppid, ProcessChange(change), status, tuple(argv))

    def describe(self) -> str:
        extra = f" status={self.status}" if self.change == ProcessChange.EXIT else ""
        args = f" argv={list(self.argv)!r}" if self.argv else ""
        return f"PROCESS {self.change.name.lower()} pid={self.pid} ppid={self.ppid}{extra}{args}"


@dataclass(frozen=True)
class AsyncSignal(Event):
    """A signal that arrived from outside the program (one of its timers
    expiring, or, `external`, sent by another host process to the recording)
    while it ran, delivered to process `pid` at exactly this instruction count.
    `external` is the signal byte's high bit (logs without it: a timer's)."""

    signal: int
    pid: int
    external: bool = False
    kind: ClassVar[EventKind] = EventKind.ASYNC_SIGNAL
    _S: ClassVar[struct.Struct] = struct.Struct("<Bi")
    EXTERNAL: ClassVar[int] = 0x80

    def encode(self) -> bytes:
        return self._S.pack(self.signal | (self.EXTERNAL if self.external else 0), self.pid)

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "AsyncSignal":
        raw, pid = cls._S.unpack_from(payload, 0)
        sig = raw & ~cls.EXTERNAL
        if not 1 <= sig <= MAX_SIGNAL:
            raise ValueError(f"no signal {sig}")
        if pid <= 0:
            raise ValueError(f"no process {pid}")
        return cls(icount, sig, pid, bool(raw & cls.EXTERNAL))

    def describe(self) -> str:
        from .linux.signals import signal_name

        return f"ASYNC_SIGNAL {signal_name(self.signal)} to pid {self.pid}" + (" (sent from outside)"
                                                                             if self.external else "")


@dataclass(frozen=True)
class End(Event):
    kind: ClassVar[EventKind] = EventKind.END

    def encode(self) -> bytes:
        return b""

    @classmethod
    def decode(cls, icount: int, payload: bytes) -> "End":
        return cls(icount)


EVENT_CLASSES: dict[EventKind, type[Event]] = {
    cls.kind: cls
    for cls in (CharRead, CharWrite, Clock, Random, SyscallResult, FileOpen,
                GuestException, Shutdown, StateHash, End, TaskSwitch, ProcessEvent, AsyncSignal)
}

Decoder = Callable[[int, bytes], Event]


def decode_event(kind_code: int, icount: int, payload: bytes,
                 syscall_names: Mapping[int, str] | None = None) -> Event:
    """Decode one event; raises ValueError (only) on an unknown kind or a bad payload.
    `syscall_names`: the trace's architecture's, naming SYSCALL events (read_log's)."""
    try:
        kind = EventKind(kind_code)
    except ValueError:
        raise ValueError(f"unknown event kind {kind_code}") from None
    try:
        if kind == EventKind.SYSCALL:
            event: Event = SyscallResult.decode(icount, payload, syscall_names)
        else:
            event = EVENT_CLASSES[kind].decode(icount, payload)
    except (struct.error, ValueError, IndexError) as exc:
        raise ValueError(f"bad {kind.name} payload: {exc}") from None
    if event.encode() != payload:
        # Every payload has one encoding: anything else (trailing bytes, ...) is damage.
        raise ValueError(f"bad {kind.name} payload: {len(payload)} bytes where its fields take others")
    return event
