"""Time travel over a trace: seek, step and continue, forward and backward.

The Timeline owns one replaying guest, its checkpoints, breakpoints and
watchpoints, and the current position (an instruction count).  Every
backward motion is restore-then-replay-forward, as in rr and QEMU:

  seek(n)      restore the nearest checkpoint at or before n, replay to n;
  step(k, <-)  seek(position - k);
  cont(<-)     scan checkpoint intervals backward, each one forward with
               hits collected, until an interval has a hit before the
               position; then seek to the last such hit (QEMU's
               replay_reverse_continue).  No hit is ever missed, because
               every instruction of each interval runs with the hooks on.

Words.  A checkpoint (checkpoint.py) is a restorable snapshot of the replay,
kept in a CheckpointIndex (checkpoint_index.py, with the thinning policy); a
bookmark is a user's name pinned to one (gdb's and the REPL's `checkpoint
NAME` / `restart NAME`); the log's STATE_HASH events are neither.  The
checkpointed state is saved and restored by its owners (GuestProcess, which
composes Machine and LinuxKernel): the timeline never reaches inside them.

The guest.  What the timeline replays is a Guest (guest.py): a Linux
process of a Replay (linux_guest.py: the Timeline wraps a Replay it is given)
or a board's firmware (board/guest.py).  It runs to exact counts with the
Machine's traps armed, captures and restores checkpoints, and answers for its
threads, signals, process facts and devices; what a guest has not it answers
"none" (a board holds no signal, has one thread, no auxv or /proc files).

Stops.  TimeStop and StopReason are the engine's public stop vocabulary,
for front ends; Machine's RunStop and GuestProcess's Outcome stay inside
the engine.

A reverse watchpoint stops *before* the access (the accessing instruction
is the next to run); a forward one stops just after it.  A breakpoint at
the starting position is skipped in both directions.

Signals.  Every delivery of a signal to a handler passes the kernel's
signal gate (replay/linux/signals.py) at an exact instruction count d,
before the handler's frame is built; the timeline notes each one in
`deliveries`.  Three states share the count d: the delivery held at the
gate (a DELIVERY stop, like gdb's "Program received signal"), and the
handler's entry once the frame is built; for a fault, the faulting
instruction not yet run comes first (a plain seek(d) lands there).  Forward
motions stop at the gate for signals not in `pass_signals`, and a resume
from there makes the delivery and goes on into the handler; reverse-stepi
from a handler's entry, and reverse-continue from anywhere later, stop at
the gate again.  The recording cannot change, so every held delivery is
always made when execution resumes.
"""

from __future__ import annotations

import bisect
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from .arch import Arch
from .checkpoint_index import CheckpointIndex
from .disasm import Instruction
from .errors import ReplayError
from .events import ShutdownReason
from .guest import Guest, GuestCheckpoint
from .keyframes import KeyframeStore, check_shapes
from .linux.signals import QUIET_BY_DEFAULT
from .linux.tasks import ThreadInfo
from .linux_guest import LinuxGuest
from .machine import Hit, Watchpoint
from .process import Outcome
from .replayer import Replay

log = logging.getLogger(__name__)

ShouldStop = Callable[[], bool]


class Direction(enum.Enum):
    FORWARD = "forward"
    BACKWARD = "backward"


class StopReason(enum.Enum):
    ARRIVED = "arrived"              # seek or step reached its target
    BREAKPOINT = "breakpoint"
    WATCHPOINT = "watchpoint"
    HISTORY_START = "history-start"  # reverse execution reached instruction 0
    HISTORY_END = "history-end"      # the end of the recording (exit, truncation)
    SIGNALLED = "signalled"          # the recorded fatal signal is next
    DELIVERY = "delivery"            # a signal is about to be delivered to its handler
    INTERRUPTED = "interrupted"      # should_stop() asked
    SYSCALL_ENTRY = "syscall-entry"  # a caught system call's instruction is next (catch_syscalls)
    SYSCALL_RETURN = "syscall-return"  # a caught system call just returned (its result in place)


@dataclass(frozen=True)
class TimeStop:
    reason: StopReason
    icount: int
    pc: int
    address: int | None = None       # breakpoint address, or the watched address accessed
    watch: Watchpoint | None = None
    signal: int = 0                  # SIGNALLED, DELIVERY: the signal
    exit_status: int | None = None   # HISTORY_END after an exit: the exit code
    tid: int = 0                     # the thread current at the stop (that ran the stopping instruction)
    syscall: int | None = None       # SYSCALL_ENTRY, SYSCALL_RETURN: the call's number (the architecture's)


