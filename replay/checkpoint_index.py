"""The checkpoint index: which checkpoints a timeline keeps, and which it drops.

Thinning policy (after rr's ReplayTimeline).  Checkpoints are taken
automatically every `interval` instructions while replaying forward (4M,
or ~1/512 of a very long trace), and one is taken near the target of a
long seek (`near`) so that gdb's one-instruction-at-a-time reverse
stepping replays at most `near` instructions per step (see timeline.py).
When their memory exceeds the budget, checkpoints are dropped one at a
time, always the one whose removal leaves the smallest gap *relative to its
distance from the current position*:
score = (next.icount - prev.icount) / (1 + |icount - position|).  Dense
checkpoints far away go first, so the spacing grows with distance from the
present and their number stays logarithmic in the trace length.  The first
and the last checkpoint and bookmarked ones are never dropped.

Memory accounting.  Each checkpoint is charged with what it cost when it
was taken (the pages it stored anew, plus its own overhead).  Consecutive
checkpoints share unchanged pages (the same `bytes` object), so when one is
dropped, the pages it alone was charged for and that the next one still
uses are charged to the next one instead.

Bookmarks are user names pinned to checkpoints (the REPL's and gdb's
`checkpoint NAME`): a bookmarked checkpoint is never thinned, and several
bookmarks may share one instruction count, beside the ordinary checkpoint
there.  A checkpoint taken with a signal delivery held at the gate
(`held`) stands for a stop, not for the plain state at its count: the
position lookups skip it, so it is restored only through its bookmark.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Indexable(Protocol):
    """What the index needs of a checkpoint (checkpoint.Checkpoint is one)."""

    @property
    def icount(self) -> int: ...
    @property
    def held(self) -> bool: ...
    @property
    def pages(self) -> Mapping[int, Sequence[bytes | None]]: ...
    @property
    def cost(self) -> int: ...


C = TypeVar("C", bound=Indexable)


@dataclass
class _Entry(Generic[C]):
    checkpoint: C
    charge: int                      # bytes of memory accounted to this checkpoint
    bookmark: str | None = None      # pinned by this name: never thinned


class CheckpointIndex(Generic[C]):
    """Checkpoints in instruction-count order, within a memory budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: list[_Entry[C]] = []
        self._icounts: list[int] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[C]:
        return (e.checkpoint for e in self._entries)

    def icounts(self) -> list[int]:
        return list(self._icounts)

    # -- lookups -----------------------------------------------------------------
    def at_or_before(self, icount: int) -> C:
        """The last checkpoint at or before `icount` (not counting held ones; the
        first checkpoint if there is no other)."""
        i = bisect.bisect_right(self._icounts, icount) - 1
        while i > 0 and self._entries[i].checkpoint.held:
            i -= 1
        return self._entries[max(i, 0)].checkpoint

    def before(self, icount: int) -> C | None:
        """The last checkpoint strictly before `icount` (not counting held ones but the first)."""
        i = bisect.bisect_left(self._icounts, icount) - 1
        while i > 0 and self._entries[i].checkpoint.held:
            i -= 1
        return self._entries[i].checkpoint if i >= 0 else None

    def has(self, icount: int) -> bool:
        i = bisect.bisect_left(self._icounts, icount)
        return i < len(self._icounts) and self._icounts[i] == icount

    # -- bookmarks ---------------------------------------------------------------
    def bookmarked(self, name: str) -> C | None:
        return next((e.checkpoint for e in self._entries if e.bookmark == name), None)

    def bookmarks(self) -> dict[str, int]:
        """Bookmark name -> instruction count, in instruction-count order."""
        return {e.bookmark: e.checkpoint.icount for e in self._entries if e.bookmark}

    def unpin(self, name: str) -> None:
        """Forget bookmark `name`; its checkpoint becomes an ordinary one."""
        for e in self._entries:
            if e.bookmark == name:
                e.bookmark = None

    # -- adding and dropping --------------------------------------------------------
    def add(self, cp: C, bookmark: str | None = None) -> bool:
        """Keep `cp` (pinned by `bookmark`, if given); at an instruction count
        already held, only a bookmarked one is added, beside the others.
        Returns whether it was added."""
        i = bisect.bisect_left(self._icounts, cp.icount)
        if not bookmark and i < len(self._icounts) and self._icounts[i] == cp.icount:
            return False
        self._entries.insert(i, _Entry(cp, cp.cost, bookmark))
        self._icounts.insert(i, cp.icount)
        return True

    def memory(self) -> int:
        return sum(e.charge for e in self._entries)

    def thin(self, position: int) -> int:
        """Drop checkpoints until within budget; returns how many were dropped."""
        dropped = 0
        total = self.memory()
        while total > self.budget and len(self._entries) > 2:
            best, best_score = -1, float("inf")
            entries = self._entries
            for i in range(1, len(entries) - 1):
                if entries[i].bookmark:
                    continue
                gap = entries[i + 1].checkpoint.icount - entries[i - 1].checkpoint.icount
                score = gap / (1 + abs(entries[i].checkpoint.icount - position))
                if score < best_score:
                    best, best_score = i, score
            if best < 0:
                break
            total -= self._remove(best)
            dropped += 1
        return dropped

    def _remove(self, i: int) -> int:
        """Drop entry i; pages it alone was charged for and the next one still
        uses are charged to the next one.  Returns the bytes freed from the total."""
        entries = self._entries
        gone = entries.pop(i)
        self._icounts.pop(i)
        if i == len(entries):
            return gone.charge
        nxt = entries[i]
        prev = entries[i - 1] if i > 0 else None
        moved = 0
        for key, pages in gone.checkpoint.pages.items():
            later = nxt.checkpoint.pages.get(key)
            earlier = prev.checkpoint.pages.get(key) if prev is not None else None
            if later is None:
                continue
            for j, page in enumerate(pages):
                if page is None or j >= len(later) or later[j] is not page:
                    continue
                if earlier is not None and j < len(earlier) and earlier[j] is page:
                    continue
                moved += len(page)
        nxt.charge += moved
        return gone.charge - moved
