"""Byte transcripts with several threads: listing, selecting, stepping one, stops naming theirs.

The fake's history runs thread 4d2 ("guest") for instructions 0-2 and 5-6,
thread 4d3 ("worker") for 3-4 and 7-9.  A step's stop is in the thread that
made the instruction (as a stepped thread traps after it), a breakpoint's in
the thread about to run it.  Every thread resumes together
(all-stop); ``Hg`` picks whose registers ``g``/``p`` read; a step steps the
thread ``Hc`` (or a ``vCont;s:`` action) names.
"""

from __future__ import annotations

import pytest
from fake_target import FakeTarget, wire
from hypothesis import given, settings
from hypothesis import strategies as st
from test_stub_session import RBP, RSP, ask, le64

from gdbstub.session import Session
from gdbstub.target import Direction

MAIN, WORKER = 0x4D2, 0x4D3
TIDS = [MAIN] * 3 + [WORKER] * 2 + [MAIN] * 2 + [WORKER] * 3
PCS = [0x1000 + 4 * i for i in range(10)]


def stop(pc: int, thread: bytes, suffix: bytes = b"") -> bytes:
    return b"T0506:" + RBP + b";07:" + RSP + b";10:" + le64(pc) + b";thread:" + thread + b";" + suffix


@pytest.fixture
def target() -> FakeTarget:
    return FakeTarget(list(PCS), tids=list(TIDS), names={MAIN: "guest", WORKER: "worker"})


def connect(target: FakeTarget, *, multiprocess: bool = True, packet_size: int = 0x4000) -> Session:
    s = Session(target, packet_size=packet_size)
    features = b"multiprocess+;swbreak+;hwbreak+" if multiprocess else b"swbreak+;hwbreak+"
    assert b"qXfer:threads:read+" in ask(s, b"qSupported:" + features)
    return s


@pytest.fixture
def session(target: FakeTarget) -> Session:
    return connect(target)


def rax_and_rip(g_reply: bytes) -> tuple[int, int]:
    def reg(n: int) -> int:
        return int.from_bytes(bytes.fromhex(g_reply[16 * n : 16 * n + 16].decode()), "little")

    return reg(0), reg(16)


def test_thread_list_names_every_thread(session: Session) -> None:
    assert ask(session, b"qfThreadInfo") == b"mp4d2.4d2,p4d2.4d3"
    assert ask(session, b"qsThreadInfo") == b"l"
    assert ask(session, b"qXfer:threads:read::0,1000") == (
        b'l<?xml version="1.0"?>\n<threads>\n<thread id="p4d2.4d2" name="guest"/>\n'
        b'<thread id="p4d2.4d3" name="worker"/>\n</threads>\n')
    assert ask(session, b"qThreadExtraInfo,p4d2.4d3") == b"worker".hex().encode()
    assert ask(session, b"qThreadExtraInfo,p4d2.99") == b"E03"


def test_plain_thread_ids_without_multiprocess(target: FakeTarget) -> None:
    s = connect(target, multiprocess=False)
    assert ask(s, b"qfThreadInfo") == b"m4d2,4d3"
    assert b'<thread id="4d3" name="worker"/>' in ask(s, b"qXfer:threads:read::0,1000")
    assert ask(s, b"T4d3") == b"OK"


def test_thread_alive(session: Session) -> None:
    assert ask(session, b"Tp4d2.4d3") == b"OK"
    assert ask(session, b"Tp4d2.4d4") == b"E03"
    assert ask(session, b"Hgp4d2.4d4") == b"E03"


def test_stop_reply_names_the_thread_that_stopped(session: Session) -> None:
    assert ask(session, b"qC") == b"QCp4d2.4d2"
    assert ask(session, b"Z0,%x,1" % PCS[4]) == b"OK"
    assert ask(session, b"c") == stop(PCS[4], b"p4d2.4d3", b"swbreak:;")
    assert ask(session, b"qC") == b"QCp4d2.4d3"
    assert ask(session, b"?") == stop(PCS[4], b"p4d2.4d3", b"swbreak:;")


def test_hg_selects_whose_registers(session: Session, target: FakeTarget) -> None:
    target.position = 5  # the main thread runs; the worker last ran at 4
    assert rax_and_rip(ask(session, b"g"))[1] == PCS[5]
    assert ask(session, b"Hgp4d2.4d3") == b"OK"
    assert rax_and_rip(ask(session, b"g")) == (WORKER, PCS[4])
    assert ask(session, b"p10") == le64(PCS[4])
    assert ask(session, b"Hg0") == b"OK"  # any thread: the current one
    assert rax_and_rip(ask(session, b"g"))[1] == PCS[5]


def test_a_stop_makes_its_thread_the_selected_one(session: Session, target: FakeTarget) -> None:
    """gdb takes the thread of a stop reply as its general thread (remote.c's
    record_currthread): the next g without an Hg must read that thread."""
    assert ask(session, b"Hgp4d2.4d2") == b"OK"
    assert ask(session, b"Z0,%x,1" % PCS[8]) == b"OK"
    assert ask(session, b"c") == stop(PCS[8], b"p4d2.4d3", b"swbreak:;")
    assert rax_and_rip(ask(session, b"g"))[1] == PCS[8]


