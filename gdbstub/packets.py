"""Turn packet payloads into typed requests.

Every payload is parsed exactly once, here, into a frozen dataclass.  The
session dispatches on the request's type and never looks at bytes.  Anything
that cannot be parsed becomes :class:`Malformed` (with a reason, answered with
an error reply) and anything not recognised becomes :class:`Unknown` (answered
with the empty reply, which tells gdb the packet is unsupported).  :func:`parse`
never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .framing import FramingError, unescape
from .target import BreakKind, Direction

# --- request types -------------------------------------------------------------


@dataclass(frozen=True)
class ThreadId:
    """A gdb thread-id: ``tid`` -1 means all threads, 0 means any thread."""

    tid: int
    pid: int | None = None

    ALL = -1
    ANY = 0


@dataclass(frozen=True)
class QuerySupported:
    features: tuple[str, ...]


@dataclass(frozen=True)
class StartNoAckMode:
    pass


@dataclass(frozen=True)
class QueryStopReason:
    pass


@dataclass(frozen=True)
class ReadRegisters:
    pass


@dataclass(frozen=True)
class WriteRegisters:
    """``G``: one entry per byte, None where gdb sent ``xx``."""

    data: tuple[int | None, ...]


@dataclass(frozen=True)
class ReadRegister:
    regnum: int


@dataclass(frozen=True)
class WriteRegister:
    regnum: int
    data: bytes  # target byte order, as sent


@dataclass(frozen=True)
class ReadMemory:
    addr: int
    length: int


@dataclass(frozen=True)
class WriteMemory:
    addr: int
    data: bytes
    binary: bool  # X (True) or M (False)


@dataclass(frozen=True)
class SetThread:
    operation: str  # 'g' (registers/memory) or 'c' (resume)
    thread: ThreadId


@dataclass(frozen=True)
class ThreadAlive:
    thread: ThreadId


@dataclass(frozen=True)
class Resume:
    """``c``, ``s``, ``C``, ``S``, ``bc``, ``bs``."""

    step: bool
    direction: Direction = Direction.FORWARD
    signal: int | None = None
    address: int | None = None


@dataclass(frozen=True)
class SignalList:
    """``QPassSignals:a;e;...`` (``program`` False) or ``QProgramSignals:...``."""

    program: bool
    signals: frozenset[int]


@dataclass(frozen=True)
class CatchSyscalls:
    """``QCatchSyscalls:1;nn;...`` (these calls; none listed: every call) or ``QCatchSyscalls:0``
    (no more): the numbers are the target architecture's, as its program makes the calls."""

    enabled: bool
    numbers: frozenset[int] | None = None


@dataclass(frozen=True)
class VContQuery:
    pass


@dataclass(frozen=True)
class VContAction:
    action: str  # 'c', 's', 't' or 'r'
    thread: ThreadId | None = None  # None: applies to all threads without their own action
    signal: int | None = None
    range_start: int | None = None
    range_end: int | None = None


@dataclass(frozen=True)
class VCont:
    actions: tuple[VContAction, ...]


@dataclass(frozen=True)
class Breakpoint:
    """``Zn`` (insert=True) or ``zn``; ``length`` is gdb's "kind" field."""

    insert: bool
    kind: BreakKind
    addr: int
    length: int


@dataclass(frozen=True)
class XferRead:
    object: str
    annex: str
    offset: int
    length: int


@dataclass(frozen=True)
class QueryAttached:
    pid: int | None = None


@dataclass(frozen=True)
class QueryCurrentThread:
    pass


@dataclass(frozen=True)
class ThreadInfoFirst:
    pass


@dataclass(frozen=True)
class ThreadInfoNext:
    pass


@dataclass(frozen=True)
class ThreadExtraInfo:
    """``qThreadExtraInfo,<thread-id>``: a line of text ``info threads`` shows."""

    thread: ThreadId


@dataclass(frozen=True)
class QuerySymbol:
    pass


@dataclass(frozen=True)
class Monitor:
    command: str


@dataclass(frozen=True)
class HostOpen:
    path: str
    flags: int
    mode: int


@dataclass(frozen=True)
class HostReadlink:
    path: str


@dataclass(frozen=True)
class HostPread:
    fd: int
    count: int
    offset: int


@dataclass(frozen=True)
class HostClose:
    fd: int


@dataclass(frozen=True)
class HostFstat:
    fd: int


@dataclass(frozen=True)
class HostSetfs:
    pid: int


@dataclass(frozen=True)
class Detach:
    pid: int | None = None


