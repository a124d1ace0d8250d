"""The Debug Adapter Protocol's base protocol: JSON messages framed by `Content-Length` headers.

    Content-Length: 119\\r\\n
    \\r\\n
    {"seq": 1, "type": "request", "command": "initialize", ...}

`read_message` returns one decoded message, None at a clean end of input,
and raises FramingError (one line) for anything else: a header without a
length, a body cut short, bytes that are not a JSON object.  Nothing here
knows what a request means.
"""

from __future__ import annotations

import json
import os
from typing import Protocol

MAX_HEADER_LINE = 1024             # a header line longer than this is not DAP
MAX_BODY = 64 << 20                # nor is a body above 64 MiB


class FramingError(Exception):
    """The input is not (or no longer) framed DAP; `fatal` when the stream cannot be resynchronised."""

    def __init__(self, message: str, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


class Input(Protocol):
    def readline(self, limit: int) -> bytes: ...
    def read(self, n: int) -> bytes: ...


class FdInput:
    """Buffered reads of a file descriptor through os.read: unlike sys.stdin's buffer it holds no
    lock, so a reader thread blocked in it cannot hang the interpreter's exit."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = b""
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = os.read(self.fd, 65536)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self._buf[:limit] and len(self._buf) < limit and self._fill():
            pass
        end = self._buf.find(b"\n", 0, limit)
        cut = end + 1 if end >= 0 else min(limit, len(self._buf))
        line, self._buf = self._buf[:cut], self._buf[cut:]
        return line

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and self._fill():
            pass
        data, self._buf = self._buf[:n], self._buf[n:]
        return data


def read_message(stream: Input) -> dict | None:
    """The next message, or None at end of input before any header byte."""
    length = None
    first = True
    while True:
        line = stream.readline(MAX_HEADER_LINE + 1)
        if not line:
            if first:
                return None
            raise FramingError("input ended inside a message header", fatal=True)
        first = False
        if len(line) > MAX_HEADER_LINE or not line.endswith(b"\n"):
            raise FramingError("a header line is too long or unterminated", fatal=True)
        text = line.rstrip(b"\r\n")
        if not text:
            break
        name, sep, value = text.partition(b":")
        if not sep:
            raise FramingError(f"not a header line: {_show(text)}", fatal=True)
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise FramingError(f"bad Content-Length: {_show(value.strip())}", fatal=True) from None
    if length is None:
        raise FramingError("a message without a Content-Length header", fatal=True)
    if not 0 <= length <= MAX_BODY:
        raise FramingError(f"Content-Length {length} is out of range (0-{MAX_BODY})", fatal=True)
    body = stream.read(length)
    if len(body) < length:
        raise FramingError(f"input ended {length - len(body)} bytes into a {length}-byte message", fatal=True)
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FramingError(f"the message is not JSON: {str(exc).splitlines()[0]}", fatal=False) from None
    if not isinstance(message, dict):
        raise FramingError("the message is not a JSON object", fatal=False)
    return message


def encode(message: dict) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _show(raw: bytes) -> str:
    return repr(raw[:60].decode("latin-1"))
