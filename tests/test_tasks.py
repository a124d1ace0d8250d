"""Threads recorded and replayed (issue 9): pthreads, raw futexes, TLS, deadlock.

Each guest (tests/guests/threads_*.c) runs natively and under `ttdbg record`
(output and status equal), then `ttdbg replay -a` (equal to the recording).
"""

from __future__ import annotations

import re

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run, dump_lines, parse_dump

THREADED = {
    "threads_condvar": [],      # 4 pthreads, a mutex and a condition variable, joins
    "threads_prodcons": [],     # raw FUTEX_WAIT/FUTEX_WAKE producer/consumer
    "threads_tls": [],          # __thread variables, gettid, sched_yield
    "threads_misc": [],         # clone flags, CLEARTID, futex ops (bitset, requeue, wake-op, timeouts), tgkill
    "procs_fork": [],           # fork, wait4/waitid, pipes, vfork, SIGCHLD, kill, a zombie reaped late
    "procs_exec": [],           # fork+exec+wait chain, a pipeline of /bin/echo and /usr/bin/tr, vfork+exec
}


@pytest.mark.parametrize("case", sorted(THREADED))
def test_threads_record_like_native_and_replay_like_record(ttdbg: Ttdbg, guest, flavour: str, case: str) -> None:
    program = guest(case, flavour)
    native = ttdbg.native(program, *THREADED[case])
    trace, rec, rep = ttdbg.record_replay(program, *THREADED[case])
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    kinds = [kind for _, _, kind in parse_dump(dump_lines(ttdbg, trace))]
    assert "TASK_SWITCH" in kinds


def test_deadlock_ends_the_recording_with_one_line_and_replays(ttdbg: Ttdbg, guest) -> None:
    program = guest("threads_deadlock", "static")
    trace, rec = ttdbg.record(program)
    lines = [ln for ln in rec.err.splitlines() if "deadlock:" in ln]
    assert len(lines) == 1, rec.err
    assert lines[0].startswith("ttdbg: ")
    assert len(re.findall(r"thread \d+ waits on futex 0x[0-9a-f]+", lines[0])) == 2, lines[0]
    assert "Traceback" not in rec.err
    assert rec.status != 0
    rep = ttdbg("replay", "-a", trace)
    assert rep.stdout == rec.stdout == b"before the deadlock\n"
    assert "ended by a deadlock of its threads" in rep.err
    assert "Traceback" not in rep.err


def test_a_shell_pipeline_records_like_native(ttdbg: Ttdbg) -> None:
    args = ("-c", "echo a | tr a b; echo $?; exit 3")
    native = ttdbg.native("/bin/sh", *args)
    trace, rec, rep = ttdbg.record_replay("/bin/sh", *args)
    assert native.stdout == b"b\n0\n" and native.status == 3
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
