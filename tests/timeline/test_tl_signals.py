"""Signal deliveries on the time axis, bookmarks sharing a position, and an
interrupted reverse step.

The guest is tests/guests/gdb_signals.c (SIGUSR1 by kill() to a handler, a
SIGSEGV fault caught by a handler, SIGUSR2 ignored, SIGTERM by default action).  States are
compared with a straight replay (`reference`); the state held at a
delivery's gate is compared with a straight replay stopped by the same gate.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.timeline import Direction, StopReason, Timeline

SIGUSR1, SIGSEGV, SIGUSR2, SIGTERM = 10, 11, 12, 15
BACK = Direction.BACKWARD


@pytest.fixture(scope="module")
def signals(recorder):
    rec = recorder("gdb_signals")
    assert rec.status == 128 + SIGTERM
    return rec


@pytest.fixture(scope="module")
def deliveries(signals) -> list[tuple[int, int, int]]:
    """(icount, signal, pc) of every forward stop, from a fresh timeline."""
    tl = signals.timeline()
    stops = []
    while True:
        stop = tl.cont()
        stops.append((stop.reason, stop.icount, stop.signal, stop.pc))
        if stop.reason != StopReason.DELIVERY:
            break
    assert [(r, s) for r, _, s, _ in stops] == [(StopReason.DELIVERY, SIGUSR1), (StopReason.DELIVERY, SIGSEGV),
                                                (StopReason.DELIVERY, SIGUSR2), (StopReason.SIGNALLED, SIGTERM)]
    return [(i, s, pc) for _, i, s, pc in stops[:3]]


def held_reference(signals, icount: int):
    """A straight replay stopped by the kernel's gate at `icount`."""
    rp = signals.replay()
    try:
        rp.process.kernel.signal_gate = lambda at, infos: at == icount
        rp.run()
        m = rp.process.machine
        assert rp.process.kernel.state.held
        return m.icount, m.state_hash(), m.reg("rip")
    finally:
        rp.close()


def here(tl: Timeline):
    return tl.position, tl.state_digest(), tl.read_register("rip")


def test_forward_stops_hold_the_delivery_before_the_frame(signals, deliveries) -> None:
    tl = signals.timeline()
    (d1, _, pc1), (d2, _, pc2), (d3, _, pc3) = deliveries
    stop = tl.cont()
    assert stop.icount == d1
    assert here(tl) == held_reference(signals, d1)
    assert tl.here() == stop                        # standing at the gate is that DELIVERY stop
    assert pc1 != signals.addr("on_usr1")
    # the kill() system call's delivery: the handler's entry is the plain state at d1
    stop = tl.step()
    assert (stop.reason, stop.icount, stop.pc) == (StopReason.ARRIVED, d1, signals.addr("on_usr1"))
    assert tl.here() == stop
    assert signals.state_of(tl) == signals.reference(d1)
    # the fault: held at the faulting instruction, which is the plain state at d2
    stop = tl.cont()
    assert (stop.reason, stop.icount, stop.pc) == (StopReason.DELIVERY, d2, pc2)
    assert here(tl) == held_reference(signals, d2)
    assert signals.state_of(tl) == signals.reference(d2)
    assert tl.step().pc == signals.addr("on_segv")
    tl.step()
    assert signals.state_of(tl) == signals.reference(d2 + 1)
    # an ignored signal: a stop, and no frame (the same state after it)
    stop = tl.cont()
    assert (stop.reason, stop.icount, stop.pc) == (StopReason.DELIVERY, d3, pc3)
    assert signals.state_of(tl) == signals.reference(d3)
    stop = tl.step()
    assert (stop.reason, stop.icount, stop.pc) == (StopReason.ARRIVED, d3, pc3)
    assert signals.state_of(tl) == signals.reference(d3)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_reverse_steps_cross_the_delivery(signals, deliveries, which) -> None:
    d, signal, pc = deliveries[which]
    handler = {SIGUSR1: signals.addr("on_usr1"), SIGSEGV: signals.addr("on_segv"), SIGUSR2: pc}[signal]
    tl = signals.timeline()
    tl.seek(d + 3)
    tl.step(2, BACK)
    assert signals.state_of(tl) == signals.reference(d + 1)
    stop = tl.step(1, BACK)
    assert (stop.reason, stop.icount, stop.pc) == (StopReason.ARRIVED, d, handler)
    stop = tl.step(1, BACK)
    assert (stop.reason, stop.icount, stop.signal, stop.pc) == (StopReason.DELIVERY, d, signal, pc)
    assert here(tl) == held_reference(signals, d)
    stop = tl.step(1, BACK)
    assert stop.reason == StopReason.ARRIVED
    assert signals.state_of(tl) == signals.reference(d - 1)
    # and forward again through the same states (for a fault, first the faulting
    # instruction not yet run; the gate holds its delivery when it runs)
    if signal == SIGSEGV:
        stop = tl.step()
        assert (stop.reason, stop.icount, stop.pc) == (StopReason.ARRIVED, d, pc)
    assert tl.step().reason == StopReason.DELIVERY
    assert tl.step().pc == handler
    tl.step()
    assert signals.state_of(tl) == signals.reference(d + 1)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(fraction=st.floats(0.0, 1.0), handler_break=st.booleans())
