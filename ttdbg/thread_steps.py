"""One instruction of one thread, whichever threads run in between.

A replay runs every thread together, one at a time, as recorded.  Stepping
thread T (gdb's `stepi` in thread 3, the REPL's `next` in the thread it
stopped in) means: the others' instructions run (or, backwards, are undone)
until T has made (or unmade) one instruction, unless something stops them
first (a breakpoint or watchpoint another thread hits, which all-stop
debuggers report).  The timeline knows which thread runs each instruction
(`Timeline.runner`, from the log's switches), so a step of a thread that is
not running goes straight to its next (or previous) instruction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from replay import Direction, ReplayError, Timeline, TimeStop
from replay import StopReason as TimeReason

ShouldStop = Callable[[], bool]


class NoSuchThread(ReplayError):
    """The thread asked for does not live here."""


class ThreadSteps:
    def __init__(self, timeline: Timeline) -> None:
        self.tl = timeline

    def step(self, tid: int, tdir: Direction, should_stop: ShouldStop,
             chosen: bool = True) -> tuple[TimeStop, int]:
        """One instruction of thread `tid`, and the thread that made the last one run
        (or undone).  Every thread runs: the others' instructions run, or backwards
        are undone, until `tid` has made one, or something stops them first (a
        breakpoint or watchpoint another thread hits).  Not `chosen` (the debugger's current
        thread, which may have made its exit), a thread gone steps the one that
        runs next; chosen, it is NoSuchThread."""
        tl = self.tl
        position = tl.position
        if tid not in {t.tid for t in tl.threads()}:
            if chosen:
                raise NoSuchThread(f"no thread {tid} here")
            tid = tl.runner(position if tdir == Direction.FORWARD else position - 1)
        if tdir == Direction.FORWARD:
            if tl.runner(position) == tid or tl.held_signal:
                stop = tl.step(1, tdir, should_stop)
                return stop, tl.runner(tl.position - 1)
            return self._forward_to_thread(tid, should_stop)
        if position > 0 and tl.runner(position - 1) == tid:
            stop = tl.step(1, tdir, should_stop)
            return stop, tid
        return self._back_to_thread(tid, should_stop)

    def _armed(self) -> bool:
        tl = self.tl
        return bool(tl.breakpoints or tl.watchpoints)

    def _forward_to_thread(self, tid: int, should_stop: ShouldStop) -> tuple[TimeStop, int]:
        """Forwards to just after `tid`'s next instruction; with breakpoints or
        watchpoints armed, by running to a breakpoint where `tid` resumes (its
        saved pc), so that another thread's hit on the way stops it first."""
        tl = self.tl
        start = tl.next_turn(tid, tl.position)
        if start is None or start >= tl.end.icount:
            return tl.cont(Direction.FORWARD, should_stop), tl.current_tid    # it makes none: to the end
        if not self._armed():
            return tl.seek(start + 1, should_stop), tid
        pc = tl.read_register(tl.arch.pc, tid)
        added = pc not in tl.breakpoints
        if added:
            tl.add_breakpoint(pc)
        try:
            while True:
                stop = tl.cont(Direction.FORWARD, should_stop)
                if stop.reason != TimeReason.BREAKPOINT or stop.pc != pc or tl.position > start:
                    return stop, tl.current_tid
                if tl.position == start:
                    break
                if not added:                # the user's own breakpoint, hit by another thread
                    return stop, tl.current_tid
        finally:
            if added:
                tl.remove_breakpoint(pc)
        return tl.step(1, Direction.FORWARD, should_stop), tid

    def _back_to_thread(self, tid: int, should_stop: ShouldStop) -> tuple[TimeStop, int]:
        """Backwards to just before `tid`'s previous instruction; with breakpoints or
        watchpoints armed, by running back to a breakpoint at that instruction, so
        that another thread's hit on the way stops it first."""
        tl = self.tl
        here = tl.position
        target = tl.previous_turn(tid, here)
        if target is None:                   # it made none before: as far back as it goes
            return TimeStop(TimeReason.HISTORY_START, here, tl.pc, tid=tid), tid
        if not self._armed():
            return tl.seek(target, should_stop), tid
        tl.seek(target, should_stop)
        pc = tl.read_register(tl.arch.pc, tid if tl.current_tid != tid else None)
        tl.seek(here, should_stop)
        added = pc not in tl.breakpoints
        if added:
            tl.add_breakpoint(pc)
        try:
            while True:
                stop = tl.cont(Direction.BACKWARD, should_stop)
                if stop.reason != TimeReason.BREAKPOINT or stop.pc != pc or tl.position < target:
                    if tl.position <= target and stop.reason not in (TimeReason.INTERRUPTED,):
                        return tl.seek(target, should_stop), tid
                    return stop, tl.current_tid
                if tl.position == target:
                    return replace(stop, reason=TimeReason.ARRIVED), tid
                if not added:                # the user's own breakpoint, hit by another thread
                    return stop, tl.current_tid
        finally:
            if added:
                tl.remove_breakpoint(pc)
