"""Checkpoints: restorable snapshots of a replay at one instruction count.

A checkpoint is a value: the replayed processes' state (each machine's CPU
and memory, each kernel's state with its threads, saved by their owners: see
process.py and linux/family.py) and the replay's position in the event log.  The timeline
takes them as it replays and restores them to travel back; the index that
keeps them (and decides which to drop) is checkpoint_index.py.

Not to be confused with the log's STATE_HASH events (a digest of the state
at fixed counts, verified by the replay) nor with a user's bookmarks (names
the timeline pins to checkpoints).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .page_images import MemoryImage, Pages
from .process import ProcessState
from .replayer import LogCursor

# What a checkpoint costs beyond the pages it newly stores: its page lists
# (8 bytes a page) and the CPU context.
_PAGE_ENTRY = 8
_FIXED_COST = 4096


@dataclass(frozen=True)
class Checkpoint:
    icount: int
    process: ProcessState
    cursor: LogCursor

    @property
    def held(self) -> bool:
        """Taken with a signal delivery waiting at the gate (restored only as a bookmark)."""
        return self.process.held

    @property
    def pages(self) -> Mapping[int, Pages]:
        """Guest memory by host buffer; an unchanged page is the same object in consecutive checkpoints."""
        return self.process.machine.memory.pages

    @property
    def cost(self) -> int:
        """Bytes this checkpoint added when it was taken."""
        return sum(m.new_bytes + _PAGE_ENTRY * m.page_count() + _FIXED_COST for m in self._memories())

    @property
    def resident_bytes(self) -> int:
        """The guest's memory in use (pages not all zeros)."""
        return sum(m.resident_bytes() for m in self._memories())

    def _memories(self) -> list[MemoryImage]:
        """Every process's memory image (the first process's, then the others')."""
        return [self.process.machine.memory, *(m.memory for m in self.process.family.machines.values())]
