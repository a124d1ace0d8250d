"""Byte transcripts: what gdb sends, what the session answers, against a fake target."""

from __future__ import annotations

import errno
import logging

import pytest
from fake_target import ALL_CAPABILITIES, FakeTarget, wire
from hypothesis import given, settings
from hypothesis import strategies as st

from gdbstub.session import Session
from gdbstub.target import (
    BreakKind,
    Capability,
    Direction,
    StopKind,
    StopReason,
    TargetError,
)

# The fake's rbp/rsp and the LE hex they pack to.
RBP = b"7777777777777777"
RSP = b"8888888888888888"


def le64(value: int) -> bytes:
    return value.to_bytes(8, "little").hex().encode()


def stop(pc: int, suffix: bytes = b"", sig: bytes = b"05") -> bytes:
    return b"T" + sig + b"06:" + RBP + b";07:" + RSP + b";10:" + le64(pc) + b";thread:4d2;" + suffix


def ok_reply(payload: bytes) -> bytes:
    """What the session sends in ack mode for a good packet: '+' then the reply."""
    return b"+" + wire(payload)


@pytest.fixture
def target() -> FakeTarget:
    return FakeTarget()


@pytest.fixture
def session(target: FakeTarget) -> Session:
    # Without multiprocess+: plain thread-ids (test_stub_multiprocess.py covers the other mode).
    s = Session(target)
    s.feed(wire(b"qSupported:swbreak+;hwbreak+;xmlRegisters=i386"))
    return s


def ask(session: Session, payload: bytes) -> bytes:
    """Send one packet; return the reply payload (checking the ack and framing)."""
    out = session.feed(wire(payload))
    if session.ack_mode:
        assert out[:1] == b"+", out
        out = out[1:]
    assert out[:1] == b"$" and out[-3:-2] == b"#", out
    body = out[1:-3]
    assert out == wire(body)
    return body


# --- handshake -------------------------------------------------------------------


def test_qsupported_exact_bytes(target: FakeTarget) -> None:
    s = Session(target)
    out = s.feed(b"$qSupported:multiprocess+;swbreak+#00")  # bad checksum
    assert out == b"-"
    payload = b"qSupported:multiprocess+;swbreak+"
    out = s.feed(wire(payload))
    assert out == ok_reply(
        b"PacketSize=4000;QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;vContSupported+;multiprocess+;"
        b"swbreak+;hwbreak+;qXfer:auxv:read+;qXfer:exec-file:read+;"
        b"ReverseStep+;ReverseContinue+;QPassSignals+;QProgramSignals+;QCatchSyscalls+"
    )


def test_qsupported_without_reverse_capabilities() -> None:
    caps = ALL_CAPABILITIES - {Capability.REVERSE_STEP, Capability.REVERSE_CONTINUE}
    s = Session(FakeTarget(capabilities=caps))
    reply = ask(s, b"qSupported")
    assert b"Reverse" not in reply
    # and the packets themselves are refused as unsupported
    assert ask(s, b"bc") == b""
    assert ask(s, b"bs") == b""


def test_no_ack_mode(session: Session) -> None:
    assert session.feed(wire(b"QStartNoAckMode")) == b"+" + wire(b"OK")
    assert not session.ack_mode
    assert session.feed(b"+") == b""  # gdb's ack of our OK
    assert session.feed(wire(b"qAttached")) == wire(b"1")
    # no-ack: a bad checksum is not NAKed; the transport is trusted
    assert session.feed(b"$qC#00") == wire(b"QC4d2")
    assert session.feed(b"-") == b""  # and nothing is retransmitted


def test_nak_retransmits_last_reply(session: Session) -> None:
    assert session.feed(wire(b"qC")) == ok_reply(b"QC4d2")
    assert session.feed(b"-") == wire(b"QC4d2")
    assert session.feed(b"+") == b""


