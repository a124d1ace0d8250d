"""aarch64 traces debugged from a real gdb-multiarch (issue 12).

The guests are cross-built (aarch64-linux-gnu-gcc -g -O0, static and dynamic
PIE, run with the sysroot /usr/aarch64-linux-gnu), recorded with ttdbg and
served by `ttdbg serve`.  The reference is the same binary under
`qemu-aarch64 -g PORT` with the same gdb-multiarch: its forward single steps
from main, and its own `record full` for the reverse motions (as the x86-64
tier compares with a native run under `record full`).  Skipped without
gdb-multiarch, qemu-aarch64 or the cross compiler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from crossarch import AARCH64_TOOLS
from crossgdb import (
    GDB_MULTIARCH,
    CrossGdb,
    check_backtrace_through_a_signal_frame,
    check_ttdbg_replay_runs_gdb_multiarch,
)
from gdbtest_support import LINKINGS, Guest, source_line, steps, where

CROSS = CrossGdb(AARCH64_TOOLS, "a64")
CROSS.require()
N_STEPS = 60


@pytest.fixture(scope="session")
def a64_guest(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Guest]:
    return CROSS.recorder(tmp_path_factory.mktemp("a64-gdb-guests"))


@pytest.fixture
def a64(a64_guest, serve, gdb):
    """(guest, gdb-multiarch connected to `ttdbg serve` of its trace, at instruction 0)."""
    return CROSS.served(a64_guest, serve, gdb)


@pytest.fixture
def qemu(a64_guest, gdb, tmp_path: Path):
    """(guest, gdb-multiarch connected to qemu-aarch64 -g running it, stopped at main)."""
    with CROSS.under_qemu(a64_guest, gdb, tmp_path) as make:
        yield make


def test_target_description_is_aarch64(a64_guest, serve, gdb):
    guest = a64_guest("basic")
    server = serve(guest.trace, "--once")
    assert f"connect with: gdb-multiarch {guest.binary}" in server.stderr
    g = gdb(guest.binary, gdb_path=GDB_MULTIARCH)
    g.connect(server.address)
    assert "aarch64" in g.ok("show architecture").text
    regs = g.ok("-data-list-register-names").payload["register-names"]
    assert regs[:3] == ["x0", "x1", "x2"] and regs[31:34] == ["sp", "pc", "cpsr"]
    assert regs[34] == "v0" and regs[65] == "v31" and regs[66:68] == ["fpsr", "fpcr"]
    text = g.ok("info registers pc sp cpsr").text
    assert re.search(r"pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <_start>", text), text
    assert "EL=0" in text
    assert g.when() == 0


@pytest.mark.parametrize("linking", LINKINGS)
def test_forward_stepi_from_main_matches_qemu(a64, qemu, linking):
    guest, g = a64("basic", linking)
    g.ok("break main")
    assert g.ok("continue").reason == "breakpoint-hit"
    ours = steps(g, N_STEPS)
    _, q = qemu("basic", linking)
    theirs = steps(q, N_STEPS)
    assert ours == theirs
    assert {"accumulate", "square"} <= {w.split("+")[0] for w in ours}
    # and back over the same ground, one instruction at a time
    start = g.when()
    for expected in reversed(ours[:-1]):
        g.ok("reverse-stepi")
        assert where(g) == expected, g.dump(12)
    assert g.when() == start - N_STEPS


FORWARD = ["step", "next", "next", "step", "next", "next", "next", "next", "finish", "next", "step", "next"]
REVERSE = ["reverse-next", "reverse-step", "reverse-step", "reverse-next", "reverse-next", "reverse-step",
           "reverse-step", "reverse-finish", "reverse-next", "reverse-step", "reverse-next", "reverse-finish"]


def _walk(g, commands):
    return [(c, s.func, s.line, s.reason) for c, s in ((c, g.ok(c)) for c in commands)]


@pytest.mark.parametrize("linking", LINKINGS)
def test_reverse_motions_land_where_record_full_on_qemu_does(a64, qemu, linking):
    guest, g = a64("basic", linking)
    g.ok("break main")
    g.ok("continue")
    ours = _walk(g, FORWARD), _walk(g, REVERSE)
    _, q = qemu("basic", linking)
    q.ok("record full")
    theirs = _walk(q, FORWARD), _walk(q, REVERSE)
    assert ours == theirs
    assert {"main", "accumulate", "square"} <= {f for _, f, _, _ in ours[1]}


@pytest.mark.parametrize("linking", LINKINGS)
def test_watchpoints_both_ways_stop_where_gdb_reports_them_on_x86(a64, linking):
    guest, g = a64("basic", linking)
    g.ok("break report")
    g.ok("continue")
    g.ok("delete")
    g.ok("watch counter")
    stop = g.ok("continue")                         # counter = c & 0xff;
    assert stop.reason == "watchpoint-trigger", g.dump()
    assert stop.stopped["value"] == {"old": "6", "new": "162"}
    # just after the store, as on x86-64: the next line's first instruction
    assert (stop.func, stop.line) == ("main", source_line(guest, "return 7;"))
    after = g.when()
    stop = g.ok("reverse-continue")
    assert stop.reason == "watchpoint-trigger" and stop.stopped["value"] == {"old": "162", "new": "6"}
    assert (stop.func, stop.line) == ("main", source_line(guest, "counter = c & 0xff;"))
    assert g.when() == after - 1, "reverse: just before the store"
    assert "str" in g.ok("x/i $pc").text
    stop = g.ok("reverse-continue")                  # counter += 1 in square (the 6th call)
    assert stop.reason == "watchpoint-trigger" and stop.stopped["value"] == {"old": "6", "new": "5"}
    assert stop.func == "square" and g.eval("x") == "30"
    g.ok("delete")
    g.ok("rwatch history[2]")
    stop = g.ok("reverse-continue")                 # no read of history[] before: to the start
    assert "No more reverse-execution history." in stop.text, g.dump(12)
    g.ok("delete")
    g.ok("break accumulate")
    g.ok("continue")
    g.ok("delete")
    g.ok("watch history[2]")
    stop = g.ok("continue")
    assert stop.reason == "watchpoint-trigger" and stop.stopped["value"]["new"] == "5"
    assert (stop.func, stop.line) == ("accumulate", source_line(guest, "for (long i = 0; i < n; i++)"))


@pytest.mark.parametrize("linking", LINKINGS)
def test_breakpoints_backtrace_and_libraries(a64, linking):
    guest, g = a64("basic", linking)
    g.ok("break square if x == 3")
    stop = g.ok("continue")
    assert stop.reason == "breakpoint-hit" and g.eval("x") == "3"
    bt = g.ok("bt").text
    assert re.search(r"#0\s+square \(x=3\).*\n#1\s+0x[0-9a-f]+ in accumulate \(n=5\).*\n#2\s+0x[0-9a-f]+ in main",
                     bt), bt
    stop = g.ok("reverse-finish")
    assert (stop.func, stop.line) == ("accumulate", source_line(guest, "total += square(i);"))
    assert g.eval("i") == "3"
    g.ok("delete")
    g.ok("break report")
    g.ok("continue")
    if linking == "dynamic":                # libc's symbols came from the trace's captured files
        libs = g.ok("info sharedlibrary").text
        assert "libc.so.6" in libs and "ld-linux-aarch64.so.1" in libs, libs
    assert "printf" in g.ok("info symbol printf").text
    stop = g.ok("continue")
    assert "No more reverse-execution history." in stop.text, g.dump(12)
    assert g.ok("monitor exit")
    stop = g.ok("continue")
    assert stop.reason == "exited" and stop.stopped["exit-code"] == "07", g.dump()


def test_ttdbg_replay_runs_gdb_multiarch_with_the_traces_libraries(a64_guest, tmp_path):
    check_ttdbg_replay_runs_gdb_multiarch(a64_guest("basic", "dynamic"), tmp_path)


def test_backtrace_through_a_signal_frame(a64):
    guest, g = a64("signals")
    check_backtrace_through_a_signal_frame(g)       # through the [sigpage] trampoline (aarch64 Linux's)
