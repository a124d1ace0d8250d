"""Reply payloads: stop replies, register packing, errors, host I/O results.

Everything here returns a packet *payload* (bytes without ``$...#cc``
framing).  Keeping the formatting in one place means the session's handlers
say what to answer, and this module decides how it looks on the wire.
"""

from __future__ import annotations

import errno as _errno
import struct
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from xml.sax.saxutils import quoteattr

from .framing import escape
from .target import HostStat, RegisterInfo, StopKind, StopReason, ThreadInfo

OK = b"OK"
EMPTY = b""

SIGINT = 2


def error(errno: int) -> bytes:
    """``Exx``: two hex digits of the errno (masked to a byte)."""
    return b"E%02x" % (errno & 0xFF)


def hex_encode(data: bytes) -> bytes:
    return data.hex().encode("ascii")


def hex_text(text: str) -> bytes:
    """Hex-encode a string as UTF-8 (for ``O`` packets and qRcmd output)."""
    return hex_encode(text.encode("utf-8"))


def console_output(text: str, max_payload: int = 0x4000) -> list[bytes]:
    """``O`` packets carrying console output, each at most ``max_payload`` long."""
    data = text.encode("utf-8")
    step = max(1, (max_payload - 1) // 2)
    return [b"O" + hex_encode(data[i : i + step]) for i in range(0, len(data), step)]


# --- registers -----------------------------------------------------------------


def pack_register(reg: RegisterInfo, value: int | None) -> bytes:
    """Little-endian hex of one register, or ``xx`` per byte if unavailable."""
    if value is None:
        return b"xx" * reg.size
    mask = (1 << (reg.size * 8)) - 1
    return hex_encode((value & mask).to_bytes(reg.size, "little"))


def pack_registers(registers: Sequence[RegisterInfo], values: Sequence[int | None]) -> bytes:
    """The ``g`` reply: every register in table order."""
    if len(values) != len(registers):
        raise ValueError(f"{len(values)} register values for {len(registers)} registers")
    return b"".join(pack_register(reg, value) for reg, value in zip(registers, values))


def unpack_registers(
    registers: Sequence[RegisterInfo], data: Sequence[int | None]
) -> list[int | None]:
    """Split ``G`` data (bytes, None for ``xx``) into register values.

    A register with any unknown byte is None; registers past the end of a
    short packet are None too (gdb may send fewer registers than we have).
    """
    values: list[int | None] = []
    pos = 0
    for reg in registers:
        chunk = data[pos : pos + reg.size]
        pos += reg.size
        if len(chunk) < reg.size or any(b is None for b in chunk):
            values.append(None)
        else:
            values.append(int.from_bytes(bytes(b for b in chunk if b is not None), "little"))
    if pos < len(data):
        raise ValueError(f"{len(data)} bytes of register data, expected at most {pos}")
    return values


# --- stop replies --------------------------------------------------------------

_WATCH_KEYS: Mapping[StopKind, bytes] = MappingProxyType(
    {StopKind.WATCH: b"watch", StopKind.RWATCH: b"rwatch", StopKind.AWATCH: b"awatch"}
)
_FORK_KEYS: Mapping[StopKind, bytes] = MappingProxyType({StopKind.FORK: b"fork", StopKind.VFORK: b"vfork"})


def thread_id(tid: int, pid: int | None = None) -> bytes:
    """A thread-id as gdb reads it: ``p<pid>.<tid>`` in multiprocess mode, else ``<tid>``."""
    return b"%x" % tid if pid is None else b"p%x.%x" % (pid, tid)


def thread_list(threads: Iterable[ThreadInfo], pid: int | None = None) -> bytes:
    """The body of a ``qfThreadInfo`` reply (after the ``m``): comma-separated thread-ids."""
    return b",".join(thread_id(t.tid, pid) for t in threads)


def threads_xml(threads: Iterable[ThreadInfo], pid: int | None = None) -> bytes:
    """The ``qXfer:threads:read`` document: one ``<thread>`` per thread, with its name."""
    lines = ['<?xml version="1.0"?>', "<threads>"]
    for t in threads:
        tid = thread_id(t.tid, pid).decode("ascii")
        printable = "".join(c if c.isprintable() else "?" for c in t.name)
        name = f" name={quoteattr(printable)}" if printable else ""
        lines.append(f'<thread id="{tid}"{name}/>')
    lines.append("</threads>")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def stop_reply(
    reason: StopReason,
    tid: int,
    *,
    pid: int | None = None,
    swbreak: bool = True,
    hwbreak: bool = True,
    expedite: Iterable[tuple[RegisterInfo, int | None]] = (),
) -> bytes:
    """Format a stop reply: ``Wxx``, ``Xxx`` or ``Tss<regs>thread:<tid>;<reason>``.

    With ``pid`` (gdb and the stub agreed on ``multiprocess+``) the thread is
    ``p<pid>.<tid>`` and ``W``/``X`` name the process (``;process:<pid>``).
    ``swbreak``/``hwbreak`` say whether gdb asked for those stop reasons in
    its qSupported; if not, a breakpoint stop is reported as a plain SIGTRAP.
    """
    kind = reason.kind
    process = b"" if pid is None else b";process:%x" % pid
    if kind is StopKind.EXITED:
        assert reason.exit_status is not None
        return b"W%02x" % (reason.exit_status & 0xFF) + process
    if kind is StopKind.TERMINATED:
        return b"X%02x" % (reason.signal & 0xFF) + process
    signal = SIGINT if kind is StopKind.INTERRUPTED else reason.signal
    parts = [b"T%02x" % (signal & 0xFF)]
    for reg, value in expedite:
        if value is not None:
            parts.append(b"%02x:%s;" % (reg.regnum, pack_register(reg, value)))
    parts.append(b"thread:%s;" % thread_id(tid, pid))
    if kind is StopKind.SW_BREAK and swbreak:
        parts.append(b"swbreak:;")
    elif kind is StopKind.HW_BREAK and hwbreak:
        parts.append(b"hwbreak:;")
    elif kind in _WATCH_KEYS:
        assert reason.address is not None
        parts.append(b"%s:%x;" % (_WATCH_KEYS[kind], reason.address))
    elif kind is StopKind.REPLAY_BEGIN:
        parts.append(b"replaylog:begin;")
    elif kind is StopKind.REPLAY_END:
        parts.append(b"replaylog:end;")
    elif kind in _FORK_KEYS:
        assert reason.child is not None
        parts.append(b"%s:%s;" % (_FORK_KEYS[kind], thread_id(reason.child, reason.child)))
    elif kind is StopKind.VFORK_DONE:
        parts.append(b"vforkdone:;")
    elif kind is StopKind.EXEC:
        assert reason.path is not None
        parts.append(b"exec:%s;" % hex_encode(reason.path.encode("utf-8", "surrogateescape")))
    elif kind in (StopKind.SYSCALL_ENTRY, StopKind.SYSCALL_RETURN):
        assert reason.syscall is not None
        key = b"syscall_entry" if kind is StopKind.SYSCALL_ENTRY else b"syscall_return"
        parts.append(b"%s:%x;" % (key, reason.syscall))
    return b"".join(parts)


# --- host I/O (vFile) ----------------------------------------------------------

# gdb's File-I/O errno values (GDB manual, "Errno Values"); anything else is EUNKNOWN.
_GDB_ERRNO: Mapping[int, int] = MappingProxyType(
    {
        _errno.EPERM: 1,
        _errno.ENOENT: 2,
        _errno.EINTR: 4,
        _errno.EBADF: 9,
        _errno.EACCES: 13,
        _errno.EFAULT: 14,
        _errno.EBUSY: 16,
        _errno.EEXIST: 17,
        _errno.ENODEV: 19,
        _errno.ENOTDIR: 20,
        _errno.EISDIR: 21,
        _errno.EINVAL: 22,
        _errno.ENFILE: 23,
        _errno.EMFILE: 24,
        _errno.EFBIG: 27,
        _errno.ENOSPC: 28,
        _errno.ESPIPE: 29,
        _errno.EROFS: 30,
        _errno.ENAMETOOLONG: 91,
    }
)
GDB_EUNKNOWN = 9999


def gdb_errno(host_errno: int) -> int:
    """Map a host errno to gdb's File-I/O errno numbering."""
    return _GDB_ERRNO.get(host_errno, GDB_EUNKNOWN)


def host_result(value: int) -> bytes:
    """``F<value>`` for a successful vFile call (value in hex)."""
    return b"F%x" % value if value >= 0 else b"F-%x" % -value


def host_error(host_errno: int) -> bytes:
    """``F-1,<errno>`` for a failed vFile call."""
    return b"F-1,%x" % gdb_errno(host_errno)


def host_data(data: bytes) -> bytes:
    """``F<count>;<binary data>`` for vFile:pread and vFile:fstat."""
    return b"F%x;" % len(data) + escape(data)


_STAT = struct.Struct(">IIIIIIIQQQIII")


def pack_host_stat(st: HostStat) -> bytes:
    """gdb's File-I/O ``struct stat``: 64 bytes, big-endian (GDB manual, "struct stat")."""
    blocks = st.blocks if st.blocks is not None else (st.size + 511) // 512
    u32 = 0xFFFFFFFF
    u64 = 0xFFFFFFFFFFFFFFFF
    return _STAT.pack(
        st.dev & u32,
        st.ino & u32,
        st.mode & u32,
        st.nlink & u32,
        st.uid & u32,
        st.gid & u32,
        st.rdev & u32,
        st.size & u64,
        st.blksize & u64,
        blocks & u64,
        st.atime & u32,
        st.mtime & u32,
        st.ctime & u32,
    )
