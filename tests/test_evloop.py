"""Event loops (tests/guests/evloop.c): eventfd, timerfd and epoll over the
guest's own files and host sockets, each compared with a native run, and a
replay that waits for nothing (timers expire at the recorded clock reads)."""

from __future__ import annotations

import time

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run


@pytest.mark.parametrize("mode", ["eventfd", "epoll", "timerfd"])
def test_event_loop_calls(ttdbg: Ttdbg, guest, flavour: str, mode: str) -> None:
    program = guest("evloop", flavour)
    native = ttdbg.native(program, mode)
    assert native.status == 0, native.out
    trace, rec = ttdbg.record(program, mode)
    assert_same_run(rec, native, "record vs native")
    started = time.monotonic()
    rep = ttdbg.replay(trace)
    assert_same_run(rep, rec, "replay vs record")
    if mode == "epoll":
        assert "timer armed (30 ms): 1 [data=4" in rec.out and "waited >= 50 ms: 1" in rec.out, rec.out
    assert time.monotonic() - started < 30