def test_simple_queries(session: Session) -> None:
    assert ask(session, b"qAttached") == b"1"
    assert ask(session, b"qC") == b"QC4d2"
    assert ask(session, b"qfThreadInfo") == b"m4d2"
    assert ask(session, b"qsThreadInfo") == b"l"
    assert ask(session, b"qTStatus") == b""
    assert ask(session, b"qOffsets") == b""
    assert ask(session, b"qSymbol::") == b"OK"
    assert ask(session, b"vMustReplyEmpty") == b""
    assert ask(session, b"QThreadEvents:1") == b""
    assert ask(session, b"qThreadExtraInfo,4d2") == b"guest".hex().encode()
    assert ask(session, b"vCont?") == b"vCont;c;C;s;S"
    assert ask(session, b"Hg0") == b"OK"
    assert ask(session, b"Hc-1") == b"OK"
    assert ask(session, b"Hg4d2") == b"OK"
    assert ask(session, b"Hg99") == b"E03"
    assert ask(session, b"T4d2") == b"OK"
    assert ask(session, b"T5") == b"E03"
    assert ask(session, b"!") == b""


# --- registers -------------------------------------------------------------------


def test_g_packet(session: Session, target: FakeTarget) -> None:
    reply = ask(session, b"g")
    assert len(reply) == 1120
    assert reply[:16] == b"1111111111111111"
    assert reply[16 * 16 : 17 * 16] == le64(0x1000)
    assert reply[17 * 16 : 17 * 16 + 8] == b"46020000"
    fs_base_at = 1120 - 32
    assert reply[fs_base_at : fs_base_at + 16] == b"x" * 16


def test_p_packet(session: Session) -> None:
    assert ask(session, b"p10") == le64(0x1000)
    assert ask(session, b"p11") == b"46020000"
    assert ask(session, b"p3a") == b"x" * 16
    assert ask(session, b"p3c") == b"E16"


def test_P_packet(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"P0=2a00000000000000") == b"OK"
    assert target.registers[0] == 0x2A
    assert ask(session, b"P0=2a") == b"E16"  # wrong size
    assert ask(session, b"P10=0000000000000000") == b"E01"  # fake refuses rip: EPERM
    assert ask(session, b"P10=zz") == b"E16"


def test_G_packet_writes_changed_registers(session: Session, target: FakeTarget) -> None:
    regs = ask(session, b"g")
    new = b"2a00000000000000" + regs[16:]
    assert ask(session, b"G" + new) == b"OK"
    assert [c for c in target.calls if c[0] == "write_register"] == [("write_register", 0, 0x2A)]
    assert ask(session, b"G" + new + b"00") == b"E16"


def test_writes_refused_without_capability() -> None:
    caps = ALL_CAPABILITIES - {Capability.WRITE_REGISTERS, Capability.WRITE_MEMORY}
    target = FakeTarget(capabilities=caps, memory={0x2000: 1})
    s = Session(target)
    assert ask(s, b"P0=2a00000000000000") == b"E01"
    assert ask(s, b"G" + b"00" * 8) == b"E01"
    assert ask(s, b"M2000,1:ff") == b"E01"
    assert ask(s, b"X2000,1:\xff") == b"E01"
    assert ask(s, b"X2000,0:") == b"E01"
    assert target.calls == []
    assert target.memory == {0x2000: 1}


# --- memory ----------------------------------------------------------------------


def test_memory(session: Session, target: FakeTarget) -> None:
    target.memory.update({0x2000 + i: i for i in range(4)})
    assert ask(session, b"m2000,4") == b"00010203"
    assert ask(session, b"m2002,8") == b"0203"  # partial read
    assert ask(session, b"m3000,4") == b"E0e"  # EFAULT from the target
    assert ask(session, b"M2000,2:abcd") == b"OK"
    assert ask(session, b"m2000,2") == b"abcd"
    assert ask(session, b"X2000,0:") == b"OK"
    assert ask(session, b"X2000,3:}\x03}]}\x0a") == b"OK"
    assert ask(session, b"m2000,3") == b"237d2a"
    assert ask(session, b"m2000") == b"E16"
    assert ask(session, b"M2000,2:abc") == b"E16"


