"""Which thread makes each instruction of a trace, read from its TASK_SWITCH events.

The engine runs one thread at a time and logs every switch: a TASK_SWITCH at
count N names the thread that makes the instructions from N on (N to N+1,
then on, until the next switch); before the first switch the process's own
thread runs.  So the whole schedule is known without running anything, and
stepping one thread (gdb's `stepi` in thread 3 while thread 2 ran last) can
go straight to that thread's next or previous instruction.
"""

from __future__ import annotations

from bisect import bisect_right

from replay import EventKind, LogContents


class ThreadSchedule:
    def __init__(self, contents: LogContents, first_tid: int) -> None:
        starts, tids = [0], [first_tid]
        for ev in contents.events:
            if ev.kind == EventKind.TASK_SWITCH:
                starts.append(ev.icount)
                tids.append(ev.tid)  # type: ignore[attr-defined]
        self._starts = starts
        self._tids = tids

    def _run(self, position: int) -> int:
        """The index of the run that makes instruction `position` (the last switch at or before it)."""
        return bisect_right(self._starts, position) - 1

    def _end(self, run: int) -> int | None:
        return self._starts[run + 1] if run + 1 < len(self._starts) else None

    def maker(self, position: int) -> int:
        """The thread that makes instruction `position` (the one from `position` to `position + 1`)."""
        return self._tids[self._run(max(position, 0))]

    def previous(self, tid: int, position: int) -> int | None:
        """The last count before `position` at which `tid` makes an instruction (None: none)."""
        run = self._run(position - 1) if position > 0 else -1
        while run >= 0:
            end = self._end(run)
            last = position - 1 if end is None else min(position - 1, end - 1)
            if self._tids[run] == tid and last >= self._starts[run]:
                return last
            run -= 1
        return None

    def following(self, tid: int, position: int) -> int | None:
        """The first count at or after `position` at which `tid` makes an instruction (None: none
        in the recording; past its end the thread may still run on, unrecorded)."""
        run = self._run(max(position, 0))
        while run < len(self._starts):
            end = self._end(run)
            first = max(position, self._starts[run])
            if self._tids[run] == tid and (end is None or first < end):
                return first
            run += 1
        return None
