"""POSIX timers and rt_sigsuspend (tests/guests/posix_timers.c): timer_create
and its family on CLOCK_MONOTONIC and CLOCK_REALTIME, SIGEV_SIGNAL,
SIGEV_THREAD_ID and SIGEV_NONE, their signals delivered from outside the
program at recorded instruction counts (ASYNC_SIGNAL); sigsuspend's mask
during the wait and after it; bad arguments.  Each compared with a native run;
and timeout(1), which uses both."""

from __future__ import annotations

import shutil

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run, dump_lines

MODES = ["loop", "periodic", "thread", "suspend", "pending", "abstime", "values", "default"]


@pytest.mark.parametrize("mode", MODES)
def test_posix_timer(ttdbg: Ttdbg, guest, mode: str) -> None:
    program = guest("posix_timers", "static")
    native = ttdbg.native(program, mode)
    trace, rec, rep = ttdbg.record_replay(program, mode)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    assert "warning" not in rec.err, rec.err
    if mode == "default":
        assert rec.status == 138
    if mode in ("loop", "periodic", "thread", "default"):
        # Delivered into running code: one ASYNC_SIGNAL event per delivery.
        asyncs = [line for line in dump_lines(ttdbg, trace) if "ASYNC_SIGNAL" in line]
        assert len(asyncs) >= (4 if mode == "periodic" else 1), asyncs


def test_posix_timer_with_musl(ttdbg: Ttdbg, guest) -> None:
    program = guest("posix_timers", "musl")
    for mode in ("loop", "suspend"):
        native = ttdbg.native(program, mode)
        trace, rec, rep = ttdbg.record_replay(program, mode)
        assert_same_run(rec, native, "record vs native")
        assert_same_run(rep, rec, "replay vs record")


@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils' timeout")
@pytest.mark.parametrize("args, status", [(["5", "true"], 0), (["0.2", "sleep", "5"], 124)])
def test_coreutils_timeout(ttdbg: Ttdbg, args: list[str], status: int) -> None:
    # timeout(1): timer_create + sigsuspend, then SIGCHLD or the timer's SIGALRM.
    trace, rec, rep = ttdbg.record_replay(shutil.which("timeout"), *args)
    assert rec.status == status, rec.err
    assert "warning" not in rec.err, rec.err
    assert_same_run(rep, rec, "replay vs record")
