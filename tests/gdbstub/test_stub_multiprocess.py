"""Byte transcripts of the multiprocess extensions (gdb offers ``multiprocess+``).

With them the stub names its one thread ``p<pid>.<tid>`` everywhere, so gdb
knows the replayed process's real pid: ``info proc``, ``info proc mappings``
and ``info inferiors`` then work without a pid argument.  Without them
(``test_stub_session.py``) thread-ids stay plain.
"""

from __future__ import annotations

import pytest
from fake_target import FakeTarget, wire
from test_stub_session import RBP, RSP, ask, le64

from gdbstub.session import Session
from gdbstub.target import StopKind, StopReason

THREAD = b"p4d2.4d2"


def stop(pc: int, suffix: bytes = b"") -> bytes:
    return b"T0506:" + RBP + b";07:" + RSP + b";10:" + le64(pc) + b";thread:" + THREAD + b";" + suffix


@pytest.fixture
def target() -> FakeTarget:
    return FakeTarget()


@pytest.fixture
def session(target: FakeTarget) -> Session:
    s = Session(target)
    reply = ask(s, b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
    assert b";multiprocess+;" in reply
    return s


def test_multiprocess_only_when_gdb_offers_it(target: FakeTarget) -> None:
    assert b"multiprocess" not in ask(Session(target), b"qSupported:swbreak+")
    assert b"multiprocess" not in ask(Session(target), b"qSupported:multiprocess-;swbreak+")


def test_thread_ids_carry_the_pid(session: Session) -> None:
    assert ask(session, b"qC") == b"QC" + THREAD
    assert ask(session, b"qfThreadInfo") == b"m" + THREAD
    assert ask(session, b"qsThreadInfo") == b"l"
    assert ask(session, b"?") == stop(0x1000)
    assert ask(session, b"qAttached:4d2") == b"1"
    assert ask(session, b"qAttached:99") == b"E03"


@pytest.mark.parametrize("thread", [b"p4d2.4d2", b"p4d2.-1", b"p4d2.0", b"p-1.-1", b"p0.0", b"0", b"4d2"])
def test_selecting_our_thread(session: Session, thread: bytes) -> None:
    assert ask(session, b"Hg" + thread) == b"OK"
    assert ask(session, b"Hc" + thread) == b"OK"


@pytest.mark.parametrize("thread", [b"p99.4d2", b"p4d2.99", b"99"])
def test_other_threads_do_not_exist(session: Session, thread: bytes) -> None:
    assert ask(session, b"Hg" + thread) == b"E03"
    assert ask(session, b"T" + thread) == b"E03"
    assert ask(session, b"vCont;c:" + thread) == b"E03"


def test_thread_alive(session: Session) -> None:
    assert ask(session, b"T" + THREAD) == b"OK"


def test_vcont_with_thread_ids(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"vCont;s:" + THREAD) == stop(0x1004)
    assert ask(session, b"vCont;s:" + THREAD + b";c:p4d2.-1") == stop(0x1008)
    assert ask(session, b"vCont;c:p-1.-1") == stop(0x1000 + 4 * 9, b"replaylog:end;")


def test_exec_file_by_pid(session: Session) -> None:
    assert ask(session, b"qXfer:exec-file:read:4d2:0,fff") == b"l/bin/guest"
    assert ask(session, b"qXfer:exec-file:read::0,fff") == b"l/bin/guest"
    assert ask(session, b"qXfer:exec-file:read:99:0,fff") == b"E03"


def test_exit_replies_name_the_process(session: Session, target: FakeTarget) -> None:
    target.current_stop = StopReason(StopKind.EXITED, exit_status=7)
    assert ask(session, b"?") == b"W07;process:4d2"
    target.current_stop = StopReason(StopKind.TERMINATED, signal=11)
    assert ask(session, b"?") == b"X0b;process:4d2"


def test_detach_names_the_process(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"D;99") == b"E03"
    assert not session.closed and not target.detached
    assert ask(session, b"D;4d2") == b"OK"
    assert session.closed and target.detached


def test_vkill_names_the_process(session: Session, target: FakeTarget) -> None:
    assert ask(session, b"vKill;99") == b"E03"
    assert not target.killed
    assert ask(session, b"vKill;4d2") == b"OK"
    assert session.closed and target.killed


def test_plain_k_still_kills(session: Session, target: FakeTarget) -> None:
    assert session.feed(wire(b"k")) == b"+"
    assert target.killed
