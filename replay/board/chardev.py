"""The host side of a board's UART: where its input comes from and its output goes.

`--uart stdio` (input from stdin, output to stdout), `file:PATH` (output to
PATH; no input), `null` (neither), `tcp:PORT` (recording only: ttdbg listens
on 127.0.0.1:PORT, waits for one client, and the UART's input comes from it
and its output goes to it, as QEMU's `-serial tcp::PORT,server`; PORT 0 takes
a free port, named in the waiting line).  At replay only the output side
exists: the input comes from the log, never from the host, and `tcp:` is
refused (the replay never touches the network).
"""

from __future__ import annotations

import os
import select
import socket
import sys
from collections.abc import Callable
from typing import BinaryIO

from ..errors import ReplayError

SPECS = "stdio, file:PATH, tcp:PORT or null"
REPLAY_SPECS = "stdio, file:PATH or null"


class UartError(ReplayError):
    exit_status = 2        # a usage error, as a bad --uart at record


class UartInterrupted(ReplayError):
    exit_status = 130      # Ctrl-C while waiting for the UART's client


def tcp_port(spec: str) -> int | None:
    """PORT of `tcp:PORT` (None: not a tcp spec); UartError if PORT is not one."""
    if not spec.startswith("tcp:"):
        return None
    text = spec[4:]
    if not text.isdigit() or int(text) > 65535:
        raise UartError(f"--uart {spec!r}: expected tcp:PORT with PORT a number from 0 to 65535")
    return int(text)


def check_spec(spec: str, replay: bool = False) -> str:
    """`spec` if it names a backend (at replay: an output one), else UartError."""
    if spec in ("stdio", "null") or (spec.startswith("file:") and len(spec) > 5):
        return spec
    if tcp_port(spec) is not None:
        if not replay:
            return spec
        raise UartError(f"--uart {spec}: a replay never touches the network (its UART input comes from "
                        f"the trace); expected {REPLAY_SPECS}")
    raise UartError(f"--uart {spec!r}: expected {REPLAY_SPECS if replay else SPECS}")



class UartOutput:
    def __init__(self, spec: str) -> None:
        spec = check_spec(spec, replay=True)
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
        self._fd = 0 if check_spec(spec) == "stdio" else -1
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


class TcpUart(UartInput):
    """`tcp:PORT`: one client on 127.0.0.1:PORT is both the input and the output."""

    def __init__(self, spec: str) -> None:
        port = tcp_port(spec)
        assert port is not None
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind(("127.0.0.1", port))
            self._listener.listen(1)
        except OSError as exc:
            self._listener.close()
            raise UartError(f"--uart {spec}: cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
        self.port = self._listener.getsockname()[1]
        self._client: socket.socket | None = None
        self._fd = -1
        self.ended = False

    def accept(self, should_stop: Callable[[], bool], say: Callable[[str], None]) -> None:
        """Wait for the client (as QEMU's `server,wait`), polling should_stop (Ctrl-C)."""
        say(f"UART0 on tcp:127.0.0.1:{self.port}: waiting for a connection")
        while True:
            ready, _, _ = select.select([self._listener], [], [], 0.1)
            if ready:
                break
            if should_stop():
                self.close()
                raise UartInterrupted("interrupted while waiting for the UART's client: nothing recorded")
        self._client, _ = self._listener.accept()
        self._client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._listener.close()
        self._fd = self._client.fileno()

    def write(self, data: bytes) -> None:
        """To the client; once it has gone, the output is dropped (only its count is logged)."""
        if self._client is not None:
            try:
                self._client.sendall(data)
            except OSError:
                self._client.close()
                self._client, self._fd, self.ended = None, -1, True

    def close(self) -> None:
        self._listener.close()
        if self._client is not None:
            try:
                self._client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._client.close()
            self._client = None


def open_recording_uart(spec: str) -> tuple[UartInput, UartOutput | TcpUart]:
    """The input and output backends of `--uart spec` at record (a TcpUart is both;
    call its accept() before running)."""
    if tcp_port(check_spec(spec)) is not None:
        tcp = TcpUart(spec)
        return tcp, tcp
    return UartInput(spec), UartOutput(spec)
