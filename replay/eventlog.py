"""The replay log's byte format: a versioned header, then framed events.

Layout (all integers little-endian; documented in README "Trace format"):

    header:  magic b"TTDBGLOG" | u16 version | u16 ELF machine | u32 n | n bytes JSON
             | u32 crc32(magic..JSON)          (version 2 and later; version 1 has none)
    event:   u8 kind | u64 icount | u32 n | n bytes payload | u32 crc32(kind..payload)

The writer appends each event with a single write() to an unbuffered file,
so a recording killed with SIGKILL leaves every complete event readable; the
reader stops cleanly at a torn last record and reports the log truncated.
A CRC mismatch anywhere else is corruption and refuses the log, and so is a
header whose fields have impossible types or sizes: a trace may come from a
stranger, and nothing in it reaches the rest of ttdbg unchecked.

The writer keeps a little disk space reserved ahead of the log (fallocate
with FALLOC_FL_KEEP_SIZE), so that when the device fills up the recording
can still be closed with its SHUTDOWN and END events.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import stat
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import LogFormatError
from .events import Event, EventKind, SyscallResult, decode_event
from .safeio import is_digest, read_regular

MAGIC = b"TTDBGLOG"
# 5: a SYSCALL event's number is the trace's architecture's (aarch64's write is 64): read
#    with the header's ELF machine, a log names its calls by itself.  Earlier logs stored
#    x86-64's numbers whatever the architecture: read_log renumbers them (NUMBERED_BY_ARCH);
# 4: system calls version 3 refused are recorded (file metadata, POSIX timers, resource limits...):
#    an older log that made one diverges there, saying so;
# 3: TASK_SWITCH, PROCESS and ASYNC_SIGNAL events; 2: the header has a CRC-32; 1 (still read): none
LOG_VERSION = 5
NUMBERED_BY_ARCH = 5            # the first version whose SYSCALL numbers are the architecture's
EM_X86_64 = 62
EM_AARCH64 = 183
EM_RISCV = 243
EM_ARM = 40             # a board's Cortex-M (replay/board/mps2.py)
ARCH_NAMES = {EM_X86_64: "x86-64", EM_AARCH64: "aarch64", EM_RISCV: "riscv64", EM_ARM: "arm"}
RECORDED_MACHINES = frozenset(ARCH_NAMES)

_HEAD = struct.Struct("<8sHHI")
_EVHEAD = struct.Struct("<BQI")
_CRC = struct.Struct("<I")
MAX_PAYLOAD = 1 << 30
MAX_HEADER = 64 << 20           # argv + env are bounded by the kernel's ARG_MAX, far below this
MAX_LOG = 1 << 40
MAX_STRING = 32 * 4096 - 1     # one argv/env string, in bytes (Linux: MAX_ARG_STRLEN with its NUL)
MAX_ARG_SPACE = 6 << 20         # argv + env strings and pointers (Linux: 3/4 of _STK_LIM)
MAX_PATH = 4096                 # PATH_MAX
MAX_PID = 1 << 22               # PID_MAX_LIMIT
_KINDS = frozenset(int(k) for k in EventKind)
_RESYNC_BUDGET = 64 << 20       # bytes checksummed while telling a torn last record from damage
_RESYNC_SPAN = 16 << 20         # a torn last record longer than this is taken for damage


@dataclass(frozen=True)
class TraceHeader:
    """What the recording was: program identity, argv, environment, ids."""

    machine: int
    program: str                 # absolute path at record time
    program_sha256: str
    argv: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    pid: int
    interpreter: str = ""        # PT_INTERP path for dynamic programs
    interpreter_sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def arch(self) -> str:
        """The architecture's name ("x86-64", "aarch64", "riscv64")."""
        return ARCH_NAMES.get(self.machine, f"ELF machine {self.machine}")

    def to_json(self) -> bytes:
        return json.dumps({
            "program": self.program, "program_sha256": self.program_sha256,
            "argv": list(self.argv), "env": list(self.env), "cwd": self.cwd,
            "pid": self.pid, "interpreter": self.interpreter,
            "interpreter_sha256": self.interpreter_sha256, "extra": self.extra,
        }, sort_keys=True).encode()

    @classmethod
    def from_json(cls, machine: int, blob: bytes) -> "TraceHeader":
        """Parse and validate; raises ValueError naming the first impossible field."""
        if machine not in RECORDED_MACHINES:
            raise ValueError(f"ELF machine {machine} (only x86-64, {EM_X86_64}, aarch64, "
                             f"{EM_AARCH64}, riscv64, {EM_RISCV}, and arm, {EM_ARM}, are recorded)")
        try:
            d = json.loads(blob)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        extra = d.get("extra", {})
        header = cls(machine, _path(d, "program"), _digest(d, "program_sha256"),
                     _strings(d, "argv"), _strings(d, "env"), _path(d, "cwd"), _pid(d),
                     _path(d, "interpreter", optional=True), _digest(d, "interpreter_sha256", optional=True),
                     _extra(extra))
        if bool(header.interpreter) != bool(header.interpreter_sha256):
            raise ValueError("interpreter and interpreter_sha256 must come together")
        space = sum(len(v.encode("utf-8", "surrogateescape")) + 1 + 8 for v in (*header.argv, *header.env))
        if space > MAX_ARG_SPACE:
            raise ValueError(f"argv and env take {space:,} bytes, more than Linux gives a program "
                             f"({MAX_ARG_SPACE:,})")
        return header