def test_memory_read_is_capped_to_packet_size(target: FakeTarget) -> None:
    target.memory.update({i: 0xAB for i in range(0x1000)})
    s = Session(target, packet_size=0x100)
    assert ask(s, b"m0,1000") == b"ab" * ((0x100 - 4) // 2)


# --- breakpoints and execution ------------------------------------------------------


def test_step_and_continue_to_breakpoint(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"?") == stop(0x1000)
    assert ask(session, b"s") == stop(0x1004)
    assert ask(session, b"Z0,1010,1") == b"OK"
    assert ask(session, b"c") == stop(0x1010, b"swbreak:;")
    assert ask(session, b"?") == stop(0x1010, b"swbreak:;")
    assert ask(session, b"z0,1010,1") == b"OK"
    assert ask(session, b"z0,1010,1") == b"E02"  # ENOENT from the fake
    assert ask(session, b"c") == stop(0x1024, b"replaylog:end;")
    assert ask(session, b"s") == stop(0x1024, b"replaylog:end;")


def test_reverse_execution(session: Session, target: FakeTarget) -> None:
    target.position = 9
    assert ask(session, b"Hc0") == b"OK"
    assert ask(session, b"bs") == stop(0x1020)
    assert ask(session, b"Z1,1008,1") == b"OK"
    assert ask(session, b"bc") == stop(0x1008, b"hwbreak:;")
    assert ask(session, b"bc") == stop(0x1000, b"replaylog:begin;")
    assert target.calls[-1] == ("resume", False, Direction.BACKWARD)


def test_watchpoint_stop(session: Session, target: FakeTarget) -> None:
    target.writes[3] = 0x601000
    assert ask(session, b"Z2,601000,8") == b"OK"
    assert ask(session, b"c") == stop(0x100C, b"watch:601000;")
    assert ask(session, b"Z3,601000,8") == b"OK"
    assert ask(session, b"Z4,601000,8") == b"OK"
    assert ("insert", BreakKind.ACCESS, 0x601000, 8) in target.calls


def test_breakpoint_with_conditions_tolerated(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"Z0,1008,1;X3,220a00;cmds:0,X1,00") == b"OK"
    assert ("insert", BreakKind.SOFTWARE, 0x1008, 1) in target.calls


def test_breakpoint_kind_without_capability() -> None:
    target = FakeTarget(capabilities=frozenset({Capability.SW_BREAK}))
    s = Session(target)
    assert ask(s, b"Z1,1000,1") == b""
    assert ask(s, b"Z2,1000,1") == b""
    assert ask(s, b"Z0,1000,1") == b"OK"


def test_stop_reasons_only_when_gdb_asked(target: FakeTarget) -> None:
    s = Session(target)  # no qSupported: gdb never said swbreak+
    assert ask(s, b"Z0,1008,1") == b"OK"
    assert ask(s, b"c") == stop(0x1008)


def test_signal_resume_variants(session: Session) -> None:
    assert ask(session, b"C0b") == stop(0x1024, b"replaylog:end;")
    assert ask(session, b"S05") == stop(0x1024, b"replaylog:end;")
    assert ask(session, b"c1000") == stop(0x1024, b"replaylog:end;")


def test_vcont(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"vCont;s:4d2;c") == stop(0x1004)
    assert ask(session, b"vCont;s:99;c") == stop(0x1024, b"replaylog:end;")
    target.position = 0
    assert ask(session, b"vCont;S05:4d2") == stop(0x1004)
    assert ask(session, b"vCont;r1000,1010:4d2") == stop(0x1008)
    assert ask(session, b"vCont;c:99") == b"E03"
    assert ask(session, b"vCont;t") == b"E16"
    assert ask(session, b"vCont;") == b"E16"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (StopReason(StopKind.EXITED, exit_status=0), b"W00"),
        (StopReason(StopKind.TERMINATED, signal=11), b"X0b"),
        (StopReason(StopKind.SIGNAL, signal=11), stop(0x1000, sig=b"0b")),
        (StopReason(StopKind.INTERRUPTED), stop(0x1000, sig=b"02")),
        (StopReason(StopKind.RWATCH, address=0xABC), stop(0x1000, b"rwatch:abc;")),
        (StopReason(StopKind.AWATCH, address=0xABC), stop(0x1000, b"awatch:abc;")),
    ],
)
def test_question_mark_stop_replies(
    session: Session, target: FakeTarget, reason: StopReason, expected: bytes
) -> None:
    target.current_stop = reason
    assert ask(session, b"?") == expected