def test_hc_picks_the_thread_a_step_steps(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"Hcp4d2.4d3") == b"OK"
    # from 0 (main), a step of the worker runs main's 0-2 and the worker's 3
    assert ask(session, b"s") == stop(PCS[4], b"p4d2.4d3")
    assert target.calls[-1] == ("resume", True, Direction.FORWARD, WORKER)
    assert ask(session, b"s") == stop(PCS[5], b"p4d2.4d3")  # the stop's thread: no tid
    assert target.calls[-1] == ("resume", True, Direction.FORWARD)
    assert ask(session, b"s") == stop(PCS[8], b"p4d2.4d3")  # over main's 5 and 6
    assert ask(session, b"Hcp4d2.4d2") == b"OK"
    assert ask(session, b"bs") == stop(PCS[6], b"p4d2.4d2")  # back over the worker's 7, then main's 6
    assert ask(session, b"Hc-1") == b"OK"
    assert ask(session, b"s") == stop(PCS[7], b"p4d2.4d2")


def test_vcont_steps_the_thread_it_names(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"vCont;s:p4d2.4d3;c") == stop(PCS[4], b"p4d2.4d3")
    assert target.calls[-1] == ("resume", True, Direction.FORWARD, WORKER)
    assert ask(session, b"vCont;s:p4d2.4d2;c") == stop(PCS[6], b"p4d2.4d2")
    assert ask(session, b"vCont;c:p4d2.4d3") == stop(PCS[9], b"p4d2.4d3", b"replaylog:end;")
    assert ask(session, b"vCont;s:p4d2.99") == b"E03"


def test_long_thread_lists_come_in_pieces(target: FakeTarget) -> None:
    target.names = {0x1000 + i: f"t{i}" for i in range(300)}
    s = connect(target, packet_size=0x100)
    seen: list[bytes] = []
    reply = ask(s, b"qfThreadInfo")
    while reply != b"l":
        assert reply.startswith(b"m") and len(reply) <= 0x100
        seen += reply[1:].split(b",")
        reply = ask(s, b"qsThreadInfo")
    assert seen == [b"p4d2.%x" % (0x1000 + i) for i in range(300)]
    xml = b""
    while True:
        reply = ask(s, b"qXfer:threads:read::%x,80" % len(xml))
        xml += reply[1:]
        if reply[:1] == b"l":
            break
    assert xml.count(b"<thread ") == 300 and xml.endswith(b"</threads>\n")


def test_thread_names_are_escaped(target: FakeTarget) -> None:
    target.names = {MAIN: 'a<b>&"c"\x01'}
    s = connect(target)
    assert b"""name='a&lt;b&gt;&amp;"c"?'""" in ask(s, b"qXfer:threads:read::0,1000")


def test_one_thread_session_reads_as_before(target: FakeTarget) -> None:
    one = FakeTarget()
    s = connect(one)
    assert ask(s, b"qfThreadInfo") == b"mp4d2.4d2"
    assert wire(b"OK") in s.feed(wire(b"Hgp4d2.4d2"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([MAIN, WORKER, 0x4D4]), min_size=2, max_size=30),
       st.lists(st.tuples(st.sampled_from([MAIN, WORKER, 0x4D4]), st.booleans()), max_size=12))
def test_a_step_stops_in_the_thread_it_steps(tids: list[int], steps: list[tuple[int, bool]]) -> None:
    """Whatever the interleaving, a step of thread T (Hc T; s, or vCont;s:T)
    reports T unless the history ends first, and g then reads T (rax = T)."""
    target = FakeTarget([0x1000 + 4 * i for i in range(len(tids))], tids=tids,
                        names={MAIN: "guest", WORKER: "worker", 0x4D4: "third"})
    s = connect(target)
    for tid, by_vcont in steps:
        if by_vcont:
            reply = ask(s, b"vCont;s:p4d2.%x;c" % tid)
        else:
            assert ask(s, b"Hcp4d2.%x" % tid) == b"OK"
            reply = ask(s, b"s")
        if b"replaylog:end" in reply:
            break
        assert reply.endswith(b"thread:p4d2.%x;" % tid)
        assert rax_and_rip(ask(s, b"g"))[0] == tid


def test_bs_steps_the_thread_gdb_checked_alive(session: Session, target: FakeTarget) -> None:
    """In reverse gdb sends Hc for the whole process and bs, never naming the
    thread it steps; before stepping another than the stop's it asks T for it."""
    target.position = 8                      # the worker ran last (7); main made 6
    target.stop_tid = WORKER
    assert ask(session, b"Hcp4d2.0") == b"OK"
    assert ask(session, b"Tp4d2.4d2") == b"OK"
    assert ask(session, b"bs") == stop(PCS[6], b"p4d2.4d2")      # main's 6 undone (and the worker's 7)
    assert ask(session, b"bs") == stop(PCS[5], b"p4d2.4d2")      # the stop's thread again: main
    assert ask(session, b"Tp4d2.4d2") == b"OK"
    assert ask(session, b"Tp4d2.4d3") == b"OK"                  # several (thread apply): no hint
    assert ask(session, b"bs") == stop(PCS[2], b"p4d2.4d2")      # the stop's (main): back over the worker's 4 and 3