def _string(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    if len(value) > limit or "\0" in value:
        raise ValueError(f"{what} is too long or holds a NUL")
    try:
        size = len(value.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not a host string") from None
    if size > limit:
        raise ValueError(f"{what} is too long")
    return value


def _path(d: dict[str, Any], key: str, optional: bool = False) -> str:
    if optional and key not in d:
        return ""
    if key not in d:
        raise ValueError(f"no {key}")
    value = _string(d[key], key, MAX_PATH)
    if value and not value.startswith("/"):
        raise ValueError(f"{key} is not an absolute path")
    if not value and not optional:
        raise ValueError(f"{key} is empty")
    return value


def _digest(d: dict[str, Any], key: str, optional: bool = False) -> str:
    value = d.get(key, "" if optional else None)
    if optional and value == "":
        return ""
    if not is_digest(value):
        raise ValueError(f"{key} is not a SHA-256 hex digest")
    assert isinstance(value, str)
    return value


def _strings(d: dict[str, Any], key: str) -> tuple[str, ...]:
    value = d.get(key)
    if not isinstance(value, list) or len(value) > MAX_ARG_SPACE // 9:
        raise ValueError(f"{key} is not a list of strings (or too long a one)")
    return tuple(_string(v, f"{key}[{i}]", MAX_STRING) for i, v in enumerate(value))


def _int(value: object, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{what} is not an integer in [{low}, {high}]")
    return value


def _pid(d: dict[str, Any]) -> int:
    return _int(d.get("pid"), "pid", 1, MAX_PID)


_EXTRA_CHECKS = {
    "ids": lambda v: (isinstance(v, list) and len(v) == 4
                      and all(_int(x, "ids", 0, 0xFFFFFFFF) >= 0 for x in v)),
    "checkpoint_interval": lambda v: _int(v, "checkpoint_interval", 1, 1 << 62) > 0,
    "state_hash": lambda v: isinstance(v, str) and len(v) <= 64,
    "recorded_at": lambda v: isinstance(v, str) and len(v) <= 64,
}


def _extra(value: object) -> dict[str, Any]:
    """The header's open-ended `extra`: a JSON object whose known keys have their types."""
    if not isinstance(value, dict):
        raise ValueError("extra is not a JSON object")
    for key, check in _EXTRA_CHECKS.items():
        if key in value and not check(value[key]):
            raise ValueError(f"extra.{key} has an impossible value")
    return value


class LogWriter:
    """Appends events to a log file; each event reaches the OS at once."""

    RESERVE = 1 << 20           # disk space kept allocated ahead of the log
    CLOSING = 4096              # what closing a log (SHUTDOWN + END) may need, at least

    def __init__(self, path: str, header: TraceHeader) -> None:
        blob = header.to_json()
        head = _HEAD.pack(MAGIC, LOG_VERSION, header.machine, len(blob)) + blob
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        self.events_written = 0
        self.bytes_written = 0
        self._reserved_to = 0
        try:
            self._reserve(len(head) + _CRC.size)
            self._write(head + _CRC.pack(zlib.crc32(head)))
        except OSError:
            os.close(self._fd)
            self._fd = -1
            raise

    def append(self, event: Event, *, closing: bool = False) -> None:
        """Append one event.  OSError(ENOSPC) leaves the log as it was, still closable:
        events passed with `closing` (SHUTDOWN, END) use the space reserved for them."""
        payload = event.encode()
        head = _EVHEAD.pack(event.kind, event.icount, len(payload))
        crc = zlib.crc32(payload, zlib.crc32(head))
        record = head + payload + _CRC.pack(crc)
        if not closing:
            self._reserve(len(record))
        self._write(record)
        self.events_written += 1

    def _write(self, record: bytes) -> None:
        view = memoryview(record)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError:
            os.ftruncate(self._fd, self.bytes_written)      # never leave a torn record behind
            os.lseek(self._fd, self.bytes_written, os.SEEK_SET)
            raise
        self.bytes_written += len(record)

    def _reserve(self, size: int) -> None:
        """Make sure `size` more bytes and the closing reserve fit in allocated space."""
        need = self.bytes_written + size + self.CLOSING
        if need <= self._reserved_to or self._reserved_to < 0:
            return
        for target in (need + self.RESERVE, need):
            result = _fallocate_keep_size(self._fd, self.bytes_written, target - self.bytes_written)
            if result == 0:
                self._reserved_to = target
                return
            if result not in (errno.ENOSPC, errno.EDQUOT):
                self._reserved_to = -1                     # not supported here: best effort
                return
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def close(self) -> None:
        if self._fd >= 0:
            try:
                os.ftruncate(self._fd, self.bytes_written)   # give back the reserve
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = -1


_FALLOC_FL_KEEP_SIZE = 1
_libc: Any = None


def _fallocate_keep_size(fd: int, offset: int, length: int) -> int:
    """fallocate(fd, FALLOC_FL_KEEP_SIZE, ...): 0, or the errno (EOPNOTSUPP where unknown)."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
            _libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
        except (OSError, AttributeError):
            _libc = False
    if not _libc:
        return errno.EOPNOTSUPP
    if _libc.fallocate(fd, _FALLOC_FL_KEEP_SIZE, offset, length) == 0:
        return 0
    return ctypes.get_errno() or errno.EOPNOTSUPP


@dataclass
class LogContents:
    header: TraceHeader
    version: int
    events: list[Event]
    truncated: bool            # the last record was torn (killed recording)
    complete: bool             # an END event closes the log
    size: int

    def syscall_name(self, sysno: int) -> str:
        """A system call's name by its number in the trace's architecture."""
        return syscall_names(self.header.machine).get(sysno, f"syscall_{sysno}")


def syscall_names(machine: int) -> Mapping[int, str]:
    """The system calls of an ELF machine's Linux, by number (empty: no description of it)."""
    from .arch import BY_ELF_MACHINE  # the descriptions hold the tables (replay/arch/)

    arch = BY_ELF_MACHINE.get(machine)
    return arch.syscall_names if arch is not None else {}


def _renumbering(machine: int, version: int) -> Mapping[int, int] | None:
    """How a log's SYSCALL numbers become its architecture's: None when they are
    already (version NUMBERED_BY_ARCH on, and any x86-64 log), else x86-64's -> the
    architecture's, by name (a number with no name there is kept)."""
    if version >= NUMBERED_BY_ARCH or machine == EM_X86_64:
        return None
    from .linux.syscalls import log_numbers

    numbers = {name: number for number, name in syscall_names(machine).items()}
    return log_numbers(numbers)


def looks_like_log(path: str) -> bool:
    """Whether `path` is a regular file starting with a ttdbg log's magic and a known version."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        head = os.pread(fd, _HEAD.size, 0)
    except OSError:
        return False
    finally:
        os.close(fd)
    if len(head) < _HEAD.size:
        return False
    magic, version, _machine, _n = _HEAD.unpack(head)
    return magic == MAGIC and 1 <= version <= LOG_VERSION


def read_log(path: str) -> LogContents:
    """Read and validate a whole log; raises LogFormatError with one clear line."""
    try:
        data = read_regular(path, path, MAX_LOG)
    except FileNotFoundError:
        raise LogFormatError(f"{path}: no event log (not a ttdbg trace?)") from None
    if len(data) < _HEAD.size or not data.startswith(MAGIC):
        raise LogFormatError(f"{path}: not a ttdbg event log (bad magic)")
    magic, version, machine, n = _HEAD.unpack_from(data, 0)
    if version > LOG_VERSION:
        raise LogFormatError(
            f"{path}: log version {version} is newer than this ttdbg supports "
            f"({LOG_VERSION}); upgrade ttdbg")
    if version < 1:
        raise LogFormatError(f"{path}: unknown log version {version}")
    header_crc = _CRC.size if version >= 2 else 0
    if n > MAX_HEADER:
        raise LogFormatError(f"{path}: corrupt header (size {n:,})")
    if _HEAD.size + n + header_crc > len(data):
        raise LogFormatError(f"{path}: truncated header")
    off = _HEAD.size + n
    if header_crc:
        (crc,) = _CRC.unpack_from(data, off)
        if zlib.crc32(data[:off]) != crc:
            raise LogFormatError(f"{path}: corrupt header (checksum mismatch)")
    try:
        header = TraceHeader.from_json(machine, data[_HEAD.size:off])
    except (ValueError, UnicodeDecodeError) as exc:
        raise LogFormatError(f"{path}: corrupt header ({exc})") from None
    off += header_crc
    events: list[Event] = []
    truncated = False
    last_icount = 0
    names, renumber = syscall_names(machine), _renumbering(machine, version)
    while off < len(data):
        if off + _EVHEAD.size > len(data):
            truncated = True
            break
        kind, icount, plen = _EVHEAD.unpack_from(data, off)
        end = off + _EVHEAD.size + plen + _CRC.size
        if plen > MAX_PAYLOAD:
            raise LogFormatError(f"{path}: corrupt event #{len(events)} at byte {off} (size {plen})")
        if end > len(data):
            if kind not in _KINDS or icount < last_icount:
                # A torn record still has the header the writer wrote; a bad one is damage.
                raise LogFormatError(f"{path}: corrupt event #{len(events)} at byte {off} (bad record header)")
            if _records_follow(data, off + _EVHEAD.size, last_icount):
                # Intact records after it: its length field is damaged, it is not the torn last one.
                raise LogFormatError(f"{path}: corrupt event #{len(events)} at byte {off} "
                                     f"(its length runs over the events after it)")
            truncated = True
            break
        (crc,) = _CRC.unpack_from(data, end - _CRC.size)
        if zlib.crc32(data[off:end - _CRC.size]) != crc:
            raise LogFormatError(f"{path}: corrupt event #{len(events)} at byte {off} (checksum mismatch)")
        if icount < last_icount:
            raise LogFormatError(f"{path}: corrupt event #{len(events)}: instruction count goes backwards")
        try:
            event = decode_event(kind, icount, data[off + _EVHEAD.size:end - _CRC.size], names)
        except ValueError as exc:
            raise LogFormatError(f"{path}: corrupt event #{len(events)} at byte {off}: {exc}") from None
        if renumber is not None and isinstance(event, SyscallResult):
            sysno = renumber.get(event.sysno, event.sysno)
            event = SyscallResult(event.icount, sysno, event.result, event.writes, names.get(sysno, ""))
        events.append(event)
        last_icount = icount
        off = end
    complete = bool(events) and events[-1].kind.name == "END"
    return LogContents(header, version, events, truncated, complete, len(data))


def _records_follow(data: bytes, start: int, last_icount: int) -> bool:
    """Whether an intact event record (checksum and all) starts anywhere in data[start:].

    A torn last record is the end of the file; a record whose damaged length
    runs past the end hides the intact records that follow it.  The search is
    bounded (a hostile file cannot make it quadratic): past the budget, or
    with more than _RESYNC_SPAN bytes left, the record counts as damaged.
    """
    budget = _RESYNC_BUDGET
    limit = min(len(data) - _EVHEAD.size - _CRC.size, start + _RESYNC_SPAN)
    if len(data) - start > _RESYNC_SPAN:
        return True
    for pos in range(start, limit + 1):
        kind, icount, plen = _EVHEAD.unpack_from(data, pos)
        if kind not in _KINDS or icount < last_icount:
            continue
        end = pos + _EVHEAD.size + plen + _CRC.size
        if end > len(data):
            continue
        budget -= end - pos
        if budget < 0:
            return True
        (crc,) = _CRC.unpack_from(data, end - _CRC.size)
        if zlib.crc32(data[pos:end - _CRC.size]) == crc:
            return True
    return False