# --- qXfer ---------------------------------------------------------------------------


def test_target_xml_via_qxfer(session: Session) -> None:
    chunks = []
    offset = 0
    while True:
        reply = ask(session, b"qXfer:features:read:target.xml:%x,200" % offset)
        assert reply[:1] in (b"m", b"l")
        chunks.append(reply[1:])
        offset += 0x200
        if reply[:1] == b"l":
            break
    xml = b"".join(chunks)
    assert xml.startswith(b'<?xml version="1.0"?>')
    assert xml.count(b"<reg ") == 60
    assert ask(session, b"qXfer:features:read:other.xml:0,100") == b"E02"


def test_auxv_and_exec_file(session: Session) -> None:
    assert ask(session, b"qXfer:auxv:read::0,10") == b"m" + bytes(range(16))
    assert ask(session, b"qXfer:auxv:read::20,10") == b'l !"}\x03}\x04%&\''  # '#$' escaped
    assert ask(session, b"qXfer:exec-file:read::0,100") == b"l/bin/guest"
    assert ask(session, b"qXfer:exec-file:read:4d2:0,100") == b"l/bin/guest"
    assert ask(session, b"qXfer:threads:read::0,100") == (
        b'l<?xml version="1.0"?>\n<threads>\n<thread id="4d2" name="guest"/>\n</threads>\n')


def test_auxv_without_capability() -> None:
    s = Session(FakeTarget(capabilities=frozenset()))
    assert ask(s, b"qXfer:auxv:read::0,10") == b""
    assert ask(s, b"qXfer:exec-file:read::0,10") == b""
    assert b"auxv" not in ask(s, b"qSupported")


# --- monitor --------------------------------------------------------------------------


def test_monitor(session: Session) -> None:
    out = session.feed(wire(b"qRcmd," + b"help".hex().encode()))
    assert out == b"+" + wire(b"O" + b"ran help\n".hex().encode()) + wire(b"OK")
    assert ask(session, b"qRcmd," + b"quiet".hex().encode()) == b"OK"
    assert ask(session, b"qRcmd," + b"fail".hex().encode()) == b"E16"


def test_monitor_without_capability() -> None:
    s = Session(FakeTarget(capabilities=frozenset()))
    assert ask(s, b"qRcmd,6869") == b""


# --- host I/O ---------------------------------------------------------------------------


def test_host_io(session: Session) -> None:
    path = b"/bin/guest".hex().encode()
    assert ask(session, b"vFile:setfs:0") == b"F0"
    assert ask(session, b"vFile:open:" + path + b",0,0") == b"F3"
    assert ask(session, b"vFile:pread:3,4,0") == b"F4;\x7fELF"
    assert ask(session, b"vFile:pread:3,2,27") == b"F2;}\x03}\x04"  # bytes '#', '$'
    assert ask(session, b"vFile:pread:3,10,1000") == b"F0;"
    fstat = ask(session, b"vFile:fstat:3")
    assert fstat.startswith(b"F40;")
    assert ask(session, b"vFile:close:3") == b"F0"
    assert ask(session, b"vFile:close:3") == b"F-1,9"
    assert ask(session, b"vFile:open:" + b"/nope".hex().encode() + b",0,0") == b"F-1,2"
    assert ask(session, b"vFile:readlink:" + path) == b"F-1,2"
    assert ask(session, b"vFile:readlink:" + b"/proc/1234/exe".hex().encode()) == b"Fa;/bin/guest"
    assert ask(session, b"vFile:pread:3") == b"E16"