@dataclass(frozen=True)
class MemoryRegion:
    """One mapping of the guest's address space."""

    start: int
    end: int                         # exclusive
    prot: int                        # PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4
    name: str                        # the file's guest path, [stack], [heap], or ""


@dataclass(frozen=True)
class Delivery:
    """Signals delivered to handlers at one instruction count."""

    icount: int
    signals: tuple[int, ...]
    fault: bool                      # a fault's signal: the faulting instruction had not run
    pc: int                          # where the gate held it


class Timeline:
    """One debugging session's time axis over a trace: of a Linux replay (a Replay, of its
    process `pid`), or of any other Guest (guest.py: a board's firmware)."""

    def __init__(self, replay: Replay | Guest, *, interval: int | None = None, near: int | None = None,
                 budget: int | None = None, slice_: int = 1 << 24, pid: int | None = None,
                 keyframes: KeyframeStore | None = None) -> None:
        self.guest: Guest = LinuxGuest(replay, pid, slice_) if isinstance(replay, Replay) else replay
        guest = self.guest
        guest.gate = self._signal_gate
        guest.syscall_seen = self._syscall_seen
        self._pid = guest.pid
        # Keyframes on disk (keyframes.py): far seeks start from the nearest one.
        # (A forked process's timeline may start from the keyframe before the fork: checked on a state at 0.)
        zero = None if keyframes is None or self._pid == guest.first_pid else guest.capture()
        self.keyframes = keyframes if zero is not None and check_shapes(keyframes, zero) else None
        # The debugged process's history starts where it was made (fork) and ends where it ended.
        self.start = 0 if self._pid == guest.first_pid else self._process_start(zero)
        self._machine = guest.machine
        self.end = guest.end_of_history()
        # At least every guest.spacing instructions (4M for Linux); for very long traces,
        # about 512 intervals over the whole history (a power of two).
        self._interval, self._near = interval, near
        self._long = 1 << max(0, (self.end.icount // 512).bit_length())
        self.breakpoints: set[int] = set()
        self.watchpoints: set[Watchpoint] = set()
        self._event_icounts = guest.event_icounts
        self._switch_icounts = guest.switch_icounts
        self._switch_tids = guest.switch_tids
        self.deliveries: dict[int, Delivery] = {}     # every delivery to a handler replayed so far
        self.pass_signals: frozenset[int] = QUIET_BY_DEFAULT   # delivered without stopping
        self._gate_stops = False                      # forward motions stop at deliveries
        self._hold_at: int | None = None              # hold exactly the delivery at this count
        self._released_at: int | None = None          # a held delivery was made here
        # System call catchpoints (catch_syscalls): on, which numbers (None: all), the calls
        # seen by the current run as (count before the instruction, number), and where the
        # last stop was a call's entry (a continue from there reports its return).
        self._catching = False
        self._catch_numbers: frozenset[int] | None = None
        self._caught: list[tuple[int, int]] = []
        self._entry_at: int | None = None
        self.index: CheckpointIndex[GuestCheckpoint] = CheckpointIndex(budget or 0)
        self._fixed_budget = budget is not None
        self.stats = {"restores": 0, "checkpoints_taken": 0, "replayed": 0, "thinned": 0}
        first = self._capture()
        self.index.add(first)
        self._update_budget(first)
        if keyframes is not None and zero is None:
            self.keyframes = keyframes if check_shapes(keyframes, first) else None
        # The debugged process's deliveries the keyframes skip over (the index saw them).
        for d in self.keyframes.deliveries.get(self._pid, ()) if self.keyframes is not None else ():
            self.deliveries.setdefault(d.icount, d)

    # -- the Linux replay's engine objects (keyframe_builder.py and scan.py use them) --
    @property
    def replay(self) -> Replay:
        return self.guest.replay  # type: ignore[attr-defined]

    @property
    def process(self):  # noqa: ANN201 (a GuestProcess)
        return self.guest.process  # type: ignore[attr-defined]

    @property
    def hostio(self):  # noqa: ANN201 (a ReplayingHostIO)
        return self.guest.hostio  # type: ignore[attr-defined]

    @property
    def _kernel(self):  # noqa: ANN202 (a LinuxKernel)
        return self.guest.kernel  # type: ignore[attr-defined]

    def _process_start(self, zero: GuestCheckpoint | None) -> int:
        """Replay to where process `pid` first exists (from `zero`, the start, or
        a keyframe); ReplayError if it never does."""
        start = self.guest.birth()
        kf = self.keyframes
        i = kf.at_or_before(start - 1) if kf is not None else None
        if kf is not None and i is not None and zero is not None:   # from the last keyframe before the fork
            if self._load_keyframe(i, self._restore_state) is None:
                self._restore_state(zero)
        self.guest.run(start, None)
        while not self.guest.born and not self.guest.exited:
            self.guest.run(self.guest.icount + 1, None)
        return self.guest.icount

    def _update_budget(self, latest: GuestCheckpoint) -> None:
        """Default budget: 2x the guest's resident memory now, plus 64 MiB."""
        if self._fixed_budget:
            return
        self.index.budget = 2 * latest.resident_bytes + (64 << 20)

    # -- facts ---------------------------------------------------------------------
    @property
    def interval(self) -> int:
        """Instructions between the checkpoints taken on the way forward."""
        return self._interval or max(self.guest.spacing[0], self._long)

    @property
    def near(self) -> int:
        """A long seek leaves a checkpoint this near its target (the cost of a reverse step)."""
        return self._near or self.guest.spacing[1]

    @property
    def position(self) -> int:
        """The global count (over every thread and process)."""
        return self.guest.icount

    @property
    def arch(self) -> Arch:
        """The traced program's architecture (its `debug` part: what debuggers need)."""
        return self._machine.arch

    @property
    def pc(self) -> int:
        return self.read_register(self._machine.arch.pc)

    @property
    def at_end(self) -> bool:
        return self.guest.exited or self.guest.gone or self.position >= self.end.icount

    # -- checkpoints -----------------------------------------------------------------
    def _capture(self) -> GuestCheckpoint:
        cp = self.guest.capture()
        self.stats["checkpoints_taken"] += 1
        return cp

    def _checkpoint_here(self, bookmark: str | None = None) -> GuestCheckpoint | None:
        if not bookmark and (self.index.has(self.position) or self.guest.held):
            return None
        cp = self._capture()
        self.index.add(cp, bookmark)
        self._update_budget(cp)
        self.stats["thinned"] += self.index.thin(self.position)
        return cp

    def _start_for(self, target: int, strict: bool = False) -> GuestCheckpoint | None:
        """The checkpoint to replay toward `target` from (strictly before it, if
        `strict`): the index's, or a nearer keyframe, loaded into the index."""
        cp = self.index.before(target) if strict else self.index.at_or_before(target)
        kf = self.keyframes
        i = kf.at_or_before(target - 1 if strict else target) if kf is not None else None
        if kf is None or i is None or (cp is not None and kf.icounts[i] <= cp.icount):
            return cp
        if not strict and kf.icounts[i] <= self.position <= target and not self.guest.exited:
            return cp                             # replaying on from here is as good
        loaded = self._load_keyframe(i, self._restore)
        if loaded is None:
            if cp is not None:
                self._restore(cp)
            return cp
        self.index.add(loaded)
        self.stats["keyframes_loaded"] = self.stats.get("keyframes_loaded", 0) + 1
        return loaded

    def _load_keyframe(self, i: int, restore: Callable[[GuestCheckpoint], None]) -> GuestCheckpoint | None:
        """Keyframe `i`, restored with `restore` and checked against its fingerprint; None (and
        keyframes no longer used, with a warning) if it cannot be read or does not restore."""
        kf = self.keyframes
        assert kf is not None
        try:
            loaded = kf.checkpoint(i)
            restore(loaded)
            if self.guest.fingerprint() == kf.digests[i]:
                return loaded
        except ReplayError as exc:
            log.warning("%s", exc)
        log.warning("a keyframe of %s does not restore the state it saved: keyframes not used",
                    self.guest.trace_path)
        self.keyframes = None
        return None

    def _restore_state(self, cp: GuestCheckpoint) -> None:
        """The guest's state of `cp`, nothing else (before the timeline is set up)."""
        self.guest.restore(cp)

    def _restore(self, cp: GuestCheckpoint) -> None:
        self.guest.restore(cp)
        self._released_at = None
        self.stats["restores"] += 1

    # -- bookmarks (the user's named positions: `checkpoint NAME` in gdb and the REPL) --
    def bookmark(self, name: str) -> int:
        """Pin `name` to a checkpoint of the current state (never thinned); a
        name given again moves to here."""
        self.index.unpin(name)
        self._checkpoint_here(name)
        return self.position

    def bookmarks(self) -> dict[str, int]:
        return self.index.bookmarks()

    def restart(self, name: str) -> TimeStop:
        cp = self.index.bookmarked(name)
        if cp is None:
            raise ReplayError(f"no checkpoint named {name!r}")
        self._restore(cp)
        return self.here()

    def checkpoint_memory(self) -> dict[str, int]:
        return {"checkpoints": len(self.index), "page_bytes": self.index.memory(),
                "shadow_bytes": self._machine.saved_state_overhead(), "budget": self.index.budget}

    # -- running forward -------------------------------------------------------------
    def _run_forward(self, target: int, should_stop: ShouldStop | None, traps: bool,
                     watches: bool | None = None) -> Outcome:
        """Replay from the current state toward `target`, checkpointing on the way."""
        self._machine.collect_hits = False
        self._arm(traps, watches)
        target = min(target, self.end.icount)
        start0 = self.position
        while True:
            if self.guest.exited:
                return Outcome.EXITED
            if self.position >= target:
                return Outcome.LIMIT
            if should_stop is not None and self.position > start0 and should_stop():
                return Outcome.INTERRUPTED      # chunks are shorter than Process.run's poll slice
            next_cp = (self.position // self.interval + 1) * self.interval
            start = self.position
            outcome = self._run(min(target, next_cp), should_stop)
            self.stats["replayed"] += self.position - start
            if outcome == Outcome.LIMIT and self.position == next_cp and not self.guest.exited:
                self._checkpoint_here()
                continue
            return outcome

    def _run(self, limit: int, should_stop: ShouldStop | None) -> Outcome:
        """Replay.run, making first any delivery held here (resuming makes it)."""
        if self.guest.held:
            self.guest.release_held()
            self._released_at = self.position
        return self.guest.run(limit, should_stop)

    # -- signals ---------------------------------------------------------------------
    def _signal_gate(self, icount: int, infos: tuple) -> bool:
        fault = infos[0].address is not None
        self.deliveries.setdefault(icount, Delivery(icount, tuple(i.signo for i in infos), fault, self.pc))
        if self._hold_at is not None:
            return icount == self._hold_at
        return self._gate_stops and self._stops_at(self.deliveries[icount])

    def _stops_at(self, d: Delivery) -> bool:
        return any(s not in self.pass_signals for s in d.signals)

    @property
    def held_signal(self) -> int:
        """The signal waiting at the gate here (0: none)."""
        held = self.guest.held
        return held[0].signo if held else 0

    def _after_delivery_here(self) -> bool:
        """At a delivery's count, past it (in the handler's entry state)."""
        d = self.deliveries.get(self.position)
        if d is None or self.guest.held:
            return False
        return not d.fault or self._released_at == self.position

    def _last_delivery_stop(self, origin: int) -> int | None:
        """The count of the last stopping delivery before the current state."""
        here = self._after_delivery_here()
        found = [i for i, d in self.deliveries.items()
                 if (i < origin or (i == origin and here)) and self._stops_at(d)]
        return max(found) if found else None

    def _hold(self, icount: int) -> bool:
        """Stand at the delivery at `icount`, held at the gate; False if it is not there."""
        self._replay_to(icount - 1)
        self._hold_at = icount
        try:
            self._arm(False)
            self._run(icount + 1, None)
        finally:
            self._hold_at = None
        if self.position == icount and self.guest.held:
            return True
        log.warning("no signal delivery found at instruction %d", icount)
        self._replay_to(icount)
        return False

    def _delivery_stop(self) -> TimeStop:
        return self._stop(StopReason.DELIVERY, signal=self.held_signal)

    def _land_delivery(self, icount: int) -> TimeStop:
        if self._hold(icount):
            return self._delivery_stop()
        return self._stop(StopReason.ARRIVED)

    def _before_delivery(self, icount: int, pc: int) -> bool:
        """Is (icount, pc) the faulting instruction of a fault delivered at icount?"""
        d = self.deliveries.get(icount)
        return d is not None and d.fault and pc == d.pc

    def _back_to(self, icount: int, should_stop: ShouldStop | None, pc: int | None = None) -> Outcome:
        """To the last state at `icount` (at `pc`, if given): for a fault's
        delivery, the handler's entry rather than the faulting instruction."""
        d = self.deliveries.get(icount)
        if d is not None and d.fault and icount > 0 and pc != d.pc and self._hold(icount):
            self.guest.release_held()
            self._released_at = icount
            return Outcome.LIMIT
        return self._replay_to(icount, should_stop)

    def _arm(self, traps: bool, watches: bool | None = None) -> None:
        """Arm breakpoints and watchpoints (`traps`), or the watchpoints alone (`watches`)."""
        self._machine.set_breakpoints(self.breakpoints if traps else set())
        self._machine.set_watchpoints(self.watchpoints if (traps if watches is None else watches) else set())
        self._machine.hits.clear()

    def _replay_to(self, target: int, should_stop: ShouldStop | None = None) -> Outcome:
        """Exactly to `target` (no traps), from the best starting point."""
        target = max(self.start, min(target, self.end.icount))
        here = self.position
        if here == target and not self.guest.held and (not self.guest.exited or target == self.end.icount):
            return Outcome.LIMIT
        cp = self._start_for(target)
        if self.guest.exited or here > target or here < cp.icount or (here == target and self.guest.held):
            self._restore(cp)
        # Keep single-instruction reverse stepping cheap: leave a checkpoint
        # half-way when the replay is long in instructions or in events (system
        # calls replay slowly); repeated steps then converge on the target.
        distance = target - self.position
        if distance > self.near or self._events_between(self.position, target) > 8:
            middle = target - min(self.near // 2, distance // 2)
            if middle > self.position:
                self._run_forward(middle, should_stop, traps=False)
                if self.position == middle and not self.guest.exited:
                    self._checkpoint_here()
        return self._run_forward(target, should_stop, traps=False)

    def _events_between(self, lo: int, hi: int) -> int:
        return bisect.bisect_right(self._event_icounts, hi) - bisect.bisect_right(self._event_icounts, lo)

    def here(self) -> TimeStop:
        """Where the timeline stands: a DELIVERY stop while a delivery waits at
        the gate, ARRIVED otherwise."""
        return self._delivery_stop() if self.guest.held else self._stop(StopReason.ARRIVED)

    def _stop(self, reason: StopReason, **kw) -> TimeStop:
        self._entry_at = self.position if reason == StopReason.SYSCALL_ENTRY else None
        return TimeStop(reason, self.position, self.pc, tid=self.guest.current_tid, **kw)

    def end_stop(self) -> TimeStop:
        """How the recording ends, as a stop here: SIGNALLED for a fatal signal,
        HISTORY_END (with the exit status after an exit) otherwise."""
        end = self.end
        if end.reason == ShutdownReason.SIGNAL:
            return self._stop(StopReason.SIGNALLED, signal=end.status)
        if end.reason == ShutdownReason.EXIT:
            return self._stop(StopReason.HISTORY_END, exit_status=end.status)
        return self._stop(StopReason.HISTORY_END)

    # -- the API ---------------------------------------------------------------------
    def seek(self, icount: int, should_stop: ShouldStop | None = None) -> TimeStop:
        """Stand exactly after `icount` instructions of the recorded run."""
        if icount <= self.start:
            self._replay_to(self.start)
            return self._stop(StopReason.HISTORY_START if icount < self.start else StopReason.ARRIVED)
        if icount >= self.end.icount:
            self._replay_to(self.end.icount, should_stop)
            if icount > self.end.icount or self.position >= self.end.icount:
                return self.end_stop() if icount > self.end.icount else self._stop(StopReason.ARRIVED)
        outcome = self._replay_to(icount, should_stop)
        if outcome == Outcome.INTERRUPTED:
            return self._stop(StopReason.INTERRUPTED)
        return self._stop(StopReason.ARRIVED)

    def step(self, count: int = 1, direction: Direction = Direction.FORWARD,
             should_stop: ShouldStop | None = None) -> TimeStop:
        """`count` instructions; making a held delivery counts as one, and a
        forward step stops at a signal's delivery (DELIVERY)."""
        if direction == Direction.BACKWARD:
            return self._step_backward(count, should_stop)
        if self.guest.held:
            self.guest.release_held()
            self._released_at = self.position
            count -= 1
            if count <= 0:
                return self._stop(StopReason.ARRIVED)
        if self.at_end:
            return self.end_stop()
        target = self.position + count
        self._gate_stops = True
        try:
            # A watched access inside the steps stops them, as a hardware watchpoint stops a single-step.
            outcome = self._run_forward(target, should_stop, traps=False, watches=True)
            hits = list(self._machine.hits)
        finally:
            self._gate_stops = False
            self._arm(False)
        if outcome == Outcome.SIGNAL:
            return self._delivery_stop()
        if outcome == Outcome.TRAPPED and hits and hits[-1].watch is not None:
            hit = hits[-1]
            # Stopped inside the accessing instruction: come to just after it from a checkpoint.
            self._restore(self.index.at_or_before(hit.icount))
            self._replay_to(hit.icount + 1)
            return self._stop(StopReason.WATCHPOINT, address=hit.address, watch=hit.watch)
        if outcome == Outcome.INTERRUPTED:
            return self._stop(StopReason.INTERRUPTED)
        if self.position >= self.end.icount and target > self.end.icount:
            return self.end_stop()
        return self._stop(StopReason.ARRIVED)

    def _step_backward(self, count: int, should_stop: ShouldStop | None) -> TimeStop:
        origin = self.position
        if count == 1 and self._after_delivery_here() and self._stops_at(self.deliveries[origin]):
            return self._land_delivery(origin)          # from the handler's entry back to the gate
        if origin == self.start:
            return self._stop(StopReason.HISTORY_START)
        target = origin - count
        if target < self.start:
            self._replay_to(self.start)
            return self._stop(StopReason.HISTORY_START)
        outcome = self._back_to(target, should_stop)
        if outcome == Outcome.INTERRUPTED:
            # Where it got to is not where it was asked to go: go back to the start.
            self._replay_to(origin)
            return self._stop(StopReason.INTERRUPTED)
        return self._stop(StopReason.ARRIVED)

    def cont(self, direction: Direction = Direction.FORWARD, should_stop: ShouldStop | None = None,
             until: int | None = None) -> TimeStop:
        """Run to the next stop.  Forward, `until` (a position ahead) is one more: an ARRIVED
        stop there if nothing stops the run before (a front end's own stopping points, such
        as the debugged process's fork and exec)."""
        if direction == Direction.FORWARD:
            return self._cont_forward(should_stop, until)
        return self._cont_backward(should_stop)

    def _cont_forward(self, should_stop: ShouldStop | None, until: int | None = None) -> TimeStop:
        if self.at_end and not self.guest.held:
            return self.end_stop()
        start = self.position
        entered = self._entry_at == start and not self.guest.held
        limit = self.end.icount if until is None or until <= start else min(until, self.end.icount)
        # A breakpoint where we stand is skipped, unless a held delivery moves us
        # into a handler first (its entry may hold a breakpoint of its own).
        self._machine.skip_breakpoint_icount = -1 if self.guest.held else start
        self._gate_stops = True
        self._caught.clear()
        run_stop = should_stop
        if self._catching:      # a caught call ends the run (at the next block): its stop comes first
            def run_stop() -> bool:
                return bool(self._caught) or (should_stop is not None and should_stop())
        try:
            outcome = self._run_forward(limit, run_stop, traps=True)
            hits = list(self._machine.hits)
        finally:
            self._gate_stops = False
            self._machine.skip_breakpoint_icount = -1
            self._arm(False)
        caught = self._caught[:1]
        if caught:
            at, sysno = caught[0]
            if at > start or not entered:
                return self._catch_stop(at, StopReason.SYSCALL_ENTRY, sysno)
            if not (self.at_end and at + 1 >= self.end.icount):     # exit_group has no return
                return self._catch_stop(at + 1, StopReason.SYSCALL_RETURN, sysno)
        if outcome == Outcome.LIMIT and self.position == limit < self.end.icount:
            return self._stop(StopReason.ARRIVED)
        if outcome == Outcome.SIGNAL:
            return self._delivery_stop()
        if outcome == Outcome.TRAPPED:
            hit = hits[-1] if hits else None
            if hit is not None and hit.watch is not None:
                # Stop just after the access: replay exactly to there.
                self._replay_to(hit.icount + 1)
                return self._stop(StopReason.WATCHPOINT, address=hit.address, watch=hit.watch)
            return self._stop(StopReason.BREAKPOINT, address=self.guest.last_trap_pc)
        if outcome == Outcome.INTERRUPTED:
            return self._stop(StopReason.INTERRUPTED)
        return self.end_stop()

    def _scan(self, start: GuestCheckpoint, end: int, should_stop: ShouldStop | None) -> tuple[list[Hit], bool]:
        """Replay [start, end) with every trap recording hits; (hits, interrupted)."""
        self._restore(start)
        self._arm(True)
        self._machine.collect_hits = True
        self._machine.skip_breakpoint_icount = -1
        try:
            outcome = self._run(end, should_stop)
            self.stats["replayed"] += self.position - start.icount
        finally:
            self._machine.collect_hits = False
        hits = [h for h in self._machine.hits if h.icount < end]
        self._arm(False)
        return hits, outcome == Outcome.INTERRUPTED

    def _cont_backward(self, should_stop: ShouldStop | None) -> TimeStop:
        origin = self.position
        if origin == self.start:
            return self._stop(StopReason.HISTORY_START)
        # Every delivery before here has been replayed, so the last one is known.
        signal_at = self._last_delivery_stop(origin)
        if not self.breakpoints and not self.watchpoints and not self._catching:
            if signal_at is not None:
                return self._land_delivery(signal_at)
            self._replay_to(self.start)           # nothing can stop us: straight to the start
            return self._stop(StopReason.HISTORY_START)
        end = origin
        while end > self.start:
            cp = self._start_for(end, strict=True)
            if cp is None:
                cp = self.index.at_or_before(self.start)
            self._caught.clear()
            hits, interrupted = self._scan(cp, end, should_stop)
            if interrupted:
                self._replay_to(origin)
                return self._stop(StopReason.INTERRUPTED)
            hits = [h for h in hits if h.icount < origin]
            catch = self._last_catch(origin, end)
            if catch is not None and (not hits or catch[0] > max(h.icount for h in hits)):
                if signal_at is not None and signal_at > catch[0]:
                    return self._land_delivery(signal_at)   # the delivery came after the call
                return self._catch_stop(*catch)
            if hits:
                last = max(hits, key=lambda h: (h.icount, not self._before_delivery(h.icount, h.pc)))
                if signal_at is not None and (signal_at > last.icount or (
                        signal_at == last.icount and self._before_delivery(last.icount, last.pc))):
                    return self._land_delivery(signal_at)   # the delivery came after the hit
                self._back_to(last.icount, None, last.pc)
                if last.watch is not None:
                    return self._stop(StopReason.WATCHPOINT, address=last.address, watch=last.watch)
                return self._stop(StopReason.BREAKPOINT, address=last.pc)
            if signal_at is not None and signal_at >= cp.icount:
                return self._land_delivery(signal_at)
            if should_stop is not None and should_stop():
                self._replay_to(origin)
                return self._stop(StopReason.INTERRUPTED)
            end = cp.icount
        self._replay_to(self.start)
        return self._stop(StopReason.HISTORY_START)

    # -- system call catchpoints (gdb's `catch syscall`) ----------------------------------
    def catch_syscalls(self, numbers: frozenset[int] | None, enabled: bool = True) -> None:
        """Continues stop at the debugged process's system calls (`numbers` in its
        architecture's numbering, as the guest puts them in its register; None: every
        call), twice each, as ptrace's syscall stops: SYSCALL_ENTRY with the call's
        instruction next to run, SYSCALL_RETURN just after it (the result in place;
        none after exit_group).  Forward, a continue from an entry stops at its
        return; backward, the return comes first.  `enabled` False: no more."""
        self._catching = enabled
        self._catch_numbers = numbers

    def _syscall_seen(self, before: int, sysno: int) -> None:
        if self._catching and (self._catch_numbers is None or sysno in self._catch_numbers):
            self._caught.append((before, sysno))

    def _last_catch(self, origin: int, end: int) -> tuple[int, StopReason, int] | None:
        """The last catch stop before `origin` among the calls a scan up to `end` saw."""
        found = [(at + 1, StopReason.SYSCALL_RETURN, n) for at, n in self._caught
                 if at + 1 < origin and at + 1 <= min(end, self.end.icount - 1)]
        found += [(at, StopReason.SYSCALL_ENTRY, n) for at, n in self._caught if at < origin]
        return max(found, key=lambda c: (c[0], c[1] == StopReason.SYSCALL_RETURN)) if found else None

    def _catch_stop(self, icount: int, reason: StopReason, sysno: int) -> TimeStop:
        self._replay_to(icount)
        return self._stop(reason, syscall=sysno)

    # -- breakpoints, watchpoints, state ------------------------------------------------
    def add_breakpoint(self, address: int) -> None:
        self.breakpoints.add(address)

    def remove_breakpoint(self, address: int) -> None:
        self.breakpoints.discard(address)

    def add_watchpoint(self, watch: Watchpoint) -> None:
        self.watchpoints.add(watch)

    def remove_watchpoint(self, watch: Watchpoint) -> None:
        self.watchpoints.discard(watch)

    # -- threads ------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        """The debugged process's pid."""
        return self._pid

    @property
    def current_tid(self) -> int:
        """The thread that runs (or ran last) here."""
        return self.guest.current_tid

    def threads(self) -> tuple[ThreadInfo, ...]:
        """The debugged process's live threads here, by tid."""
        return self.guest.threads()

    # -- whose turn: which thread runs each instruction (from the log's switches) ------------
    def runner(self, position: int | None = None) -> int:
        """The thread that runs the instruction after `position` (default: here).  The
        log's TASK_SWITCH events say it for every position: a switch at S gives the
        instructions S+1 ... up to the next switch to its thread."""
        at = self.position if position is None else position
        i = bisect.bisect_right(self._switch_icounts, at) - 1
        return self._switch_tids[i] if i >= 0 else self.guest.first_pid

    def next_turn(self, tid: int, start: int | None = None) -> int | None:
        """The first position >= `start` (default: here) from which thread `tid` runs
        its next instruction; None if it never runs again in the recording."""
        at = self.position if start is None else start
        if self.runner(at) == tid:
            return at
        i = bisect.bisect_right(self._switch_icounts, at)
        for j in range(i, len(self._switch_icounts)):
            if self._switch_tids[j] == tid:
                return self._switch_icounts[j]
        return None

    def previous_turn(self, tid: int, before: int | None = None) -> int | None:
        """The last position < `before` (default: here) from which thread `tid` ran an
        instruction (so seeking there stands before that instruction); None: none."""
        at = (self.position if before is None else before) - 1
        if at < 0:
            return None
        if self.runner(at) == tid:
            return at
        i = bisect.bisect_right(self._switch_icounts, at) - 1
        # Walk back over the turns: the last one of `tid` ends where the next switch happened.
        for j in range(i, -1, -1):
            begin = self._switch_icounts[j - 1] if j > 0 else 0
            owner = self._switch_tids[j - 1] if j > 0 else self.guest.first_pid
            if owner == tid and begin < self._switch_icounts[j]:
                return self._switch_icounts[j] - 1
        return None

    @property
    def program(self) -> str:
        """The debugged process's program here: its last execve's (a forked child: its parent's);
        a board's: the firmware."""
        return self.guest.program

    @property
    def auxv(self) -> bytes:
        """The debugged process's auxiliary vector here (its last exec's; a board: empty)."""
        return self.guest.auxv

    def vfork_child(self) -> int | None:
        """The child the debugged process's current thread waits for in vfork here (None: none)."""
        return self.guest.vfork_child()

    def read_register(self, name: str, tid: int | None = None) -> int:
        """A register of thread `tid` (None: the current thread); ReplayError if no such thread lives."""
        return self.guest.read_register(name, tid)

    def device_state(self) -> str:
        """The devices' state here, as `info board` shows it ("": the guest has no devices)."""
        return self.guest.device_state()

    def read_registers(self, names: tuple[str, ...], tid: int | None = None) -> tuple[int, ...]:
        """Several registers of thread `tid` (None: the current thread) at once:
        read_register for each, in one call into the emulator when it can."""
        return self.guest.read_registers(names, tid)

    def read_memory(self, address: int, length: int) -> bytes:
        """Guest bytes; raises ReplayError if any byte is unmapped."""
        try:
            return self._machine.mem.read(address, length)
        except ValueError:
            raise ReplayError(f"cannot access memory at address {address:#x}") from None

    def read_memory_prefix(self, address: int, length: int) -> bytes:
        """Guest bytes from `address`, up to `length` or the first unmapped byte."""
        mem = self._machine.mem
        out = bytearray()
        pos, end = address, address + length
        while pos < end:
            region = mem.find(pos)
            if region is None:
                break
            n = min(end, region.end) - pos
            out += mem.read(pos, n)
            pos += n
        return bytes(out)

    def memory_map(self) -> tuple[MemoryRegion, ...]:
        """The guest's mappings here, in address order."""
        return tuple(MemoryRegion(r.start, r.end, r.prot, r.name) for r in self._machine.mem.regions())

    def proc_file(self, name: str, tid: int | None = None) -> bytes | None:
        """The text of /proc/PID/`name` (of thread `tid`'s task directory, if given) here,
        for the files the kernel makes from guest state alone (procfs.py: maps, status,
        stat); None for any other (and on a board)."""
        return self.guest.proc_file(name, tid)

    def instruction_at(self, address: int) -> Instruction | None:
        """The instruction at `address` in guest memory here (None: unmapped or undecodable)."""
        return self._machine.instruction_at(address)

    def write_register(self, name: str, value: int, tid: int | None = None) -> None:
        """Refused: the replay must stay the recording (no diversions yet)."""
        raise ReplayError(f"cannot set ${name}: registers cannot be changed during replay")

    def write_memory(self, address: int, data: bytes) -> None:
        """Refused: the replay must stay the recording (no diversions yet)."""
        raise ReplayError(f"cannot write memory at {address:#x}: memory cannot be changed during replay")

    def state_digest(self) -> bytes:
        return self._machine.state_hash()

