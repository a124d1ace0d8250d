"""Byte-level framing of the GDB Remote Serial Protocol.

gdb wraps every packet as ``$payload#cc`` (``cc`` = two-hex-digit modulo-256
sum of the payload), acknowledges with ``+``/``-`` and interrupts a running
target with a bare 0x03 byte.  Binary payloads escape ``# $ } *`` as ``}``
followed by the byte XOR 0x20, and either side may run-length encode
repeated bytes as ``c*N`` (N - 29 more copies of ``c``).

This module turns an arbitrary chunking of the incoming byte stream into a
sequence of typed frame events (:class:`Decoder`), and wraps outgoing
payloads (:func:`frame`).  It knows nothing about what a packet means.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger(__name__)

INTERRUPT_BYTE = 0x03
_ESCAPE = 0x7D  # '}'
_RLE = 0x2A  # '*'
_ESCAPED = frozenset(b"#$}*")
_RLE_BIAS = 29
_RLE_MAX = 126 - _RLE_BIAS  # count characters above '~' are not allowed
_RLE_FORBIDDEN = frozenset({ord("#") - _RLE_BIAS, ord("$") - _RLE_BIAS})
_HEX = frozenset(b"0123456789abcdefABCDEF")


class FramingError(ValueError):
    """A payload could not be unescaped or run-length decoded."""


def checksum(payload: bytes) -> int:
    """Modulo-256 sum of the payload bytes as they appear on the wire."""
    return sum(payload) & 0xFF


def escape(data: bytes) -> bytes:
    """Escape ``# $ } *`` for binary data (``X`` packets, qXfer, vFile replies)."""
    if not any(b in _ESCAPED for b in data):
        return data
    out = bytearray()
    for b in data:
        if b in _ESCAPED:
            out.append(_ESCAPE)
            out.append(b ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    """Undo :func:`escape`; a trailing lone ``}`` is an error."""
    if _ESCAPE not in data:
        return data
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == _ESCAPE:
            nxt = next(it, None)
            if nxt is None:
                raise FramingError("escape character at end of data")
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def rle_encode(data: bytes) -> bytes:
    """Run-length encode an already-escaped payload.

    Only runs that get shorter are encoded, and repeat counts that would
    produce ``#`` or ``$`` as the count character are avoided.
    """
    if _RLE in data:
        raise FramingError("cannot run-length encode a payload containing '*'")
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        run = 1
        while i + run < n and data[i + run] == c:
            run += 1
        i += run
        while run > 0:
            out.append(c)
            extra = min(run - 1, _RLE_MAX)
            if extra < 3:
                out.extend(bytes([c]) * extra)
                run -= 1 + extra
                continue
            if extra in _RLE_FORBIDDEN:
                extra = min(_RLE_FORBIDDEN) - 1
            out.append(_RLE)
            out.append(extra + _RLE_BIAS)
            run -= 1 + extra
    return bytes(out)


def rle_decode(data: bytes) -> bytes:
    """Expand ``c*N`` runs; raise :class:`FramingError` on a dangling or bad count."""
    if _RLE not in data:
        return data
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b == _RLE:
            if not out:
                raise FramingError("run-length marker with no preceding character")
            if i + 1 >= n:
                raise FramingError("run-length marker at end of packet")
            count = data[i + 1]
            if not 0x20 <= count <= 0x7E:
                raise FramingError(f"bad run-length count byte 0x{count:02x}")
            out.extend(bytes([out[-1]]) * (count - _RLE_BIAS))
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


def frame(payload: bytes, *, rle: bool = False) -> bytes:
    """Wrap a payload as ``$payload#cc``, optionally run-length encoded first."""
    body = rle_encode(payload) if rle and _RLE not in payload else payload
    return b"$" + body + b"#" + b"%02x" % checksum(body)


# --- incoming events ---------------------------------------------------------


@dataclass(frozen=True)
class Packet:
    """A packet with a good checksum; ``payload`` is run-length expanded."""

    payload: bytes


@dataclass(frozen=True)
class Ack:
    """gdb acknowledged our last packet (``+``)."""


@dataclass(frozen=True)
class Nak:
    """gdb asked us to resend our last packet (``-``)."""


@dataclass(frozen=True)
class Interrupt:
    """A bare 0x03 outside any packet: gdb's Ctrl-C."""


@dataclass(frozen=True)
class BadFrame:
    """A packet whose checksum or run-length encoding was wrong.

    ``payload`` is the expanded payload when it could be decoded (useful in
    no-ack mode, where checksums need not be trusted), else None.
    """

    reason: str
    payload: bytes | None = None


@dataclass(frozen=True)
class Overlong:
    """A packet longer than the decoder's limit; its contents were discarded."""

    length: int


FrameEvent = Packet | Ack | Nak | Interrupt | BadFrame | Overlong


class _State(Enum):
    IDLE = "idle"
    DATA = "data"
    CHECKSUM_1 = "checksum-1"
    CHECKSUM_2 = "checksum-2"


class Decoder:
    """Incremental decoder: feed it bytes in any chunking, get frame events.

    A ``$`` inside a packet restarts the packet (gdb escapes ``$`` in data, so
    a raw one means the previous packet was cut short).  Bytes outside packets
    other than ``+``, ``-`` and 0x03 are ignored.
    """

    def __init__(self, max_payload: int = 0x4000) -> None:
        self._max_payload = max_payload
        self._state = _State.IDLE
        self._body = bytearray()
        self._length = 0
        self._check = bytearray()

    def reset(self) -> None:
        self._state = _State.IDLE
        self._body.clear()
        self._length = 0
        self._check.clear()

    @property
    def in_packet(self) -> bool:
        """True while part of a packet has been seen but not its checksum."""
        return self._state is not _State.IDLE

    def feed(self, data: bytes) -> list[FrameEvent]:
        events: list[FrameEvent] = []
        for b in data:
            event = self._byte(b)
            if event is not None:
                events.append(event)
        return events

    def _byte(self, b: int) -> FrameEvent | None:
        state = self._state
        if state is _State.IDLE:
            if b == 0x24:  # '$'
                self._start()
            elif b == 0x2B:
                return Ack()
            elif b == 0x2D:
                return Nak()
            elif b == INTERRUPT_BYTE:
                return Interrupt()
            else:
                logger.debug("ignoring stray byte 0x%02x between packets", b)
            return None
        if state is _State.DATA:
            if b == 0x23:  # '#'
                self._state = _State.CHECKSUM_1
            elif b == 0x24:
                logger.debug("'$' inside a packet: restarting")
                self._start()
            else:
                self._length += 1
                if self._length <= self._max_payload:
                    self._body.append(b)
            return None
        self._check.append(b)
        if state is _State.CHECKSUM_1:
            self._state = _State.CHECKSUM_2
            return None
        return self._finish()

    def _start(self) -> None:
        self._state = _State.DATA
        self._body.clear()
        self._length = 0
        self._check.clear()

    def _finish(self) -> FrameEvent:
        body = bytes(self._body)
        check = bytes(self._check)
        length = self._length
        self.reset()
        if length > self._max_payload:
            return Overlong(length)
        try:
            payload: bytes | None = rle_decode(body)
        except FramingError as exc:
            return BadFrame(str(exc))
        if not all(c in _HEX for c in check):
            return BadFrame(f"non-hex checksum {check!r}", payload)
        expected = checksum(body)
        if int(check, 16) != expected:
            return BadFrame(
                f"checksum {check.decode()} but payload sums to {expected:02x}", payload
            )
        assert payload is not None
        return Packet(payload)
