"""Reverse execution through a real gdb: stepi, next/step/finish (compared
with gdb's own `record full` on the same binary), continue to breakpoints
and to both ends of the history."""

from __future__ import annotations

import pytest
from gdbtest_support import LINKINGS, source_line

N_STEPS = 40


@pytest.mark.parametrize("linking", LINKINGS)
def test_reverse_stepi_retraces_forward_pcs(connected, linking):
    # QEMU tests/functional/reverse_debugging.py: stepi N times, then
    # reverse-stepi N times and meet the same PCs in reverse order.
    guest, server, g = connected("basic", linking)
    g.ok("break square")
    g.ok("continue")
    start = g.when()
    pcs = [g.pc()]
    for _ in range(N_STEPS):
        g.ok("stepi")
        pcs.append(g.pc())
    assert g.when() == start + N_STEPS
    assert len(set(pcs)) > 10, "the steps did not move"
    for expected in reversed(pcs[:-1]):
        stop = g.ok("reverse-stepi")
        assert stop.stopped is not None
        assert g.pc() == expected, g.dump()
    assert g.when() == start
    # and forward again over the same ground
    for expected in pcs[1:6]:
        g.ok("-exec-step-instruction")
        assert g.pc() == expected


FORWARD = ["step", "next", "next", "step", "next", "next", "next", "next", "finish",
           "next", "step", "next"]
REVERSE = ["reverse-next", "reverse-step", "reverse-step", "reverse-next", "reverse-next",
           "reverse-step", "reverse-step", "reverse-finish", "reverse-next", "reverse-step",
           "reverse-next", "reverse-finish"]


def _walk(g, commands):
    lines = []
    for command in commands:
        stop = g.ok(command)
        lines.append((command, stop.func, stop.line, stop.reason))
    return lines


@pytest.mark.parametrize("linking", LINKINGS)
def test_reverse_motions_land_where_record_full_does(connected, native, linking):
    guest, server, g = connected("basic", linking)
    g.ok("break main")
    g.ok("continue")
    ours_fwd = _walk(g, FORWARD)
    ours_rev = _walk(g, REVERSE)

    _, n = native("basic", linking)
    theirs_fwd = _walk(n, FORWARD)
    theirs_rev = _walk(n, REVERSE)

    assert ours_fwd == theirs_fwd
    assert ours_rev == theirs_rev
    # the walk really went into and back out of the callees
    funcs = {f for _, f, _, _ in ours_rev}
    assert {"main", "accumulate", "square"} <= funcs, ours_rev


def test_reverse_finish_returns_to_call_line(connected):
    guest, server, g = connected("basic", "static")
    g.ok("break square if x == 3")
    g.ok("continue")
    assert g.eval("x") == "3"
    g.ok("delete")
    stop = g.ok("reverse-finish")
    assert "Run back to call of #0  square (x=3)" in stop.text
    assert (stop.func, stop.line) == ("accumulate", source_line(guest, "total += square(i);"))
    assert g.eval("i") == "3"
    stop = g.ok("reverse-next")        # to the start of the call's line
    assert (stop.func, stop.line) == ("accumulate", source_line(guest, "total += square(i);"))
    stop = g.ok("reverse-next")
    assert stop.line == source_line(guest, "for (long i = 0; i < n; i++)")
    assert g.eval("total") == "5"


@pytest.mark.parametrize("linking", LINKINGS)
def test_reverse_continue_to_breakpoints_and_history_start(connected, linking):
    guest, server, g = connected("basic", linking)
    g.ok("break square")
    for x in range(3):
        stop = g.ok("continue")
        assert stop.reason == "breakpoint-hit"
        assert g.eval("x") == str(x)
    for x in (1, 0):
        stop = g.ok("reverse-continue")
        assert stop.reason == "breakpoint-hit", g.dump()
        assert stop.func == "square"
        assert g.eval("x") == str(x)
        assert stop.line == source_line(guest, "long y = x * x;")
    stop = g.ok("reverse-continue")
    # (gdb puts reason="no-history" in *stopped only for MI commands; the CLI prints it)
    assert "No more reverse-execution history." in stop.text, g.dump()
    assert stop.func == "_start"
    assert g.when() == 0
    stop = g.ok("-exec-step-instruction --reverse")
    assert "No more reverse-execution history." in stop.text, g.dump(12)
    assert g.when() == 0
    # forward again from the very beginning
    stop = g.ok("continue")
    assert stop.reason == "breakpoint-hit" and g.eval("x") == "0"


@pytest.mark.parametrize("linking", LINKINGS)
def test_continue_at_end_of_history_then_exit(connected, linking):
    guest, server, g = connected("basic", linking)
    stop = g.ok("continue")
    total = g.when()
    # replaylog:end: gdb says so (MI gives no reason field for it) and stops in _exit
    assert "No more reverse-execution history." in stop.text, g.dump()
    assert stop.func.endswith("_exit"), stop.func
    # still debuggable at the end: go back a little and come again
    g.ok("reverse-stepi")
    assert g.when() == total - 1
    stop = g.ok("-exec-continue")
    assert "No more reverse-execution history." in stop.text, g.dump(12)
    assert g.when() == total
    # further continues stay at the end, as `record full` replay does at the end
    # of its log, so gdb keeps the process and can still go back
    for command in ("continue", "continue", "stepi"):
        stop = g.ok(command)
        assert "No more reverse-execution history." in stop.text, g.dump(12)
        assert g.when() == total
    g.ok("reverse-stepi")
    assert g.when() == total - 1
    g.ok("continue")
    # `monitor exit`: the next continue at the end reports the recorded exit
    assert "report" in g.ok("monitor exit").text
    stop = g.ok("continue")
    assert stop.reason == "exited", g.dump()
    assert stop.stopped["exit-code"] == "07"
    assert "exited with code 07" in stop.text


def test_continue_into_recorded_crash_then_termination(connected):
    guest, server, g = connected("segv", "static")
    stop = g.ok("continue")
    assert stop.reason == "signal-received" and stop.stopped["signal-name"] == "SIGSEGV", g.dump()
    assert (stop.func, stop.line) == ("use", source_line(guest, "/* faults */"))
    total = g.when()
    g.ok("reverse-stepi")
    assert g.when() == total - 1
    stop = g.ok("continue")
    assert stop.stopped.get("signal-name") == "SIGSEGV", g.dump()
    assert g.when() == total
    stop = g.ok("continue")
    assert "No more reverse-execution history." in stop.text, g.dump(12)
    g.ok("monitor exit")
    stop = g.ok("continue")
    assert stop.reason == "exited-signalled", g.dump()
    assert stop.stopped["signal-name"] == "SIGSEGV"
    assert "terminated with signal SIGSEGV" in stop.text
