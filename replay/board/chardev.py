"""The host side of a board's UART: where its input comes from and its output goes.

`--uart stdio` (input from stdin, output to stdout), `file:PATH` (output to
PATH; no input), `null` (neither).  At replay only the output side exists:
the input comes from the log, never from the host.
"""

from __future__ import annotations

import os
import select
import sys
from typing import BinaryIO

from ..errors import ReplayError

SPECS = "stdio, file:PATH or null"


class UartError(ReplayError):
    exit_status = 2        # a usage error, as a bad --uart at record


def _check(spec: str) -> str:
    if spec in ("stdio", "null") or (spec.startswith("file:") and len(spec) > 5):
        return spec
    raise UartError(f"--uart {spec!r}: expected {SPECS}")


class UartOutput:
    def __init__(self, spec: str) -> None:
        spec = _check(spec)
        self._file: BinaryIO | None = None
        self._own = False
        if spec == "stdio":
            self._file = sys.stdout.buffer
        elif spec.startswith("file:"):
            try:
                self._file = open(spec[5:], "wb")
            except OSError as exc:
                raise UartError(f"--uart {spec}: cannot write {spec[5:]}: {exc.strerror}") from None
            self._own = True

    def write(self, data: bytes) -> None:
        if self._file is not None:
            self._file.write(data)
            if not self._own:
                self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            if self._own:
                self._file.close()
            self._file = None


class UartInput:
    """Bytes the host offers the UART (recording only)."""

    def __init__(self, spec: str) -> None:
        spec = _check(spec)
        self._fd = 0 if spec == "stdio" else -1
        self.ended = self._fd < 0

    def read(self, limit: int, timeout: float = 0) -> bytes | None:
        """Up to `limit` bytes; None if none came within `timeout` seconds; b"" at the end."""
        if self.ended:
            return b""
        try:
            ready, _, _ = select.select([self._fd], [], [], timeout)
            if not ready:
                return None
            data = os.read(self._fd, limit)
        except (OSError, ValueError):
            data = b""
        if not data:
            self.ended = True
        return data
