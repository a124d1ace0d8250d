"""The two ends of history, and a program that dies of SIGSEGV."""

from __future__ import annotations

import pytest

from replay.events import EventKind
from replay.linux.signals import SIGSEGV
from replay.machine import WatchKind, Watchpoint
from replay.timeline import Direction, StopReason


@pytest.fixture(scope="module")
def tl(work):
    return work.timeline(interval=1 << 16, near=1 << 12)


def test_seek_beyond_the_end_stops_at_the_exit(tl, work) -> None:
    end = tl.end.icount
    stop = tl.seek(end + 12345)
    assert stop.reason == StopReason.HISTORY_END
    assert stop.exit_status == 0
    assert stop.icount == tl.position == end
    assert work.state_of(tl) == work.reference(end)
    # Exactly the end is an arrival; going further is the end again.
    assert tl.seek(end).reason == StopReason.ARRIVED
    assert tl.step(1, Direction.FORWARD).reason == StopReason.HISTORY_END
    assert tl.cont(Direction.FORWARD).reason == StopReason.HISTORY_END
    assert tl.position == end
    back = tl.step(1, Direction.BACKWARD)
    assert back.reason == StopReason.ARRIVED and back.icount == end - 1
    assert tl.step(5, Direction.FORWARD).reason == StopReason.HISTORY_END
    assert tl.position == end


def test_seek_before_the_start(tl, work) -> None:
    tl.seek(1_000_000)
    stop = tl.seek(-5)
    assert stop.reason == StopReason.HISTORY_START
    assert stop.icount == tl.position == 0
    assert work.state_of(tl) == work.reference(0)
    assert tl.step(1, Direction.BACKWARD).reason == StopReason.HISTORY_START
    assert tl.cont(Direction.BACKWARD).reason == StopReason.HISTORY_START
    assert tl.position == 0
    tl.seek(3)
    stop = tl.step(10, Direction.BACKWARD)
    assert stop.reason == StopReason.HISTORY_START and tl.position == 0
    assert work.state_of(tl) == work.reference(0)


def test_continue_to_the_end_and_back(tl, work) -> None:
    tl.seek(0)
    stop = tl.cont(Direction.FORWARD)
    assert stop.reason == StopReason.HISTORY_END and stop.exit_status == 0
    assert tl.position == tl.end.icount
    stop = tl.cont(Direction.BACKWARD)
    assert stop.reason == StopReason.HISTORY_START and tl.position == 0


@pytest.fixture(scope="module")
def ftl(fault):
    return fault.timeline(interval=1 << 14, near=1 << 10)


def _exception_event(fault):
    replay = fault.replay()
    events = [e for e in replay.contents.events if e.kind == EventKind.EXCEPTION]
    replay.close()
    assert len(events) == 1
    return events[0]


def test_fault_end_is_signalled_at_the_faulting_pc(ftl, fault) -> None:
    exc = _exception_event(fault)
    assert exc.signal == SIGSEGV
    stop = ftl.seek(ftl.end.icount + 1)
    assert stop.reason == StopReason.SIGNALLED and stop.signal == SIGSEGV
    assert stop.icount == ftl.position == ftl.end.icount
    assert stop.pc == exc.pc
    start, size = fault.symbols["main"]
    assert start <= stop.pc < start + size
    assert fault.state_of(ftl) == fault.reference(ftl.end.icount)
    # Forward from anywhere ends the same way.
    ftl.seek(1000)
    stop = ftl.cont(Direction.FORWARD)
    assert stop.reason == StopReason.SIGNALLED and stop.signal == SIGSEGV and stop.pc == exc.pc
    assert ftl.step(1, Direction.FORWARD).reason == StopReason.SIGNALLED
    # Backward from the end: the faulting instruction is the next one.
    ftl.step(1, Direction.BACKWARD)
    ftl.step(1, Direction.FORWARD)
    assert ftl.pc == exc.pc


def test_reverse_watch_finds_the_null_assignment(ftl, fault) -> None:
    ptr = fault.addr("target_ptr")
    ftl.seek(ftl.end.icount + 1)
    assert int.from_bytes(ftl.read_memory(ptr, 8), "little") == 0
    watch = Watchpoint(ptr, 8, WatchKind.WRITE)
    ftl.add_watchpoint(watch)
    try:
        stop = ftl.cont(Direction.BACKWARD)
        assert stop.reason == StopReason.WATCHPOINT and stop.address == ptr
        assert int.from_bytes(ftl.read_memory(ptr, 8), "little") == fault.addr("storage")
        at = stop.icount
        ftl.step(1, Direction.FORWARD)
        assert int.from_bytes(ftl.read_memory(ptr, 8), "little") == 0
        assert fault.state_of(ftl) == fault.reference(at + 1)
        # From just after it, reverse-continue finds the same write again.
        assert ftl.cont(Direction.BACKWARD).icount == at
        # Before that: the assignment of &storage, the only other write.
        stop = ftl.cont(Direction.BACKWARD)
        assert stop.reason == StopReason.WATCHPOINT and stop.icount < at
        assert int.from_bytes(ftl.read_memory(ptr, 8), "little") == 0
        ftl.step(1, Direction.FORWARD)
        assert int.from_bytes(ftl.read_memory(ptr, 8), "little") == fault.addr("storage")
        ftl.step(1, Direction.BACKWARD)
        assert ftl.cont(Direction.BACKWARD).reason == StopReason.HISTORY_START
    finally:
        ftl.remove_watchpoint(watch)
