"""Checkpoints: restorable snapshots of a replay at one instruction count.

A checkpoint is a value: the replayed process's state (its machine's CPU
and memory, its kernel's state, each saved by its owner: see
process.py) and the replay's position in the event log.  The timeline
takes them as it replays and restores them to travel back; the index that
keeps them (and decides which to drop) is checkpoint_index.py.

Not to be confused with the log's STATE_HASH events (a digest of the state
at fixed counts, verified by the replay) nor with a user's bookmarks (names
the timeline pins to checkpoints).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .page_images import Pages
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
        memory = self.process.machine.memory
        return memory.new_bytes + _PAGE_ENTRY * memory.page_count() + _FIXED_COST

    @property
    def resident_bytes(self) -> int:
        """The guest's memory in use (pages not all zeros)."""
        return self.process.machine.memory.resident_bytes()
