"""Seeking and stepping land in exactly the state of a straight replay.

One Timeline with small parameters (many checkpoints, short near-distance)
is shared by the examples of this module, so each example starts wherever
the previous one left it, as in a real debugging session.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.timeline import Direction, StopReason, Timeline


@pytest.fixture(scope="module")
def tl(work) -> Timeline:
    return work.timeline(interval=1 << 16, near=1 << 12)


positions = st.integers(min_value=0, max_value=5_200_000)


@settings(max_examples=25, deadline=None)
@given(n=positions)
def test_seek_matches_straight_replay(tl: Timeline, work, n: int) -> None:
    n = min(n, tl.end.icount)
    stop = tl.seek(n)
    assert stop.reason in (StopReason.ARRIVED, StopReason.HISTORY_END)
    assert stop.icount == tl.position == n
    assert work.state_of(tl) == work.reference(n)


ops = st.lists(
    st.one_of(
        st.tuples(st.just("seek"), positions),
        st.tuples(st.just("fwd"), st.integers(1, 300_000)),
        st.tuples(st.just("back"), st.integers(1, 300_000)),
        st.tuples(st.just("fwd"), st.integers(1, 3)),
        st.tuples(st.just("back"), st.integers(1, 3)),
    ),
    min_size=1, max_size=8,
)


@settings(max_examples=20, deadline=None)
@given(seq=ops)
def test_random_motions_end_in_straight_replay_state(tl: Timeline, work, seq: list) -> None:
    end = tl.end.icount
    expected = tl.position
    for op, arg in seq:
        if op == "seek":
            tl.seek(arg)
            expected = min(arg, end)
        elif op == "fwd":
            tl.step(arg, Direction.FORWARD)
            expected = min(expected + arg, end)
        else:
            tl.step(arg, Direction.BACKWARD)
            expected = max(expected - arg, 0)
        assert tl.position == expected, (op, arg)
    assert work.state_of(tl) == work.reference(expected)


@settings(max_examples=20, deadline=None)
@given(n=positions, k=st.one_of(st.integers(1, 5), st.integers(1, 200_000)))
def test_step_back_then_forward_returns(tl: Timeline, work, n: int, k: int) -> None:
    n = min(n, tl.end.icount)
    tl.seek(n)
    before = work.state_of(tl)
    back = tl.step(k, Direction.BACKWARD)
    if k > n:
        assert back.reason == StopReason.HISTORY_START and tl.position == 0
        return
    assert back.reason == StopReason.ARRIVED and tl.position == n - k
    forward = tl.step(k, Direction.FORWARD)
    assert forward.reason == StopReason.ARRIVED
    assert work.state_of(tl) == before


def test_repeated_single_steps_backward(tl: Timeline, work) -> None:
    """gdb's reverse-stepi: each step is one instruction and matches the replay."""
    n = 3_000_000
    tl.seek(n)
    pcs = []
    for i in range(1, 41):
        stop = tl.step(1, Direction.BACKWARD)
        assert stop.icount == n - i
        pcs.append(stop.pc)
        if i % 10 == 0:
            assert work.state_of(tl) == work.reference(n - i)
    # Forward single steps retrace the same pcs in reverse order.
    for i in range(39):
        stop = tl.step(1, Direction.FORWARD)
        assert stop.pc == pcs[-2 - i]


def test_default_parameters(work) -> None:
    tl = work.timeline()
    for n in (4_900_000, 1_234_567, 4_200_001, 10, 4_200_000, 0, 5_000_000):
        n = min(n, tl.end.icount)
        tl.seek(n)
        assert work.state_of(tl) == work.reference(n)
    tl.seek(4_500_000)
    for _ in range(3):
        tl.step(1, Direction.BACKWARD)
    assert work.state_of(tl) == work.reference(4_500_000 - 3)
    assert tl.stats["checkpoints_taken"] >= 2
