"""The guest: what a Timeline replays, seen through the one small interface it needs.

A Timeline (timeline.py) moves through a recorded history; the thing whose
history it is — a Linux process tree replayed under the emulated kernel
(linux_guest.py) or bare-metal firmware on an emulated board
(board/guest.py) — is a `Guest`.  The timeline asks it to run forward to an
exact count (the Machine's breakpoints and watchpoints armed, a should_stop
polled), to capture and restore checkpoints, for its debugged Machine
(registers, memory, instructions, the traps), its threads, its end of history
and the counts of its recorded events.

What one kind of guest has not, it answers "none" through the interface,
never by a front end asking which kind it is: a board has one thread (the
CPU), no signals (`held` is empty, so no delivery is ever held at the gate),
no auxv, no /proc files, no process births or switches; a Linux process has
no devices (`device_state` is "").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .checkpoint_index import Indexable
from .events import ShutdownReason
from .linux.tasks import ThreadInfo
from .machine import Machine
from .process import Outcome


@dataclass(frozen=True)
class EndOfHistory:
    icount: int
    reason: ShutdownReason | None    # None: truncated log
    status: int                      # exit code or signal number


class GuestCheckpoint(Indexable, Protocol):
    """A restorable state of a guest at one count (what the CheckpointIndex keeps)."""

    @property
    def resident_bytes(self) -> int: ...


SignalGate = Callable[[int, tuple], bool]


class Guest(Protocol):
    """What a Timeline needs of the thing it replays."""

    pid: int                          # the debugged process (a board: 1)
    first_pid: int                    # the recording's first process (a board: 1)
    trace_path: str
    event_icounts: list[int]          # every recorded event's count, in order
    switch_icounts: list[int]         # the counts of thread switches (a board: none)
    switch_tids: list[int]            # ... and the thread switched to
    gate: SignalGate | None           # the timeline's signal gate (Linux); a board never calls it
    syscall_seen: Callable[[int, int], None] | None   # told of each system call (Linux): catch_syscalls
    # The timeline's default checkpoint spacing and `near` (the replay a reverse step may cost),
    # in instructions: a fraction of a second's and a few milliseconds' worth of the replay.
    spacing: tuple[int, int]

    # -- running -------------------------------------------------------------------
    @property
    def machine(self) -> Machine: ...
    @property
    def icount(self) -> int: ...
    @property
    def exited(self) -> bool:
        """The replay can go no further (every process ended, the firmware ended)."""
    @property
    def gone(self) -> bool:
        """The debugged process has ended (a board: when the firmware has)."""
    def run(self, limit: int, should_stop: Callable[[], bool] | None) -> Outcome: ...
    @property
    def last_trap_pc(self) -> int:
        """The pc of the last TRAPPED outcome (a breakpoint's address)."""

    # -- checkpoints ---------------------------------------------------------------
    def capture(self) -> GuestCheckpoint: ...
    def restore(self, cp: GuestCheckpoint) -> None: ...
    def fingerprint(self) -> bytes:
        """A cheap digest of the state as restored (checks keyframes)."""

    # -- history ---------------------------------------------------------------------
    def end_of_history(self) -> EndOfHistory: ...
    def birth(self) -> int:
        """The count where the debugged process starts to exist (ReplayError: never)."""
    @property
    def born(self) -> bool: ...

    # -- signals (a board: none) -------------------------------------------------------
    @property
    def held(self) -> tuple: ...
    def release_held(self) -> None: ...

    # -- threads and process facts ----------------------------------------------------
    @property
    def current_tid(self) -> int: ...
    def threads(self) -> tuple[ThreadInfo, ...]: ...
    def read_register(self, name: str, tid: int | None) -> int: ...
    def read_registers(self, names: tuple[str, ...], tid: int | None) -> tuple[int, ...]:
        """Several registers at once (one call into the emulator where it can: a scan's probes)."""
    @property
    def program(self) -> str: ...
    @property
    def auxv(self) -> bytes: ...
    def vfork_child(self) -> int | None: ...
    def proc_file(self, name: str, tid: int | None) -> bytes | None: ...
    def device_state(self) -> str:
        """The devices' state (`info board`); "" for a guest without devices."""
