"""ttdbg.thread_schedule: which thread makes each instruction, from TASK_SWITCH events."""

from __future__ import annotations

from types import SimpleNamespace

from replay.events import TaskSwitch
from ttdbg.thread_schedule import ThreadSchedule

# thread 1 makes 0-9, 2 makes 10-14, (a switch to 3 at 15 with none of its own), 1 makes 15-19, 2 from 20 on
SCHEDULE = ThreadSchedule(SimpleNamespace(events=[TaskSwitch(10, 2), TaskSwitch(15, 3), TaskSwitch(15, 1),
                                                  TaskSwitch(20, 2)]), first_tid=1)


def test_maker() -> None:
    assert [SCHEDULE.maker(p) for p in (0, 9, 10, 14, 15, 19, 20, 10**9)] == [1, 1, 2, 2, 1, 1, 2, 2]


def test_previous() -> None:
    assert SCHEDULE.previous(1, 0) is None
    assert SCHEDULE.previous(1, 5) == 4
    assert SCHEDULE.previous(1, 14) == 9         # back over thread 2's 10-13
    assert SCHEDULE.previous(1, 25) == 19
    assert SCHEDULE.previous(2, 15) == 14
    assert SCHEDULE.previous(2, 10) is None
    assert SCHEDULE.previous(3, 30) is None      # its run was empty


def test_following() -> None:
    assert SCHEDULE.following(1, 0) == 0
    assert SCHEDULE.following(2, 0) == 10
    assert SCHEDULE.following(1, 12) == 15
    assert SCHEDULE.following(1, 20) is None
    assert SCHEDULE.following(2, 16) == 20
    assert SCHEDULE.following(2, 500) == 500     # the last run goes on
    assert SCHEDULE.following(3, 0) is None
