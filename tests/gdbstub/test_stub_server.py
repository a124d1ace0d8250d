"""The server over a real loopback socket: Ctrl-C, disconnects, reconnects, shutdown."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fake_target import FakeTarget, wire

from gdbstub.server import GdbServer

TIMEOUT = 5.0
_PACKET = re.compile(rb"\$([^#]*)#[0-9a-f]{2}")


class Client:
    """A minimal gdb stand-in: sends packets, collects acks and reply packets."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_packet(self) -> bytes:
        deadline = time.monotonic() + TIMEOUT
        while True:
            match = _PACKET.search(self.buffer)
            if match:
                self.buffer = self.buffer[match.end() :]
                return match.group(1)
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply; have {self.buffer!r}")
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError(f"connection closed; have {self.buffer!r}")
            self.buffer += chunk

    def ask(self, payload: bytes) -> bytes:
        self.send(wire(payload))
        reply = self.read_packet()
        self.send(b"+")
        return reply

    def at_eof(self) -> bool:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            chunk = self.sock.recv(4096)
            if not chunk:
                return True
            self.buffer += chunk
        return False

    def close(self) -> None:
        self.sock.close()


def wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def target() -> FakeTarget:
    return FakeTarget()


@pytest.fixture
def server(target: FakeTarget) -> Iterator[GdbServer]:
    srv = GdbServer(target, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "serve_forever did not return after shutdown()"


def test_binds_loopback_port_zero(server: GdbServer) -> None:
    host, port = server.address
    assert host == "127.0.0.1"
    assert port == server.port and port > 0


def test_exchange_ack_bytes_exactly(server: GdbServer) -> None:
    client = Client(server.port)
    client.send(wire(b"qC"))
    expected = b"+" + wire(b"QC4d2")
    data = b""
    while len(data) < len(expected):
        data += client.sock.recv(4096)
    assert data == expected
    client.close()


def test_reconnect_after_disconnect(server: GdbServer) -> None:
    first = Client(server.port)
    assert first.ask(b"qAttached") == b"1"
    first.close()
    second = Client(server.port)
    assert second.ask(b"qC") == b"QC4d2"
    assert second.ask(b"QStartNoAckMode") == b"OK"
    second.send(wire(b"qAttached"))
    assert second.read_packet() == b"1"
    second.close()
    third = Client(server.port)  # fresh session: back in ack mode
    third.send(wire(b"qC"))
    expected = b"+" + wire(b"QC4d2")
    data = b""
    while len(data) < len(expected):
        data += third.sock.recv(4096)
    assert data == expected
    third.close()


def test_interrupt_long_running_resume() -> None:
    target = FakeTarget(spin=True)
    with GdbServer(target, port=0) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        client = Client(srv.port)
        client.send(wire(b"c"))
        wait_for(lambda: target.resume_started == 1, "resume to start")
        time.sleep(0.05)  # it really is running
        client.send(b"\x03")
        reply = client.read_packet()
        assert reply.startswith(b"T02") and b"thread:4d2;" in reply
        client.send(b"+")
        # the next resume is not pre-interrupted by the old 0x03
        target.spin = False
        client.send(wire(b"c"))
        assert client.read_packet().endswith(b"replaylog:end;")
        client.close()
    thread.join(TIMEOUT)
    assert not thread.is_alive()


def test_interrupt_in_no_ack_mode() -> None:
    target = FakeTarget(spin=True)
    with GdbServer(target, port=0) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        client = Client(srv.port)
        assert client.ask(b"QStartNoAckMode") == b"OK"
        client.send(wire(b"vCont;c"))
        wait_for(lambda: target.resume_started == 1, "resume to start")
        client.send(b"\x03")
        assert client.read_packet().startswith(b"T02")
        client.close()
    thread.join(TIMEOUT)


def test_disconnect_mid_resume_leaves_server_ready() -> None:
    target = FakeTarget(spin=True)
    with GdbServer(target, port=0) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        client = Client(srv.port)
        client.send(wire(b"c"))
        wait_for(lambda: target.resume_started == 1, "resume to start")
        client.close()
        # the resume is stopped by the disconnect, and the next client is served
        wait_for(lambda: target.current_stop.kind.name == "INTERRUPTED", "resume to end")
        again = Client(srv.port)
        assert again.ask(b"qC") == b"QC4d2"
        again.close()
    thread.join(TIMEOUT)
    assert not thread.is_alive()


def test_detach_closes_connection_but_server_stays(server: GdbServer, target: FakeTarget) -> None:
    client = Client(server.port)
    assert client.ask(b"D") == b"OK"
    assert client.at_eof()
    assert target.detached
    client.close()
    again = Client(server.port)
    assert again.ask(b"qC") == b"QC4d2"
    again.close()


def test_once_serves_a_single_client(target: FakeTarget) -> None:
    srv = GdbServer(target, port=0, once=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    client = Client(srv.port)
    client.send(wire(b"k"))
    assert client.at_eof()
    client.close()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert target.killed
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()


def test_shutdown_during_resume() -> None:
    target = FakeTarget(spin=True)
    srv = GdbServer(target, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    client = Client(srv.port)
    client.send(wire(b"c"))
    wait_for(lambda: target.resume_started == 1, "resume to start")
    srv.shutdown()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    client.close()


def test_serve_one_returns_false_after_shutdown(target: FakeTarget) -> None:
    srv = GdbServer(target, port=0)
    srv.shutdown()
    assert srv.serve_one() is False
