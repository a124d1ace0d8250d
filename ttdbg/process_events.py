"""Where the debugged process forks and execs, for gdb's process events.

gdb hears of a process's forks, vforks and execs as stop replies (gdbstub's
FORK, VFORK and EXEC stops; VFORK_DONE once a vfork's child has exec'd or
exited) and handles them as for a native process whose children it does not
follow: it detaches the child, which runs on in the replay (a process of its
own, to debug with `-p PID`), and after an exec it loads the new program.

The trace's PROCESS events say where each happens, in instructions: a child's
START is its parent's fork (or vfork: the timeline says, there, whether the
parent waits for the child), the process's own EXEC its exec, and a child's
first EXEC or EXIT the end of its parent's vfork.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from replay import EventKind


class PointKind(enum.Enum):
    FORK = "fork"              # a child started (fork or vfork)
    EXEC = "exec"              # the process exec'd
    CHILD_DONE = "child-done"  # a child exec'd or exited for the first time (a vfork parent runs again)


@dataclass(frozen=True)
class ProcessPoint:
    icount: int                # the position just after the system call
    kind: PointKind
    child: int = 0             # FORK, CHILD_DONE: the child's pid


class Reported(enum.Enum):
    """What gdb hears at a point."""

    FORK = "fork"
    VFORK = "vfork"
    VFORK_DONE = "vfork-done"  # at the CHILD_DONE of a child whose vfork gdb heard of
    EXEC = "exec"


@dataclass(frozen=True)
class ProcessEvent:
    kind: Reported
    child: int = 0             # FORK, VFORK: the child's pid
    path: str = ""             # EXEC: the new program


class ProcessPoints:
    """The points of process `pid` in a trace's events, in order."""

    def __init__(self, events: Iterable[object], pid: int) -> None:
        points: list[ProcessPoint] = []
        children: set[int] = set()
        for ev in events:
            if ev.kind != EventKind.PROCESS:                              # type: ignore[attr-defined]
                continue
            icount, change = ev.icount, ev.change.name                    # type: ignore[attr-defined]
            child = ev.pid                                                # type: ignore[attr-defined]
            if change == "START" and ev.ppid == pid:                      # type: ignore[attr-defined]
                children.add(child)
                points.append(ProcessPoint(icount, PointKind.FORK, child))
            elif change == "EXEC" and child == pid:
                points.append(ProcessPoint(icount, PointKind.EXEC))
            elif change in ("EXEC", "EXIT") and child in children:
                children.discard(child)
                points.append(ProcessPoint(icount, PointKind.CHILD_DONE, child))
        self.points = tuple(points)
        self._icounts = [p.icount for p in points]

    def after(self, position: int) -> tuple[ProcessPoint, ...]:
        """The points after `position`, in order."""
        return self.points[bisect.bisect_right(self._icounts, position):]
