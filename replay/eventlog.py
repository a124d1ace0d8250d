"""The replay log's byte format: a versioned header, then framed events.

Layout (all integers little-endian; documented in README "Trace format"):

    header:  magic b"TTDBGLOG" | u16 version | u16 ELF machine | u32 n | n bytes JSON
    event:   u8 kind | u64 icount | u32 n | n bytes payload | u32 crc32(kind..payload)

The writer appends each event with a single write() to an unbuffered file,
so a recording killed with SIGKILL leaves every complete event readable; the
reader stops cleanly at a torn last record and reports the log truncated.
A CRC mismatch anywhere else is corruption and refuses the log.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import LogFormatError
from .events import Event, EventKind, decode_event

MAGIC = b"TTDBGLOG"
LOG_VERSION = 1
EM_X86_64 = 62

_HEAD = struct.Struct("<8sHHI")
_EVHEAD = struct.Struct("<BQI")
_CRC = struct.Struct("<I")
MAX_PAYLOAD = 1 << 30
_KINDS = frozenset(int(k) for k in EventKind)


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

    def to_json(self) -> bytes:
        return json.dumps({
            "program": self.program, "program_sha256": self.program_sha256,
            "argv": list(self.argv), "env": list(self.env), "cwd": self.cwd,
            "pid": self.pid, "interpreter": self.interpreter,
            "interpreter_sha256": self.interpreter_sha256, "extra": self.extra,
        }, sort_keys=True).encode()

    @classmethod
    def from_json(cls, machine: int, blob: bytes) -> "TraceHeader":
        d = json.loads(blob)
        return cls(machine, d["program"], d["program_sha256"], tuple(d["argv"]),
                   tuple(d["env"]), d["cwd"], int(d["pid"]), d.get("interpreter", ""),
                   d.get("interpreter_sha256", ""), d.get("extra", {}))


class LogWriter:
    """Appends events to a log file; each event reaches the OS at once."""

    def __init__(self, path: str, header: TraceHeader) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        blob = header.to_json()
        os.write(self._fd, _HEAD.pack(MAGIC, LOG_VERSION, header.machine, len(blob)) + blob)
        self.events_written = 0
        self.bytes_written = _HEAD.size + len(blob)

    def append(self, event: Event) -> None:
        payload = event.encode()
        head = _EVHEAD.pack(event.kind, event.icount, len(payload))
        crc = zlib.crc32(payload, zlib.crc32(head))
        record = head + payload + _CRC.pack(crc)
        view = memoryview(record)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self.events_written += 1
        self.bytes_written += len(record)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1


@dataclass
class LogContents:
    header: TraceHeader
    version: int
    events: list[Event]
    truncated: bool            # the last record was torn (killed recording)
    complete: bool             # an END event closes the log
    size: int


def read_log(path: str) -> LogContents:
    """Read and validate a whole log; raises LogFormatError with one clear line."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise LogFormatError(f"{path}: no event log (not a ttdbg trace?)") from None
    except OSError as exc:
        raise LogFormatError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) < _HEAD.size or not data.startswith(MAGIC):
        raise LogFormatError(f"{path}: not a ttdbg event log (bad magic)")
    magic, version, machine, n = _HEAD.unpack_from(data, 0)
    if version > LOG_VERSION:
        raise LogFormatError(
            f"{path}: log version {version} is newer than this ttdbg supports "
            f"({LOG_VERSION}); upgrade ttdbg")
    if version < 1:
        raise LogFormatError(f"{path}: unknown log version {version}")
    if _HEAD.size + n > len(data):
        raise LogFormatError(f"{path}: truncated header")
    try:
        header = TraceHeader.from_json(machine, data[_HEAD.size:_HEAD.size + n])
    except (ValueError, KeyError, TypeError) as exc:
        raise LogFormatError(f"{path}: corrupt header ({exc})") from None
    off = _HEAD.size + n
    events: list[Event] = []
    truncated = False
    last_icount = 0
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
            truncated = True
            break
        (crc,) = _CRC.unpack_from(data, end - _CRC.size)
        if zlib.crc32(data[off:end - _CRC.size]) != crc:
            raise LogFormatError(f"{path}: corrupt event #{len(events)} at byte {off} (checksum mismatch)")
        if icount < last_icount:
            raise LogFormatError(f"{path}: corrupt event #{len(events)}: instruction count goes backwards")
        try:
            event = decode_event(kind, icount, data[off + _EVHEAD.size:end - _CRC.size])
        except ValueError as exc:
            raise LogFormatError(f"{path}: corrupt event #{len(events)} at byte {off}: {exc}") from None
        events.append(event)
        last_icount = icount
        off = end
    complete = bool(events) and events[-1].kind.name == "END"
    return LogContents(header, version, events, truncated, complete, len(data))


def iter_events(contents: LogContents) -> Iterator[Event]:
    return iter(contents.events)
