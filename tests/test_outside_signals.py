"""Signals another host process sends `ttdbg record` (SIGTERM, SIGHUP, SIGUSR1,
SIGUSR2: tests/guests/outside_signals.c) are forwarded to the program, recorded
at the instruction count where they were delivered (an ASYNC_SIGNAL event
"sent from outside") and delivered there again on replay: into a busy loop,
pause, sigsuspend and poll (EINTR), ignored, or by default action ending the
program.  Each compared with a native run signalled the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from harness import Run, Ttdbg
from test_record_replay import assert_same_run, dump_lines

CASES = [
    ("loop", [signal.SIGUSR1]),
    ("pause", [signal.SIGTERM]),
    ("suspend", [signal.SIGHUP]),
    ("poll", [signal.SIGUSR2]),
    ("default", [signal.SIGTERM]),
    ("ignored", [signal.SIGUSR1, signal.SIGUSR2]),
]


def _signalled(argv: list[str], ttdbg: Ttdbg, signals: list[int]) -> Run:
    """Run argv; once it printed its first line, send it `signals` one by one."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ttdbg.env, cwd=ttdbg.workdir)
    try:
        first = proc.stdout.readline()          # type: ignore[union-attr]
        assert first == b"ready\n", (first, proc.stderr.read())   # type: ignore[union-attr]
        for signum in signals:
            time.sleep(0.2)
            os.kill(proc.pid, signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    status = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    return Run(status, first + out, err)


@pytest.mark.parametrize("mode, signals", CASES, ids=[c[0] for c in CASES])
def test_signal_from_outside(ttdbg: Ttdbg, guest, mode: str, signals: list[int]) -> None:
    program = guest("outside_signals", "static")
    native = _signalled([str(program), mode], ttdbg, signals)
    trace = ttdbg.new_trace()
    rec = _signalled(ttdbg.argv("record", "-q", "-o", trace, program, mode), ttdbg, signals)
    assert_same_run(rec, native, "record vs native")
    assert "warning" not in rec.err, rec.err
    rep = ttdbg.replay(trace)
    assert_same_run(rep, rec, "replay vs record")
    outside = [line for line in dump_lines(ttdbg, trace) if "sent from outside" in line]
    assert len(outside) == len(signals), outside
    if mode == "default":
        assert rec.status == 143


def test_time_travel_across_a_signal_from_outside(ttdbg: Ttdbg, guest) -> None:
    from replay import EventKind, Replay, Timeline, open_trace, read_log

    program = guest("outside_signals", "static")
    trace = ttdbg.new_trace()
    rec = _signalled(ttdbg.argv("record", "-q", "-o", trace, program, "loop"), ttdbg, [signal.SIGUSR1])
    assert rec.status == 0, rec.err
    at = [e.icount for e in read_log(open_trace(trace).log_path).events if e.kind == EventKind.ASYNC_SIGNAL]
    assert len(at) == 1
    tl = Timeline(Replay(open_trace(trace)), interval=1 << 20)
    states = {}
    for icount in (at[0] - 2, at[0] + 2):
        tl.seek(icount)
        states[icount] = (tl.read_register("rip"), tl.read_register("rsp"))
    tl.cont()
    assert tl.at_end
    for icount in (at[0] + 2, at[0] - 2):
        tl.seek(icount)
        assert (tl.read_register("rip"), tl.read_register("rsp")) == states[icount], icount
    assert states[at[0] - 2] != states[at[0] + 2]       # into the handler: another stack
