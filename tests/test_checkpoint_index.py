"""The checkpoint index on its own: lookups, bookmarks, thinning, memory accounting.

Checkpoints here are small stand-ins with the four facts the index reads
(icount, held, pages, cost), built the way the engine builds real ones: each
shares the unchanged pages (the same objects) of the one before it and is
charged with the pages it stores anew plus a fixed overhead.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.checkpoint_index import CheckpointIndex

PAGE = 64
OVERHEAD = 10


@dataclass(frozen=True)
class Snap:
    icount: int
    pages: Mapping[int, tuple[bytes | None, ...]]
    cost: int
    held: bool = False


def history(icounts: list[int], changes: list[set[int]], npages: int = 8, held: frozenset[int] = frozenset(),
            ) -> list[Snap]:
    """Snapshots of one buffer of `npages` pages at `icounts`; `changes[i]`: the pages
    rewritten just before snapshot i (page None: never written)."""
    current: list[bytes | None] = [None] * npages
    out = []
    for n, (icount, changed) in enumerate(zip(icounts, changes)):
        for p in changed:
            current[p] = bytes([n % 256, p]) * (PAGE // 2)       # a new object each time
        out.append(Snap(icount, {0: tuple(current)}, len(changed) * PAGE + OVERHEAD, icount in held))
    return out


def index_of(snaps: list[Snap], budget: int = 1 << 40) -> CheckpointIndex[Snap]:
    index: CheckpointIndex[Snap] = CheckpointIndex(budget)
    for s in snaps:
        assert index.add(s)
    return index


def distinct_bytes(snaps: list[Snap]) -> int:
    """What the kept checkpoints really hold: each page object once, plus their overheads."""
    seen = {id(p): len(p) for s in snaps for pages in s.pages.values() for p in pages if p is not None}
    return sum(seen.values()) + OVERHEAD * len(snaps)


# -- lookups ---------------------------------------------------------------------------------------
def test_lookups() -> None:
    snaps = history([0, 100, 200, 300], [{0}, {1}, {2}, {3}])
    index = index_of(snaps)
    assert len(index) == 4 and index.icounts() == [0, 100, 200, 300]
    assert [s.icount for s in index] == [0, 100, 200, 300]
    assert index.at_or_before(0) is snaps[0]
    assert index.at_or_before(199) is snaps[1]
    assert index.at_or_before(200) is snaps[2]
    assert index.at_or_before(10**9) is snaps[3]
    assert index.before(0) is None
    assert index.before(200) is snaps[1]
    assert index.before(201) is snaps[2]
    assert index.has(100) and not index.has(150)


def test_a_second_plain_checkpoint_at_a_count_is_refused_a_bookmarked_one_is_kept() -> None:
    snaps = history([0, 100, 100, 100], [{0}, {1}, {2}, {3}])
    index = index_of(snaps[:2])
    assert not index.add(snaps[2])
    assert index.add(snaps[3], bookmark="mark")
    assert index.icounts() == [0, 100, 100]
    assert index.bookmarked("mark") is snaps[3]


def test_held_checkpoints_are_found_only_by_bookmark() -> None:
    snaps = history([0, 100, 200], [{0}, {1}, {2}], held=frozenset({200}))
    index = index_of(snaps[:2])
    index.add(snaps[2], bookmark="at-signal")
    assert index.at_or_before(250) is snaps[1]
    assert index.before(300) is snaps[1]
    assert index.bookmarked("at-signal") is snaps[2]


def test_bookmarks_in_count_order_and_unpinned() -> None:
    snaps = history([0, 500, 100, 300], [{0}, {1}, {2}, {3}])
    index = index_of(snaps[:1])
    for name, s in zip(("late", "early", "middle"), snaps[1:]):
        index.add(s, bookmark=name)
    assert index.bookmarks() == {"early": 100, "middle": 300, "late": 500}
    assert list(index.bookmarks()) == ["early", "middle", "late"]
    index.unpin("middle")
    assert index.bookmarks() == {"early": 100, "late": 500}
    assert index.bookmarked("middle") is None
    assert index.has(300)                       # still a checkpoint, now an ordinary one
    index.budget = 0
    index.thin(position=0)
    assert index.icounts() == [0, 100, 500]     # the unpinned one could go, the bookmarked not


# -- thinning and memory ---------------------------------------------------------------------------
def test_memory_is_the_sum_of_costs_and_thinning_moves_shared_pages() -> None:
    # Page 1 is written before the checkpoint at 100 and never again: dropping that
    # checkpoint must charge its page to the next one, which still holds it.
    snaps = history([0, 100, 200], [{0}, {1}, {2}])
    index = index_of(snaps)
    assert index.memory() == sum(s.cost for s in snaps) == 3 * PAGE + 3 * OVERHEAD
    index.budget = index.memory() - 1
    assert index.thin(position=0) == 1
    assert index.icounts() == [0, 200]
    assert index.memory() == distinct_bytes([snaps[0], snaps[2]]) == 3 * PAGE + 2 * OVERHEAD


def test_thinning_keeps_the_ends_and_stops_when_nothing_can_go() -> None:
    snaps = history(list(range(0, 1000, 100)), [{i % 8} for i in range(10)])
    index = index_of(snaps[:1])
    for s in snaps[1:5]:
        index.add(s, bookmark=f"b{s.icount}")
    for s in snaps[5:]:
        index.add(s)
    index.budget = 0
    assert index.thin(position=500) == 4        # 500..800: the last one stays
    assert index.icounts() == [0, 100, 200, 300, 400, 900]
    assert index.thin(position=500) == 0


def test_dense_checkpoints_far_from_the_present_go_first() -> None:
    snaps = history(list(range(0, 10_000, 100)), [{i % 8} for i in range(100)])
    index = index_of(snaps)
    index.budget = index.memory() // 3
    index.thin(position=9_900)
    kept = index.icounts()
    near = [c for c in kept if c >= 8_000]
    far = [c for c in kept if c < 2_000]
    assert len(near) > 2 * len(far)
    gaps = [b - a for a, b in zip(kept, kept[1:])]
    assert max(gaps[-5:]) < max(gaps[:5])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(steps=st.lists(st.tuples(st.integers(1, 500), st.sets(st.integers(0, 11), max_size=6)),
                      min_size=1, max_size=30),
       budget_share=st.floats(0, 1.2), position=st.integers(0, 16_000), pins=st.sets(st.integers(0, 30)),
       probes=st.lists(st.integers(-10, 16_000), max_size=8))
def test_thinning_properties(steps, budget_share: float, position: int, pins: set[int], probes: list[int]) -> None:
    icounts, total = [0], 0
    for gap, _ in steps[1:]:
        total += gap
        icounts.append(total)
    snaps = history(icounts, [changed for _, changed in steps], npages=12)
    index: CheckpointIndex[Snap] = CheckpointIndex(0)
    order = list(range(len(snaps)))
    random.Random(len(snaps)).shuffle(order)        # added in any order, as seeks do
    pinned = {i for i in pins if i < len(snaps)}
    for i in order:
        index.add(snaps[i], bookmark=f"m{i}" if i in pinned else None)
    assert index.memory() == sum(s.cost for s in snaps) == distinct_bytes(snaps)
    index.budget = int(budget_share * index.memory())
    index.thin(position)
    kept = list(index)
    assert [s.icount for s in kept] == sorted(s.icount for s in kept)
    assert kept[0] is snaps[0] and kept[-1] is snaps[-1]
    assert {index.bookmarks()[f"m{i}"] for i in pinned} == {snaps[i].icount for i in pinned}
    assert all(index.bookmarked(f"m{i}") is snaps[i] for i in pinned)
    # The accounting stays exact: what is charged is what the kept checkpoints hold.
    assert index.memory() == distinct_bytes(kept)
    droppable = [s for s in kept[1:-1] if not any(index.bookmarked(f"m{i}") is s for i in pinned)]
    assert index.memory() <= index.budget or not droppable
    for n in probes:
        expected = max((s for s in kept if s.icount <= n), key=lambda s: s.icount, default=kept[0])
        assert index.at_or_before(n).icount == expected.icount
        before = [s for s in kept if s.icount < n]
        assert (index.before(n).icount if index.before(n) else None) == (before[-1].icount if before else None)


@pytest.mark.parametrize("position", [0, 5_000, 10_000])
def test_thin_is_a_no_op_within_budget(position: int) -> None:
    snaps = history(list(range(0, 10_000, 1000)), [{i % 8} for i in range(10)])
    index = index_of(snaps)
    assert index.thin(position) == 0 and len(index) == 10
