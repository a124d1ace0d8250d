"""The interval timer and SIGALRM (tests/guests/alarms.c): alarm, setitimer,
getitimer, and SIGALRM delivered from outside the program, at a recorded
instruction count (ASYNC_SIGNAL), into a busy loop, a pause or a sleep, each
compared with a native run; and a timeline that seeks back and forth across
those deliveries."""

from __future__ import annotations

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run, dump_lines

from replay import Direction, EventKind, Replay, Timeline, open_trace, read_log

MODES = ["loop", "periodic", "pause", "sleep", "blocked", "values", "default", "waits", "signalfd"]


@pytest.mark.parametrize("mode", MODES)
def test_interval_timer(ttdbg: Ttdbg, guest, mode: str) -> None:
    program = guest("alarms", "static")
    native = ttdbg.native(program, mode)
    trace, rec, rep = ttdbg.record_replay(program, mode)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    assert "warning" not in rec.err, rec.err
    if mode == "default":
        assert rec.status == 142
    if mode in ("loop", "periodic", "default"):
        # Delivered into running code: one ASYNC_SIGNAL event per delivery.
        asyncs = [line for line in dump_lines(ttdbg, trace) if "ASYNC_SIGNAL SIGALRM" in line]
        assert len(asyncs) >= (5 if mode == "periodic" else 1), asyncs


def test_interval_timer_with_musl(ttdbg: Ttdbg, guest) -> None:
    program = guest("alarms", "musl")
    for mode in ("loop", "sleep"):
        native = ttdbg.native(program, mode)
        trace, rec, rep = ttdbg.record_replay(program, mode)
        assert_same_run(rec, native, "record vs native")
        assert_same_run(rep, rec, "replay vs record")


def test_time_travel_across_async_signals(ttdbg: Ttdbg, guest) -> None:
    program = guest("alarms", "static")
    trace, rec = ttdbg.record(program, "periodic")
    assert rec.status == 0, rec.err
    events = read_log(open_trace(trace).log_path).events
    at = [e.icount for e in events if e.kind == EventKind.ASYNC_SIGNAL]
    assert len(at) >= 5
    tl = Timeline(Replay(open_trace(trace)), interval=1 << 21)
    states = {}
    for icount in (at[1] - 3, at[1] + 3, at[3] + 1):
        tl.seek(icount)
        states[icount] = (tl.read_register("rip"), tl.read_register("rsp"))
    end = tl.cont()
    assert tl.at_end, end
    # Back across the deliveries: the same states as on the way forward.
    for icount in (at[3] + 1, at[1] + 3, at[1] - 3):
        tl.seek(icount)
        assert (tl.read_register("rip"), tl.read_register("rsp")) == states[icount], icount
    tl.step(10, Direction.BACKWARD)
    assert tl.position < at[1] - 3