@dataclass(frozen=True)
class Kill:
    """``k`` (expects no reply) or ``vKill;pid`` (expects OK)."""

    reply_expected: bool
    pid: int | None = None


@dataclass(frozen=True)
class Unknown:
    """Recognised as a packet but not supported: answered with the empty reply."""

    name: str


@dataclass(frozen=True)
class Malformed:
    """Could not be parsed: answered with an error reply."""

    name: str
    reason: str


Request = (
    QuerySupported
    | StartNoAckMode
    | QueryStopReason
    | ReadRegisters
    | WriteRegisters
    | ReadRegister
    | WriteRegister
    | ReadMemory
    | WriteMemory
    | SetThread
    | ThreadAlive
    | Resume
    | VContQuery
    | VCont
    | Breakpoint
    | CatchSyscalls
    | XferRead
    | QueryAttached
    | QueryCurrentThread
    | ThreadInfoFirst
    | ThreadInfoNext
    | ThreadExtraInfo
    | QuerySymbol
    | Monitor
    | HostOpen
    | HostPread
    | HostReadlink
    | HostClose
    | HostFstat
    | HostSetfs
    | Detach
    | Kill
    | Unknown
    | Malformed
)

# --- parsing helpers -----------------------------------------------------------


class _Bad(Exception):
    """Internal: the packet is malformed for the given reason."""


_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_NAME_RE = re.compile(r"[qQv][A-Za-z]*")


def _hex(text: str, what: str) -> int:
    if not _HEX_RE.fullmatch(text):
        raise _Bad(f"bad hex {what}: {text[:20]!r}")
    return int(text, 16)


