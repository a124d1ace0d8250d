"""Checkpoint thinning, bookmarks, interruption and the recorded state hashes."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.errors import ReplayDivergence
from replay.events import EventKind
from replay.replayer import Replay
from replay.timeline import Direction, StopReason, Timeline
from replay.trace import open_trace


def test_tiny_budget_thins_but_keeps_bookmarks(work) -> None:
    tl = work.timeline(interval=1 << 14, near=1 << 10, budget=1)
    marks = {"early": 200_000, "middle": 2_500_001, "late": 4_900_000}
    for name, n in marks.items():
        tl.seek(n)
        assert tl.bookmark(name) == n
    rng = random.Random(7)
    for _ in range(12):
        n = rng.randrange(tl.end.icount)
        tl.seek(n)
        tl.step(rng.randrange(1, 50), Direction.BACKWARD)
        # The first checkpoint, the bookmarks and at most the one just taken.
        assert len(tl.index) <= 2 + len(marks) + 1
    assert tl.stats["thinned"] > 100
    assert tl.bookmarks() == marks
    assert tl.index.icounts()[0] == 0
    for name, n in marks.items():
        stop = tl.restart(name)
        assert stop.reason == StopReason.ARRIVED and stop.icount == n
        assert work.state_of(tl) == work.reference(n)
    for n in (4_000_000, 2_500_000, 10_000, 2_600_000):
        tl.seek(n)
        assert work.state_of(tl) == work.reference(n)


@pytest.fixture(scope="module")
def thin_tl(work) -> Timeline:
    first = work.timeline().index.memory()
    # Room for the first checkpoint's full image and as much again: a dozen or so more.
    return work.timeline(interval=1 << 14, near=1 << 10, budget=2 * first)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 5_200_000), back=st.integers(0, 3000))
def test_seeks_stay_right_under_thinning(thin_tl: Timeline, work, n: int, back: int) -> None:
    tl = thin_tl
    n = min(n, tl.end.icount)
    tl.seek(n)
    tl.step(back, Direction.BACKWARD)
    target = max(n - back, 0)
    assert work.state_of(tl) == work.reference(target)
    assert tl.index.memory() <= tl.index.budget
    assert len(tl.index) <= 40


def test_bookmark_renamed_and_moved(thin_tl: Timeline, work) -> None:
    tl = thin_tl
    tl.seek(1_000_000)
    tl.bookmark("here")
    tl.seek(3_000_000)
    tl.bookmark("here")                     # the name moves
    assert tl.bookmarks()["here"] == 3_000_000
    tl.seek(100)
    for n in range(0, tl.end.icount, 250_000):
        tl.seek(n)
    assert tl.restart("here").icount == 3_000_000
    assert work.state_of(tl) == work.reference(3_000_000)


def test_should_stop_interrupts_a_long_continue(work) -> None:
    tl = work.timeline(interval=1 << 16, near=1 << 12, slice_=1 << 15)
    calls = 0

    def should_stop() -> bool:
        nonlocal calls
        calls += 1
        return calls >= 20

    stop = tl.cont(Direction.FORWARD, should_stop)
    assert stop.reason == StopReason.INTERRUPTED
    assert 0 < stop.icount == tl.position < tl.end.icount
    assert work.state_of(tl) == work.reference(tl.position)

    # Backward: a breakpoint never reached, interrupted after a few intervals.
    tl.seek(tl.end.icount)
    tl.add_breakpoint(work.addr("abort"))
    calls = 0
    stop = tl.cont(Direction.BACKWARD, should_stop)
    tl.remove_breakpoint(work.addr("abort"))
    assert stop.reason == StopReason.INTERRUPTED
    assert stop.icount == tl.position
    assert work.state_of(tl) == work.reference(tl.position)
    # And a long seek (no checkpoints on the way yet) interrupted midway.
    tl = work.timeline(interval=1 << 16, near=1 << 12, slice_=1 << 15)
    calls = 0
    stop = tl.seek(tl.end.icount - 10, should_stop)
    assert stop.reason == StopReason.INTERRUPTED
    assert 0 < tl.position < tl.end.icount - 10
    assert work.state_of(tl) == work.reference(tl.position)


@pytest.fixture(scope="module")
def hashed(recorder):
    """timeline_fault recorded with a state-hash event every 2**15 instructions."""
    return recorder("timeline_fault", checkpoint_interval=1 << 15)


def test_recorded_state_hashes_are_verified(hashed) -> None:
    tl = hashed.timeline(interval=1 << 14, near=1 << 10)
    expected = sum(1 for e in tl.replay.contents.events if e.kind == EventKind.STATE_HASH)
    assert expected >= 15
    tl.seek(tl.end.icount)
    assert tl.hostio.verified_state_hashes == expected
    for n in (300_000, 10_000, 500_000, 123_456):
        tl.seek(n)
        tl.step(3, Direction.BACKWARD)
    tl.seek(tl.end.icount + 1)
    assert tl.hostio.verified_state_hashes > 0


def test_corrupted_state_hash_is_a_divergence(hashed) -> None:
    replay = Replay(open_trace(hashed.trace_path))
    events = replay.contents.events
    indexes = [i for i, e in enumerate(events) if e.kind == EventKind.STATE_HASH]
    i = indexes[len(indexes) // 2]
    bad = events[i]
    events[i] = dataclasses.replace(bad, state_hash=bytes(b ^ 0xFF for b in bad.state_hash))
    tl = Timeline(replay, interval=1 << 14, near=1 << 10)
    tl.seek(bad.icount - 5)                 # fine so far
    with pytest.raises(ReplayDivergence) as info:
        tl.seek(tl.end.icount)
    assert info.value.icount == bad.icount
    assert f"{bad.icount:,}" in str(info.value)
