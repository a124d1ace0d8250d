"""Breakpoints and watchpoints, forward and backward.

The ground truth for reverse-continue is a forward scan: continue forward
from instruction 0 again and again, listing every stop; reverse-continue
from a position must land on the last of those strictly before it.
"""

from __future__ import annotations

import bisect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.machine import WatchKind, Watchpoint
from replay.timeline import Direction, StopReason, Timeline


def forward_scan(tl: Timeline) -> list[tuple[int, int]]:
    """(icount, pc) of every forward stop from 0 to the end."""
    tl.seek(0)
    stops = []
    while True:
        stop = tl.cont(Direction.FORWARD)
        if stop.reason not in (StopReason.BREAKPOINT, StopReason.WATCHPOINT):
            assert stop.reason == StopReason.HISTORY_END
            return stops
        stops.append((stop.icount, stop.pc))


@pytest.fixture(scope="module")
def tl(work) -> Timeline:
    return work.timeline(interval=1 << 16, near=1 << 12)


@pytest.fixture(scope="module")
def bp_hits(work) -> list[int]:
    scan = work.timeline(interval=1 << 18)
    scan.add_breakpoint(work.addr("round_done"))
    stops = forward_scan(scan)
    assert len(stops) == 400
    assert all(pc == work.addr("round_done") for _, pc in stops)
    return [icount for icount, _ in stops]


@pytest.fixture(scope="module")
def write_stops(work) -> list[int]:
    """Positions just after each write of counter_global (forward watch stops)."""
    scan = work.timeline(interval=1 << 18)
    scan.add_watchpoint(Watchpoint(work.addr("counter_global"), 8, WatchKind.WRITE))
    stops = forward_scan(scan)
    assert len(stops) == 400
    return [icount for icount, _ in stops]


def last_before(sorted_list: list[int], origin: int) -> int | None:
    i = bisect.bisect_left(sorted_list, origin) - 1
    return sorted_list[i] if i >= 0 else None


@settings(max_examples=15, deadline=None)
@given(origin=st.integers(0, 5_200_000))
def test_reverse_continue_breakpoint_matches_forward_scan(tl: Timeline, work, bp_hits, origin: int) -> None:
    origin = min(origin, tl.end.icount)
    tl.seek(origin)
    addr = work.addr("round_done")
    tl.add_breakpoint(addr)
    try:
        stop = tl.cont(Direction.BACKWARD)
    finally:
        tl.remove_breakpoint(addr)
    expected = last_before(bp_hits, origin)
    if expected is None:
        assert stop.reason == StopReason.HISTORY_START and tl.position == 0
        return
    assert stop.reason == StopReason.BREAKPOINT
    assert stop.icount == tl.position == expected
    assert stop.pc == addr and stop.address == addr
    assert work.state_of(tl) == work.reference(expected)


def test_reverse_continue_from_a_hit_skips_it(tl: Timeline, work, bp_hits) -> None:
    addr = work.addr("round_done")
    tl.seek(bp_hits[10])
    tl.add_breakpoint(addr)
    try:
        assert tl.cont(Direction.BACKWARD).icount == bp_hits[9]
        assert tl.cont(Direction.BACKWARD).icount == bp_hits[8]
        assert tl.cont(Direction.FORWARD).icount == bp_hits[9]
        assert tl.cont(Direction.FORWARD).icount == bp_hits[10]
    finally:
        tl.remove_breakpoint(addr)


@settings(max_examples=15, deadline=None)
@given(origin=st.integers(0, 5_200_000))
def test_reverse_watchpoint_stops_before_the_write(tl: Timeline, work, write_stops, origin: int) -> None:
    origin = min(origin, tl.end.icount)
    var = work.addr("counter_global")
    watch = Watchpoint(var, 8, WatchKind.WRITE)
    tl.seek(origin)
    tl.add_watchpoint(watch)
    try:
        stop = tl.cont(Direction.BACKWARD)
    finally:
        tl.remove_watchpoint(watch)
    # A write that completes at or before the origin counts (it started before it).
    expected = last_before(write_stops, origin + 1)
    if expected is None:
        assert stop.reason == StopReason.HISTORY_START and tl.position == 0
        return
    assert stop.reason == StopReason.WATCHPOINT
    assert stop.watch == watch and stop.address == var
    # Stopped before the writing instruction: it starts at `position`.
    assert stop.icount == tl.position == expected - 1
    start, size = work.symbols["round_done"]
    assert start <= stop.pc < start + size
    before = tl.read_memory(var, 8)
    assert work.state_of(tl) == work.reference(tl.position)
    tl.step(1, Direction.FORWARD)
    after = tl.read_memory(var, 8)
    assert after != before
    assert work.state_of(tl) == work.reference(expected)


def test_forward_watchpoint_stops_after_the_write(tl: Timeline, work, write_stops) -> None:
    var = work.addr("counter_global")
    watch = Watchpoint(var, 8, WatchKind.WRITE)
    tl.seek(write_stops[41] - 1)            # just before a write
    before = tl.read_memory(var, 8)
    tl.step(1, Direction.BACKWARD)
    tl.add_watchpoint(watch)
    try:
        stop = tl.cont(Direction.FORWARD)
        assert stop.reason == StopReason.WATCHPOINT and stop.address == var
        assert stop.icount == tl.position == write_stops[41]
        assert tl.read_memory(var, 8) != before       # already changed
        # The next one, and back again.
        assert tl.cont(Direction.FORWARD).icount == write_stops[42]
        back = tl.cont(Direction.BACKWARD)
        assert back.icount == write_stops[42] - 1
        back = tl.cont(Direction.BACKWARD)
        assert back.icount == write_stops[41] - 1
    finally:
        tl.remove_watchpoint(watch)


def test_read_watchpoint_backward(tl: Timeline, work) -> None:
    """`results` is only written; a READ watch on it never fires."""
    results = work.addr("results")
    tl.seek(tl.end.icount // 2)
    watch = Watchpoint(results, 8, WatchKind.READ)
    tl.add_watchpoint(watch)
    try:
        stop = tl.cont(Direction.BACKWARD)
    finally:
        tl.remove_watchpoint(watch)
    assert stop.reason == StopReason.HISTORY_START and tl.position == 0