def test_reverse_continue_lands_on_the_last_stop_before(signals, deliveries, fraction, handler_break) -> None:
    tl = signals.timeline(interval=1 << 12, near=1 << 8)
    end = tl.end.icount
    origin = int(fraction * end)
    # the forward stops, in time order: each delivery (then its handler's breakpoint)
    stops = [(d, StopReason.DELIVERY) for d, _, _ in deliveries]
    if handler_break:
        tl.add_breakpoint(signals.addr("on_usr1"))
        tl.add_breakpoint(signals.addr("on_segv"))
        stops = []
        while (stop := tl.cont()).reason in (StopReason.DELIVERY, StopReason.BREAKPOINT):
            stops.append((stop.icount, stop.reason))
        assert len(stops) == 5
    tl.seek(origin)
    before = [s for s in stops if s[0] < origin]
    stop = tl.cont(BACK)
    if not before:
        assert stop.reason == StopReason.HISTORY_START
    else:
        assert (stop.icount, stop.reason) == before[-1], (origin, stops)


def test_passed_signals_do_not_stop(signals, deliveries) -> None:
    tl = signals.timeline()
    assert 14 in tl.pass_signals and SIGUSR1 not in tl.pass_signals      # SIGALRM is quiet by default
    tl.pass_signals = frozenset({SIGUSR1})
    stop = tl.cont()
    assert (stop.reason, stop.signal) == (StopReason.DELIVERY, SIGSEGV)
    tl.pass_signals = frozenset({SIGUSR1, SIGSEGV, SIGUSR2})
    assert tl.cont().reason == StopReason.SIGNALLED
    assert tl.cont(BACK).reason == StopReason.HISTORY_START


def test_bookmarks_may_share_a_position(work) -> None:
    tl = work.timeline()
    tl.seek(50_000)
    tl.bookmark("a")
    tl.bookmark("b")
    tl.seek(70_000)
    assert tl.restart("a").icount == 50_000
    assert tl.bookmarks() == {"a": 50_000, "b": 50_000}
    tl.seek(100)
    assert tl.restart("b").icount == 50_000
    assert work.state_of(tl) == work.reference(50_000)


def test_bookmark_at_a_held_delivery(signals, deliveries) -> None:
    # it comes back held, and seeks never start from it
    tl = signals.timeline()
    d = deliveries[0][0]
    tl.seek(0)
    tl.cont()
    tl.bookmark("gate")
    tl.seek(d)
    assert signals.state_of(tl) == signals.reference(d)
    stop = tl.restart("gate")
    assert (stop.reason, stop.icount) == (StopReason.DELIVERY, d)
    assert tl.step().pc == signals.addr("on_usr1")


def test_interrupted_reverse_step_reports_where_it_is(work) -> None:
    tl = work.timeline(interval=1 << 28, near=1 << 28, slice_=1 << 12)
    origin = 3_000_000
    tl.seek(origin)
    stop = tl.step(2_000_000, BACK, should_stop=lambda: True)
    assert stop.reason == StopReason.INTERRUPTED
    assert stop.icount == tl.position == origin
    assert work.state_of(tl) == work.reference(origin)