def _hex_bytes(text: str, what: str) -> bytes:
    if len(text) % 2:
        raise _Bad(f"odd-length hex {what}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise _Bad(f"bad hex {what}") from None


def _split(text: str, sep: str, count: int, what: str) -> list[str]:
    parts = text.split(sep)
    if len(parts) != count:
        raise _Bad(f"expected {count} fields in {what}, got {len(parts)}")
    return parts


def _thread_id(text: str) -> ThreadId:
    def one(part: str) -> int:
        if part == "-1":
            return ThreadId.ALL
        return _hex(part, "thread id")

    if text.startswith("p"):
        pid_text, dot, tid_text = text[1:].partition(".")
        return ThreadId(one(tid_text) if dot else ThreadId.ALL, one(pid_text))
    return ThreadId(one(text))


def _signal_number(text: str) -> int:
    """One entry of a QPassSignals list: gdb writes "e", not "0e"."""
    if not 1 <= len(text) <= 2:
        raise _Bad(f"bad signal number {text[:20]!r}")
    return _hex(text, "signal")


def _signal(text: str) -> int:
    if len(text) != 2:
        raise _Bad(f"bad signal number {text!r}")
    return _hex(text, "signal")


def _addr_len(text: str) -> tuple[int, int]:
    addr, length = _split(text, ",", 2, "address,length")
    return _hex(addr, "address"), _hex(length, "length")


# --- per-packet parsers --------------------------------------------------------


def _parse_G(body: str, raw: bytes) -> Request:
    if len(body) % 2:
        raise _Bad("odd-length register data")
    values: list[int | None] = []
    for i in range(0, len(body), 2):
        pair = body[i : i + 2]
        values.append(None if pair in ("xx", "XX") else _hex(pair, "register byte"))
    return WriteRegisters(tuple(values))


def _parse_P(body: str, raw: bytes) -> Request:
    reg, _, value = body.partition("=")
    if not _:
        raise _Bad("missing '='")
    return WriteRegister(_hex(reg, "register number"), _hex_bytes(value, "register value"))


def _parse_M(body: str, raw: bytes) -> Request:
    where, colon, data = body.partition(":")
    if not colon:
        raise _Bad("missing ':'")
    addr, length = _addr_len(where)
    payload = _hex_bytes(data, "memory data")
    if len(payload) != length:
        raise _Bad(f"length {length} but {len(payload)} bytes of data")
    return WriteMemory(addr, payload, binary=False)


def _parse_X(body: str, raw: bytes) -> Request:
    colon = raw.find(b":")
    if colon < 0:
        raise _Bad("missing ':'")
    addr, length = _addr_len(raw[1:colon].decode("latin-1"))
    try:
        data = unescape(raw[colon + 1 :])
    except FramingError as exc:
        raise _Bad(str(exc)) from None
    if len(data) != length:
        raise _Bad(f"length {length} but {len(data)} bytes of data")
    return WriteMemory(addr, data, binary=True)


def _parse_H(body: str, raw: bytes) -> Request:
    if not body or body[0] not in "gc":
        raise _Bad("H needs g or c")
    return SetThread(body[0], _thread_id(body[1:]))


def _parse_resume(step: bool, with_signal: bool) -> Callable[[str, bytes], Request]:
    def parse(body: str, raw: bytes) -> Request:
        signal = None
        if with_signal:
            sig, _, body = body.partition(";")
            signal = _signal(sig)
        address = _hex(body, "address") if body else None
        return Resume(step=step, signal=signal, address=address)

    return parse


def _parse_b(body: str, raw: bytes) -> Request:
    if body == "c":
        return Resume(step=False, direction=Direction.BACKWARD)
    if body == "s":
        return Resume(step=True, direction=Direction.BACKWARD)
    return Unknown("b" + body[:1])


def _parse_Z(insert: bool) -> Callable[[str, bytes], Request]:
    def parse(body: str, raw: bytes) -> Request:
        spec = body.split(";", 1)[0]
        kind, addr, length = _split(spec, ",", 3, "breakpoint")
        try:
            break_kind = BreakKind(_hex(kind, "breakpoint type"))
        except ValueError:
            return Unknown(("Z" if insert else "z") + kind)
        return Breakpoint(insert, break_kind, _hex(addr, "address"), _hex(length, "kind"))

    return parse


def _parse_D(body: str, raw: bytes) -> Request:
    if not body:
        return Detach()
    if not body.startswith(";"):
        raise _Bad("expected ';pid'")
    return Detach(_hex(body[1:], "pid"))


def _parse_T(body: str, raw: bytes) -> Request:
    return ThreadAlive(_thread_id(body))


def _parse_vcont(rest: str) -> Request:
    if rest == "?":
        return VContQuery()
    if not rest.startswith(";") or rest == ";":
        raise _Bad("vCont needs actions")
    actions = []
    for item in rest[1:].split(";"):
        spec, colon, thread_text = item.partition(":")
        thread = _thread_id(thread_text) if colon else None
        if not spec:
            raise _Bad("empty vCont action")
        letter = spec[0]
        if letter in "cst" and len(spec) == 1:
            actions.append(VContAction(letter, thread))
        elif letter in "CS":
            actions.append(VContAction(letter.lower(), thread, signal=_signal(spec[1:])))
        elif letter == "r":
            start, end = _split(spec[1:], ",", 2, "range")
            actions.append(
                VContAction(
                    "r",
                    thread,
                    range_start=_hex(start, "range start"),
                    range_end=_hex(end, "range end"),
                )
            )
        else:
            raise _Bad(f"unknown vCont action {spec[:10]!r}")
    return VCont(tuple(actions))


def _parse_vfile(rest: str) -> Request:
    if not rest.startswith(":"):
        raise _Bad("vFile needs ':'")
    op, colon, args = rest[1:].partition(":")
    if not colon:
        raise _Bad("vFile needs operation:arguments")
    if op == "open":
        path, flags, mode = _split(args, ",", 3, "vFile:open")
        return HostOpen(_path(path), _hex(flags, "flags"), _hex(mode, "mode"))
    if op == "readlink":
        return HostReadlink(_path(args))
    if op == "pread":
        fd, count, offset = _split(args, ",", 3, "vFile:pread")
        return HostPread(_hex(fd, "fd"), _hex(count, "count"), _hex(offset, "offset"))
    if op == "close":
        return HostClose(_hex(args, "fd"))
    if op == "fstat":
        return HostFstat(_hex(args, "fd"))
    if op == "setfs":
        return HostSetfs(_hex(args, "pid"))
    return Unknown("vFile:" + op)


def _path(text: str) -> str:
    """A file name: a C string, ended by its first NUL if it has one (gdbserver reads it so;
    pwndbg sends vFile:readlink with the NUL)."""
    return _hex_bytes(text, "path").split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _parse_v(body: str, raw: bytes) -> Request:
    text = "v" + body
    match = _NAME_RE.match(text)
    name = match.group(0) if match else "v"
    rest = text[len(name) :]
    if name == "vCont":
        return _parse_vcont(rest)
    if name == "vFile":
        return _parse_vfile(rest)
    if name == "vKill":
        pid = _hex(rest[1:], "pid") if rest.startswith(";") else None
        return Kill(reply_expected=True, pid=pid)
    return Unknown(name)


def _parse_q(body: str, raw: bytes, lead: str) -> Request:
    text = lead + body
    match = _NAME_RE.match(text)
    name = match.group(0) if match else lead
    rest = text[len(name) :]
    if name == "qSupported":
        features = tuple(f for f in rest[1:].split(";") if f) if rest.startswith(":") else ()
        return QuerySupported(features)
    if name in ("QPassSignals", "QProgramSignals"):
        if not rest.startswith(":"):
            raise _Bad(f"{name} needs ':'")
        signals = frozenset(_signal_number(s) for s in rest[1:].split(";") if s)
        return SignalList(name == "QProgramSignals", signals)
    if name == "QCatchSyscalls":
        if rest == ":0":
            return CatchSyscalls(False)
        if not rest.startswith(":1"):
            raise _Bad("QCatchSyscalls needs ':0' or ':1[;nn]...'")
        listed = rest[2:]
        if listed and not listed.startswith(";"):
            raise _Bad("QCatchSyscalls: ';' before each number")
        numbers = [_hex(n, "syscall number") for n in listed[1:].split(";")] if listed else None
        return CatchSyscalls(True, None if numbers is None else frozenset(numbers))
    if name == "QStartNoAckMode" and not rest:
        return StartNoAckMode()
    if name == "qAttached":
        return QueryAttached(_hex(rest[1:], "pid") if rest.startswith(":") else None)
    if name == "qC" and not rest:
        return QueryCurrentThread()
    if name == "qfThreadInfo":
        return ThreadInfoFirst()
    if name == "qsThreadInfo":
        return ThreadInfoNext()
    if name == "qThreadExtraInfo":
        if not rest.startswith(","):
            raise _Bad("qThreadExtraInfo needs ','")
        return ThreadExtraInfo(_thread_id(rest[1:]))
    if name == "qSymbol":
        return QuerySymbol()
    if name == "qRcmd":
        if not rest.startswith(","):
            raise _Bad("qRcmd needs ','")
        command = _hex_bytes(rest[1:], "command").decode("utf-8", "replace")
        return Monitor(command)
    if name == "qXfer":
        fields = rest.split(":", 4)
        if len(fields) >= 3 and fields[0] == "" and fields[2] != "read":
            return Unknown(f"qXfer:{fields[1]}:{fields[2]}")
        if len(fields) != 5 or fields[0] != "":
            raise _Bad("qXfer needs object:read:annex:offset,length")
        _, obj, _, annex, offlen = fields
        offset, length = _addr_len(offlen)
        return XferRead(obj, annex, offset, length)
    return Unknown(name)


def _simple(request: Request) -> Callable[[str, bytes], Request]:
    def parse(body: str, raw: bytes) -> Request:
        if body:
            raise _Bad(f"unexpected arguments {body[:20]!r}")
        return request

    return parse


def _parse_p(body: str, raw: bytes) -> Request:
    return ReadRegister(_hex(body, "register number"))


def _parse_m(body: str, raw: bytes) -> Request:
    return ReadMemory(*_addr_len(body))


_PARSERS: Mapping[str, Callable[[str, bytes], Request]] = MappingProxyType({
    "?": _simple(QueryStopReason()),
    "g": _simple(ReadRegisters()),
    "G": _parse_G,
    "p": _parse_p,
    "P": _parse_P,
    "m": _parse_m,
    "M": _parse_M,
    "X": _parse_X,
    "H": _parse_H,
    "T": _parse_T,
    "c": _parse_resume(step=False, with_signal=False),
    "s": _parse_resume(step=True, with_signal=False),
    "C": _parse_resume(step=False, with_signal=True),
    "S": _parse_resume(step=True, with_signal=True),
    "b": _parse_b,
    "Z": _parse_Z(insert=True),
    "z": _parse_Z(insert=False),
    "D": _parse_D,
    "k": lambda body, raw: Kill(reply_expected=False),
    "v": _parse_v,
    "q": lambda body, raw: _parse_q(body, raw, "q"),
    "Q": lambda body, raw: _parse_q(body, raw, "Q"),
})


def parse(payload: bytes) -> Request:
    """Parse one packet payload (already un-framed and run-length expanded)."""
    if not payload:
        return Unknown("")
    text = payload.decode("latin-1")
    lead = text[0]
    parser = _PARSERS.get(lead)
    name = _NAME_RE.match(text).group(0) if lead in "qQv" else lead  # type: ignore[union-attr]
    if parser is None:
        return Unknown(name)
    try:
        return parser(text[1:], payload)
    except _Bad as exc:
        return Malformed(name, str(exc))
