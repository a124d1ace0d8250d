"""Byte transcripts of fork, vfork and exec events (gdb offers ``fork-events+``...).

gdb treats the debugged process as a native one whose children it does not
follow: a ``fork:``/``vfork:`` stop names the child, gdb takes its breakpoints
out of the child (``Hg`` of the child, ``z``) and detaches it (``D;pid``); a
``vforkdone`` stop tells it the parent runs again; an ``exec:`` stop names the
new program.  Fork events name the child ``p<pid>.<tid>``, so they need
``multiprocess+``.
"""

from __future__ import annotations

from fake_target import ALL_CAPABILITIES, FakeTarget
from test_stub_session import RBP, RSP, ask, le64

from gdbstub.session import Session
from gdbstub.target import BreakKind, Capability, StopKind, StopReason

OFFER = b"qSupported:multiprocess+;swbreak+;fork-events+;vfork-events+;exec-events+;xmlRegisters=i386"
CHILD = 0x4D3


def stop(pc: int, suffix: bytes) -> bytes:
    return b"T0506:" + RBP + b";07:" + RSP + b";10:" + le64(pc) + b";thread:p4d2.4d2;" + suffix


def test_events_offered_when_gdb_offers_them_and_the_target_reports_them() -> None:
    target = FakeTarget()
    reply = ask(Session(target), OFFER)
    assert reply.endswith(b";fork-events+;vfork-events+;exec-events+")
    assert ("process_events", True, True, True) in target.calls
    plain = FakeTarget()           # without multiprocess+ a child cannot be named: exec events only
    reply = ask(Session(plain), OFFER.replace(b"multiprocess+;", b""))
    assert b"fork-events" not in reply and reply.endswith(b";exec-events+")
    assert ("process_events", False, False, True) in plain.calls
    unable = FakeTarget(capabilities=ALL_CAPABILITIES - {Capability.PROCESS_EVENTS})
    assert b"events" not in ask(Session(unable), OFFER)
    assert not [c for c in unable.calls if c[0] == "process_events"]


def test_fork_stop_then_gdb_detaches_the_child_and_goes_on() -> None:
    target = FakeTarget()
    target.process_stops[3] = StopReason(StopKind.FORK, child=CHILD)
    s = Session(target)
    ask(s, OFFER)
    assert ask(s, b"Z0,1018,1") == b"OK"
    assert ask(s, b"vCont;c:p4d2.-1") == stop(0x100C, b"fork:p4d3.4d3;")
    # gdb's detach_breakpoints: the child's copies go, the parent's stay inserted
    assert ask(s, b"Hgp4d3.4d3") == b"OK"
    assert ask(s, b"z0,1018,1") == b"OK"
    assert (BreakKind.SOFTWARE, 0x1018) in target.breakpoints
    assert ask(s, b"Hgp4d2.4d2") == b"OK"
    assert ask(s, b"D;4d3") == b"OK"
    assert not s.closed and not target.detached
    assert ask(s, b"D;4d3") == b"E03"                 # once only
    assert ask(s, b"vCont;c:p4d2.-1") == stop(0x1018, b"swbreak:;")
    assert ask(s, b"D;4d2") == b"OK" and s.closed and target.detached


def test_events_gdb_did_not_ask_for_are_not_reported() -> None:
    target = FakeTarget()
    target.process_stops[3] = StopReason(StopKind.FORK, child=CHILD)
    s = Session(target)
    ask(s, OFFER.replace(b"fork-events+;", b""))
    assert ask(s, b"vCont;c:p4d2.-1") == stop(0x1024, b"replaylog:end;")
    assert ask(s, b"D;4d3") == b"E03"                 # never reported: not a child gdb knows


def test_vfork_vforkdone_and_exec_stop_replies() -> None:
    target = FakeTarget()
    target.process_stops.update({2: StopReason(StopKind.VFORK, child=CHILD), 5: StopReason(StopKind.VFORK_DONE),
                                 7: StopReason(StopKind.EXEC, path="/bin/new prog")})
    s = Session(target)
    ask(s, OFFER)
    assert ask(s, b"vCont;c:p4d2.-1") == stop(0x1008, b"vfork:p4d3.4d3;")
    assert ask(s, b"D;4d3") == b"OK"
    assert ask(s, b"vCont;c:p4d2.4d2") == stop(0x1014, b"vforkdone:;")
    assert ask(s, b"vCont;c:p4d2.-1") == stop(0x101C, b"exec:" + b"/bin/new prog".hex().encode() + b";")
