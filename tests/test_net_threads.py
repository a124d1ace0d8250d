"""Sockets, poll, epoll and the interval timer with threads and processes
(tests/guests/net_threads.c): a thread blocked in recv, accept (TCP on the
loopback), poll (without and with a timeout) or epoll_wait lets the others run
(they make it ready); SIGALRM goes to a thread that does not
block it; a wait4 while every task waits is cut by SIGALRM.  Each mode runs
natively, recorded (same output and status) and replayed (same as recorded)."""

from __future__ import annotations

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run, dump_lines


@pytest.mark.parametrize("mode", ["recv", "accept", "poll", "polltimeout", "epoll", "alarm", "wait"])
def test_net_with_threads(ttdbg: Ttdbg, guest, mode: str) -> None:
    program = guest("net_threads", "static")
    native = ttdbg.native(program, mode)
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program, mode)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    assert "warning" not in rec.err, rec.err
    lines = dump_lines(ttdbg, trace)
    assert any("TASK_SWITCH" in line for line in lines)
    # A blocked call is made again only when its files are ready (-513: it had to wait).
    assert sum("result=-513" in line for line in lines) <= 4, lines
    if mode in ("alarm", "wait"):
        assert any("ASYNC_SIGNAL SIGALRM" in line for line in lines), lines
