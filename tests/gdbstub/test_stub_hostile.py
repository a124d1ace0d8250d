"""A hostile or broken peer: NAK floods, vanishing mid-command, and fuzzed bytes.

The fuzzers feed random and mutated traffic (well-framed random payloads,
bad checksums, raw noise, huge numbers, binary ``X``/``M`` data, host I/O on
hostile paths, ``qXfer`` at absurd offsets...) to a session over the fake
target and check that nothing escapes, that every reply is well framed, and
that a scripted gdb exchange still works afterwards.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fake_target import FakeTarget, wire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdbstub.framing import escape
from gdbstub.server import GdbServer
from gdbstub.session import MAX_RESENDS, Session

TIMEOUT = 5.0
_FRAME = re.compile(rb"\$([^$#]*)#([0-9a-f]{2})")


def _frames(out: bytes) -> list[bytes]:
    """Split what the session sent into acks and checked frames; fail on anything else."""
    payloads = []
    pos = 0
    while pos < len(out):
        if out[pos:pos + 1] in (b"+", b"-"):
            pos += 1
            continue
        m = _FRAME.match(out, pos)
        assert m, f"garbage in the stub's output at {pos}: {out[pos:pos + 40]!r}"
        assert int(m.group(2), 16) == sum(m.group(1)) & 0xFF, m.group(0)[:60]
        payloads.append(m.group(1))
        pos = m.end()
    return payloads


# -- NAK floods ---------------------------------------------------------------------------
def test_a_nak_flood_gets_a_few_resends_then_the_connection_is_dropped(caplog) -> None:
    session = Session(FakeTarget())
    reply = session.feed(wire(b"g"))
    assert reply.startswith(b"+$")
    sent = reply[1:]
    with caplog.at_level(logging.WARNING, logger="gdbstub"):
        out = session.feed(b"-" * 20_000)
    assert out == sent * MAX_RESENDS                   # was 20,000 copies (164 MB for a big reply)
    assert session.closed
    assert any("dropping the connection" in r.getMessage() for r in caplog.records)


def test_resends_are_counted_per_packet() -> None:
    session = Session(FakeTarget())
    for _ in range(3):
        reply = session.feed(wire(b"qC"))
        assert session.feed(b"-" * MAX_RESENDS) == reply[1:] * MAX_RESENDS
        assert not session.closed                       # a new packet starts a new count


# -- over a socket: floods and vanishing clients --------------------------------------------
@pytest.fixture
def served() -> Iterator[tuple[GdbServer, FakeTarget]]:
    target = FakeTarget()
    srv = GdbServer(target, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv, target
    srv.shutdown()
    thread.join(TIMEOUT)


def _recv_all(sock: socket.socket, limit: int | None = None) -> bytes:
    """Everything until EOF (or until `limit` bytes, if given)."""
    data = b""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk or (limit is not None and len(data + chunk) >= limit):
            return data + chunk
        data += chunk
    raise AssertionError(f"the stub kept the connection open ({len(data)} bytes)")


def test_a_nak_flood_over_a_socket_ends_the_connection(served) -> None:
    srv, target = served
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as sock:
        sock.sendall(wire(b"g"))
        sock.sendall(b"-" * 20_000)
        data = _recv_all(sock)
    assert len(data) < 10_000, len(data)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as sock:
        sock.sendall(wire(b"qC"))                     # the next client is served normally
        assert _recv_all(sock, len(b"+" + wire(b"QC4d2"))) == b"+" + wire(b"QC4d2")


def test_a_client_that_vanishes_during_a_monitor_command_interrupts_it(served) -> None:
    srv, target = served
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    sock.sendall(wire(b"qRcmd," + b"spin".hex().encode()))
    deadline = time.monotonic() + TIMEOUT
    while ("monitor", "spin") not in target.calls:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    sock.close()
    while ("monitor interrupted", "spin") not in target.calls:
        assert time.monotonic() < deadline, "the monitor command ran on after its client left"
        time.sleep(0.005)


# -- fuzzing the session ------------------------------------------------------------------
_PREFIXES = [b"m", b"M", b"X", b"g", b"G", b"p", b"P", b"H", b"T", b"Z0,", b"Z1,", b"Z2,", b"z3,", b"Z4,",
             b"c", b"s", b"C", b"S", b"bc", b"bs", b"vCont;", b"vCont?", b"?", b"qSupported:", b"qC",
             b"qAttached", b"qfThreadInfo", b"qsThreadInfo", b"qSymbol::", b"qRcmd,", b"QStartNoAckMode",
             b"qXfer:features:read:target.xml:", b"qXfer:auxv:read::", b"qXfer:exec-file:read:",
             b"vFile:open:", b"vFile:pread:", b"vFile:close:", b"vFile:fstat:", b"vFile:setfs:",
             b"vMustReplyEmpty", b"qOffsets", b"D", b"k", b"vKill;", b"!", b"R", b"i"]
_HOSTILE_PATHS = [b"../../../../etc/passwd", b"/proc/self/../../etc/shadow", b"/" + b"a/" * 3000,
                  b"/bin/guest\x00/etc/passwd", b"\xff\xfe/\x80", b"", b"/dev/zero", b"/proc/1234/mem"]
_HUGE = [b"f" * 16, b"1" + b"0" * 16, b"f" * 40, b"-1", b"7fffffff", b"ffffffff", b"0" * 5000]

_body_text = st.text(alphabet="0123456789abcdefABCDEF,:;.-xp", max_size=60).map(str.encode)
_raw = st.binary(max_size=120)


@st.composite
def _payload(draw) -> bytes:
    """A plausible packet with random or hostile arguments."""
    prefix = draw(st.sampled_from(_PREFIXES))
    kind = draw(st.integers(0, 4))
    if kind == 0:
        body = draw(_body_text)
    elif kind == 1:                                   # huge numbers in every field
        body = b",".join(draw(st.lists(st.sampled_from(_HUGE), min_size=1, max_size=3)))
    elif kind == 2:                                   # binary data (X/M), escaped as gdb does
        data = draw(_raw)
        body = b"%x,%x:" % (draw(st.integers(0, 1 << 64)), draw(st.integers(0, 300))) + escape(data)
    elif kind == 3:                                   # host I/O on hostile paths
        path = draw(st.sampled_from(_HOSTILE_PATHS))
        body = path.hex().encode() + b"," + draw(st.sampled_from([b"0", b"1", b"2", b"241"])) + b",1ff"
    else:                                             # qXfer-style offset,length
        body = b"%x,%x" % (draw(st.integers(0, 1 << 80)), draw(st.integers(0, 1 << 40)))
    return escape(prefix + body)


def _frame_raw(payload: bytes, good: bool) -> bytes:
    total = sum(payload) & 0xFF
    return b"$" + payload + b"#" + b"%02x" % (total if good else total ^ 0x5A)


_chunk = st.one_of(
    st.builds(_frame_raw, _payload(), st.just(True)),
    st.builds(_frame_raw, _payload(), st.just(False)),                   # bad checksum
    st.builds(_frame_raw, _raw.map(escape), st.booleans()),              # random payload bytes
    _raw,                                                                # noise
    st.sampled_from([b"-" * 50, b"+", b"\x03", b"$", b"#", b"}", b"*", b"$" + b"A" * 20_000 + b"#00",
                     b"$m0," + b"f" * 30_000, b"$}", b"$*#2a", b"$a*\x20#00"]),
)


def _scripted_exchange(session: Session, target: FakeTarget) -> None:
    """What gdb sends on connecting; each reply must have the right shape."""
    session.feed(b"$#00")                            # resynchronise a decoder left mid-packet

    def ask(payload: bytes) -> bytes:
        got = _frames(session.feed(wire(payload)))
        assert len(got) == 1, got
        return got[0]

    assert ask(b"qSupported:multiprocess+;swbreak+;hwbreak+").startswith(b"PacketSize=")
    assert ask(b"?")[:1] in (b"T", b"S", b"W", b"X")
    regs = ask(b"g")
    assert re.fullmatch(rb"[0-9a-fx]+", regs) and len(regs) > 100
    assert re.fullmatch(rb"[0-9a-f]{8}|E[0-9a-f]{2}", ask(b"m%x,4" % target.pc))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_chunk, max_size=12))
def test_fuzzed_traffic_never_breaks_the_session(chunks: list[bytes]) -> None:
    target = FakeTarget()
    session = Session(target)
    errors = _ErrorLog()
    logging.getLogger("gdbstub").addHandler(errors)
    try:
        for chunk in chunks:
            _frames(session.feed(chunk))             # never raises; always well framed
        if session.closed:                           # gdb detached or was dropped: it reconnects
            session = Session(target)
        _scripted_exchange(session, target)
    finally:
        logging.getLogger("gdbstub").removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]


class _ErrorLog(logging.Handler):
    """Collects ERROR records: a handler that raised is a bug even if it was answered."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_flood_of_packets_during_a_long_resume_drops_the_connection() -> None:
    target = FakeTarget(spin=True)                      # a continue ends only when interrupted
    srv = GdbServer(target, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as sock:
            sock.sendall(wire(b"c"))
            deadline = time.monotonic() + TIMEOUT
            while target.resume_started == 0:
                assert time.monotonic() < deadline
                time.sleep(0.005)
            try:
                sock.sendall(wire(b"qC") * 20_000)       # 20,000 packets nobody waits for
            except OSError:
                pass                                    # dropped while sending: fine
            started = time.monotonic()
            _recv_all(sock)                             # EOF, well before the spin's 10 s
            assert time.monotonic() - started < TIMEOUT
        assert target.current_stop.kind.name == "INTERRUPTED"
    finally:
        srv.shutdown()
        thread.join(TIMEOUT)