def test_host_setfs_other_pid(session: Session) -> None:
    assert ask(session, b"vFile:setfs:99") == b"F-1,270f"


def test_host_io_without_capability() -> None:
    s = Session(FakeTarget(capabilities=frozenset()))
    assert ask(s, b"vFile:setfs:0") == b""
    assert ask(s, b"vFile:open:2f,0,0") == b""


# --- detach / kill ----------------------------------------------------------------------


def test_detach(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"D") == b"OK"
    assert session.closed and target.detached


def test_kill_without_reply(session: Session, target: FakeTarget) -> None:
    assert session.feed(wire(b"k")) == b"+"
    assert session.closed and target.killed


def test_vkill(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"vKill;4d2") == b"OK"
    assert session.closed and target.killed


# --- malformed input ----------------------------------------------------------------------


def test_overlong_packet(target: FakeTarget) -> None:
    s = Session(target, packet_size=0x40)
    assert s.feed(wire(b"M0,40:" + b"00" * 0x40)) == b"+" + wire(b"E07")
    assert ask(s, b"qC") == b"QC4d2"  # and the next packet is fine


def test_garbage_between_packets_ignored(session: Session) -> None:
    assert session.feed(b"garbage\x00\xff" + wire(b"qC")) == ok_reply(b"QC4d2")


def test_interrupt_while_stopped_is_ignored(session: Session) -> None:
    assert session.feed(b"\x03") == b""


def test_rle_output(target: FakeTarget) -> None:
    s = Session(target, rle=True)
    target.memory.update({i: 0 for i in range(8)})
    assert s.feed(wire(b"m0,8")) == b"+" + wire(b"0*,")  # '0' + 15 more


def test_target_crash_becomes_error_reply(
    session: Session, target: FakeTarget, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(tid: int | None = None) -> list[int | None]:
        raise RuntimeError("engine bug")

    target.read_registers = boom  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="gdbstub.session"):
        assert ask(session, b"g") == b"E05"
    assert "engine bug" in caplog.text


def test_target_error_maps_to_errno(session: Session, target: FakeTarget) -> None:
    def fail(*args: object) -> StopReason:
        raise TargetError(errno.EIO)

    target.resume = fail  # type: ignore[method-assign]
    assert ask(session, b"c") == b"E05"


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_session_never_raises(data: bytes) -> None:
    s = Session(FakeTarget())
    s.feed(data)
    s.feed(wire(data.replace(b"#", b"").replace(b"$", b"")))


@settings(max_examples=100)
@given(st.lists(st.integers(min_value=1, max_value=7), min_size=1))
def test_session_output_independent_of_chunking(cuts: list[int]) -> None:
    stream = b"".join(
        wire(p) for p in (b"qSupported:swbreak+", b"qC", b"m1000,2", b"Z0,1008,1", b"c", b"?")
    ) + b"-"
    whole = Session(FakeTarget(memory={0x1000: 1, 0x1001: 2})).feed(stream)
    session = Session(FakeTarget(memory={0x1000: 1, 0x1001: 2}))
    out = b""
    pos = 0
    i = 0
    while pos < len(stream):
        n = cuts[i % len(cuts)]
        out += session.feed(stream[pos : pos + n])
        pos += n
        i += 1
    assert out == whole
    assert whole.endswith(wire(stop(0x1008, b"swbreak:;")) * 2)
