"""riscv64 traces debugged from a real gdb-multiarch (issue 12), as test_gdb_aarch64.py does aarch64.

The guests are cross-built (riscv64-linux-gnu-gcc -g -O0, static and dynamic
PIE, run with the sysroot /usr/riscv64-linux-gnu), recorded with ttdbg and
served by `ttdbg serve`.  The references, all independent of ttdbg:

- the same binary under `qemu-riscv64 -g PORT` with the same gdb-multiarch,
  for every forward motion (stepi, step, next, finish, a watchpoint);
- gdb-multiarch 13.1 has no process record for riscv ("Process record: the
  current architecture doesn't support record function."), so the reverse
  motions are compared with gdb's own `record full` on the x86-64 build of the
  same source (the lines and functions, which -O0 keeps the same), and where a
  reverse motion lands at the start of a line, with the pc where forward
  stepping on qemu enters that line;
- qemu-riscv64 7.2's user-mode stub has no hardware watchpoints, so forward
  watchpoint stops are compared with gdb's software watchpoint on qemu.

Skipped without gdb-multiarch, qemu-riscv64 or the cross compiler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from crossarch import RISCV64_TOOLS
from crossgdb import (
    GDB_MULTIARCH,
    CrossGdb,
    check_backtrace_through_a_signal_frame,
    check_ttdbg_replay_runs_gdb_multiarch,
)
from gdbtest_support import LINKINGS, Guest, source_line, steps, where

from replay.arch import RISCV64

CROSS = CrossGdb(RISCV64_TOOLS, "rv")
CROSS.require()
N_STEPS = 60


@pytest.fixture(scope="module")
def rv_guest(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Guest]:
    return CROSS.recorder(tmp_path_factory.mktemp("rv-gdb-guests"))


@pytest.fixture
def rv(rv_guest, serve, gdb):
    """(guest, gdb-multiarch connected to `ttdbg serve` of its trace, at instruction 0)."""
    return CROSS.served(rv_guest, serve, gdb)


@pytest.fixture
def qemu(rv_guest, gdb, tmp_path: Path):
    """(guest, gdb-multiarch connected to qemu-riscv64 -g running it, stopped at main)."""
    with CROSS.under_qemu(rv_guest, gdb, tmp_path) as make:
        yield make


def test_target_description_is_riscv64(rv_guest, serve, gdb, qemu):
    guest = rv_guest("basic")
    server = serve(guest.trace, "--once")
    assert f"connect with: gdb-multiarch {guest.binary}" in server.stderr
    g = gdb(guest.binary, gdb_path=GDB_MULTIARCH)
    g.connect(server.address)
    assert "riscv:rv64" in g.ok("show architecture").text
    regs = g.ok("-data-list-register-names").payload["register-names"]
    assert regs[:3] == ["zero", "ra", "sp"] and regs[8] == "fp" and regs[31:34] == ["t6", "pc", "ft0"]
    text = g.ok("info registers pc sp").text
    assert re.search(r"pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <_start>", text), text
    assert g.when() == 0
    g.ok("break main")
    g.ok("continue")
    _, q = qemu("basic")
    # gdb's numbering as qemu-riscv64's (which adds the cycle, time and instret CSRs and priv)
    theirs = q.ok("-data-list-register-names").payload["register-names"]
    assert regs[:69] == theirs[:69] and regs[64:69] == ["ft11", "", "fflags", "frm", "fcsr"]
    assert set(theirs) - set(regs) == {"cycle", "time", "instret", "priv"}
    fp_csrs = "info registers fflags frm fcsr"
    assert g.ok(fp_csrs).text == q.ok(fp_csrs).text
    assert "FRM:0 [RNE (round to nearest; ties to even)]" in g.ok(fp_csrs).text
    # gdb's own riscv architecture traps watchpoints before the access and steps over them
    # itself (gdbarch's have_nonsteppable_watchpoint): RISCV64_DEBUG must say the same
    arch = g.ok("maint print architecture").text
    assert "have_nonsteppable_watchpoint = 1" in arch
    assert RISCV64.debug.gdb_steps_over_watchpoints


@pytest.mark.parametrize("linking", LINKINGS)
def test_forward_stepi_from_main_matches_qemu(rv, qemu, linking):
    guest, g = rv("basic", linking)
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


def _walk(g, commands) -> list[tuple[str, str | None, int | None, str | None, str]]:
    """(command, function, line, reason, where) after each command."""
    return [(c, s.func, s.line, s.reason, where(g)) for c, s in ((c, g.ok(c)) for c in commands)]


def _lines(walk):
    return [w[:4] for w in walk]


def _line_starts(walk) -> dict[tuple[str, int], set[str]]:
    """Where forward stepping entered each (function, line)."""
    starts: dict[tuple[str, int], set[str]] = {}
    for c, f, line, _, at in walk:
        if c != "finish" and line:
            starts.setdefault((f, line), set()).add(at)
    return starts


def _reverse_walk(g, commands) -> tuple[list, list[str]]:
    """_walk, and the reverse motions that did not stop where a line (one of its ranges) starts."""
    walk, mid_line = [], []
    for c in commands:
        walk.extend(_walk(g, [c]))
        m = re.search(r"starts at address 0x[0-9a-f]+ <([^>]+)>", g.ok("info line *$pc").text)
        if m is None or m.group(1) != walk[-1][4]:
            mid_line.append(c)
    return walk, mid_line


@pytest.mark.parametrize("linking", LINKINGS)
def test_reverse_motions_land_where_record_full_does(rv, qemu, native, linking):
    guest, g = rv("basic", linking)
    g.ok("break main")
    g.ok("continue")
    forward = _walk(g, FORWARD)
    reverse, mid_line = _reverse_walk(g, REVERSE)
    _, q = qemu("basic", linking)
    assert forward == _walk(q, FORWARD)                 # every forward motion, to the instruction
    _, x86 = native("basic", linking)                   # gdb's record full, on the x86-64 build
    assert (_lines(forward), _lines(reverse)) == (_lines(_walk(x86, FORWARD)), _lines(_walk(x86, REVERSE)))
    # reverse-step and reverse-next stop where a line (or one of its ranges) starts,
    # reverse-finish at the call instruction, mid-line
    assert mid_line == ["reverse-finish", "reverse-finish"]
    for at in (at for c, *_, at in reverse if c == "reverse-finish"):
        assert re.search(rf"<{re.escape(at)}>:\s+jal\s", g.ok(f"x/i {at}").text)
    assert {"main", "accumulate", "square"} <= {f for _, f, _, _, _ in reverse}


def test_reverse_steps_retrace_forward_steps(rv, qemu, native):
    guest, g = rv("basic")
    g.ok("break main")
    start = g.ok("continue")
    n = 13                                              # main -> accumulate -> square, twice, and back
    forward = [("step", start.func, start.line, start.reason, where(g)), *_walk(g, ["step"] * n)]
    _, q = qemu("basic")
    assert forward[1:] == _walk(q, ["step"] * n)
    reverse = _walk(g, ["reverse-step"] * (n - 1))    # one fewer: see below
    _, x86 = native("basic")                            # gdb's record full on x86-64, from main
    assert _lines(forward[1:]) == _lines(_walk(x86, ["step"] * n))
    # The same lines back as on x86-64: gdb 13 steps back from the first line 22 to line 20,
    # past the first range of the `for` line (which forward stepping stopped in), there too.
    assert [w[1:3] for w in reverse] == [w[1:3] for w in _walk(x86, ["reverse-step"] * (n - 1))]
    assert reverse[-1][1:3] == ("main", source_line(guest, "long a = accumulate(5);"))
    # each at the instruction where stepping forward on qemu entered that line
    starts = _line_starts(forward)
    assert all(at in starts[f, line] for _, f, line, _, at in reverse), (forward, reverse)


@pytest.mark.parametrize("linking", LINKINGS)
def test_watchpoints_both_ways_stop_where_gdb_reports_them_on_x86(rv, qemu, linking):
    guest, g = rv("basic", linking)
    g.ok("break report")
    g.ok("continue")
    g.ok("delete")
    g.ok("watch counter")
    stop = g.ok("continue")                         # counter = c & 0xff;
    assert stop.reason == "watchpoint-trigger", g.dump()
    assert stop.stopped["value"] == {"old": "6", "new": "162"}
    # just after the store, as on x86-64: the next line's first instruction
    assert (stop.func, stop.line) == ("main", source_line(guest, "return 7;"))
    forward = (stop.func, stop.line, stop.stopped["value"], where(g))
    _, q = qemu("basic", linking)                   # qemu-riscv64 -g: software watchpoints only
    q.ok("break report")
    q.ok("continue")
    q.ok("delete")
    q.ok("set can-use-hw-watchpoints 0")
    q.ok("watch counter")
    theirs = q.ok("continue")
    assert forward == (theirs.func, theirs.line, theirs.stopped["value"], where(q))
    after = g.when()
    stop = g.ok("reverse-continue")
    assert stop.reason == "watchpoint-trigger" and stop.stopped["value"] == {"old": "162", "new": "6"}
    assert (stop.func, stop.line) == ("main", source_line(guest, "counter = c & 0xff;"))
    assert g.when() == after - 1, "reverse: just before the store"
    assert re.search(r"=> 0x[0-9a-f]+ <main\+\d+>:\s+sd\s", g.ok("x/i $pc").text)
    stop = g.ok("reverse-continue")                  # counter += 1 in square (the 6th call)
    assert stop.reason == "watchpoint-trigger" and stop.stopped["value"] == {"old": "6", "new": "5"}
    assert stop.func == "square" and g.eval("x") == "30"
    assert re.search(r"=> 0x[0-9a-f]+ <square\+\d+>:\s+sd\s", g.ok("x/i $pc").text)
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


def _instructions(g, function: str) -> list[tuple[int, int]]:
    """(address, size) of each instruction of `function` (gdb's disassembly)."""
    text = g.ok(f"disassemble {function}").text
    addrs = [int(a, 16) for a in re.findall(r"^(?:=> )?\s*(0x[0-9a-f]+) <", text, re.M)]
    return [(a, b - a) for a, b in zip(addrs, addrs[1:])]


def _z0_kinds(text: str) -> dict[int, int]:
    return {int(a, 16): int(k) for a, k in re.findall(r"\$Z0,([0-9a-f]+),(\d)#", text)}


def test_breakpoints_on_compressed_and_full_instructions(rv):
    # gdb-multiarch inserts a 2-byte c.ebreak (Z0 kind 2) where an RVC instruction is, or
    # where the address is not 4-aligned, else a 4-byte ebreak (kind 4); `set riscv
    # use-compressed-breakpoints off` makes them all kind 4.  Every kind must stop there.
    guest, g = rv("basic")
    code = _instructions(g, "square") + _instructions(g, "accumulate")   # all run (square 6 times)
    short = next(a for a, n in code if n == 2)
    full = next(a for a, n in code if n == 4 and a % 4 == 0)
    unaligned = next(a for a, n in code if n == 4 and a % 4 == 2)
    points = {short: 2, full: 4, unaligned: 2}
    for compressed in ("auto", "on", "off"):
        g.ok(f"set riscv use-compressed-breakpoints {compressed}")
        g.ok("set debug remote 1")
        text = "".join(g.ok(f"break *{a:#x}").text for a in points)
        hits = []
        for _ in range(len(points)):
            stop = g.ok("continue")
            text += stop.text
            assert stop.reason == "breakpoint-hit", g.dump(12)
            hits.append(g.pc())
        back = g.ok("reverse-continue")
        text += back.text
        g.ok("set debug remote 0")
        assert back.reason == "breakpoint-hit" and g.pc() == hits[-2], g.dump(12)
        assert sorted(hits) == sorted(points)
        wanted = {"auto": points, "on": dict.fromkeys(points, 2), "off": dict.fromkeys(points, 4)}[compressed]
        assert {a: k for a, k in _z0_kinds(text).items() if a in points} == wanted
        g.ok("delete")


_FRAME = re.compile(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(", re.M)


def _bt(g) -> tuple[list[tuple[str, str]], str | None]:
    """The backtrace's (level, function) rows, and how it ended ("PC not saved", None)."""
    reply = g.cmd("bt")
    return _FRAME.findall(reply.text), reply.error


@pytest.mark.parametrize("linking", LINKINGS)
def test_breakpoints_backtrace_and_libraries(rv, qemu, linking):
    guest, g = rv("basic", linking)
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
        assert "libc.so.6" in libs and "ld-linux-riscv64-lp64d.so.1" in libs, libs
    assert "printf" in g.ok("info symbol printf").text
    # inside libc (printf's buffer, then exit's flush): unwound by its DWARF CFI as gdb does on qemu
    _, q = qemu("basic", linking)
    q.ok("break report")
    q.ok("continue")
    for function in ("_IO_file_xsputn", "write"):
        for d in (g, q):
            d.ok("delete")
            d.ok(f"break {function}")
            assert d.ok("continue").reason == "breakpoint-hit", d.dump(12)
        ours = _bt(g)
        assert ours == _bt(q)
        if linking == "static":             # (in the dynamic libc, gdb stops at its first ?? frame)
            frames = [f for _, f in ours[0]]
            assert frames[-3:] == (["printf", "report", "main"] if function != "write"
                                   else ["_IO_cleanup", "__run_exit_handlers", "exit"]), ours
    g.ok("delete")
    stop = g.ok("continue")
    assert "No more reverse-execution history." in stop.text, g.dump(12)
    assert g.ok("monitor exit")
    stop = g.ok("continue")
    assert stop.reason == "exited" and stop.stopped["exit-code"] == "07", g.dump()


def test_ttdbg_replay_runs_gdb_multiarch_with_the_traces_libraries(rv_guest, tmp_path):
    check_ttdbg_replay_runs_gdb_multiarch(rv_guest("basic", "dynamic"), tmp_path)


def test_backtrace_through_a_signal_frame(rv):
    guest, g = rv("signals")
    check_backtrace_through_a_signal_frame(g)       # through the [vdso] trampoline (li a7,139; ecall)
