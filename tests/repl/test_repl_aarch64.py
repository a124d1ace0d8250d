"""The REPL on aarch64 traces (issue 12): tally.c cross-built with
aarch64-linux-gnu-gcc -g -O0 (static, and dynamic with /usr/aarch64-linux-gnu),
the same motions as test_repl_commands.py checks on x86-64, plus the
aarch64 faces of `info registers`, `x/i` and `info frame`.  Skipped without
the cross compiler."""

from __future__ import annotations

import os
import re

import pytest
from crossarch import AARCH64_TOOLS, CrossBuild

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tally.c")


@pytest.fixture(scope="session")
def a64_tally(tmp_path_factory) -> dict[str, CrossBuild]:
    root = tmp_path_factory.mktemp("repl-a64")
    return {linking: AARCH64_TOOLS.build_and_record(SOURCE, root / f"tally-a64-{linking}", linking)
            for linking in ("static", "dynamic")}


@pytest.fixture(params=["static", "dynamic"])
def a64(request, a64_tally) -> CrossBuild:
    return a64_tally[request.param]


def test_break_step_finish_bt_registers(a64, make_repl):
    r = make_repl(a64)
    assert "Breakpoint 1 at" in r.execute("break main")
    out = r.execute("continue")
    assert "Breakpoint 1, main () at tally.c:22" in out
    assert r.execute("next").startswith("23\t")
    assert "bump () at tally.c:16" in r.execute("step")
    assert "square () at tally.c:10" in r.execute("step")
    bt = r.execute("bt")                  # by the CFI: the return addresses come from x30 and the frame records
    assert re.search(r"#0\s+square \(\) at tally.c:10", bt), bt
    assert re.search(r"#1\s+0x[0-9a-f]+ in bump \(\) at tally.c:16", bt), bt
    assert re.search(r"#2\s+0x[0-9a-f]+ in main \(\) at tally.c:23", bt), bt
    out = r.execute("finish")
    assert "Run till exit from #0  square ()" in out and "Value returned is $1 = 0" in out
    assert "17\t" in r.execute("next")
    regs = r.execute("info registers")
    names = [line.split()[0] for line in regs.splitlines()]
    assert names[:31] == [f"x{i}" for i in range(31)] and names[31:34] == ["sp", "pc", "cpsr"], names
    assert re.search(r"^pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <bump\+\d+>$", regs, re.M), regs
    assert re.search(r"^cpsr\s+0x[0-9a-f]+\s+\[ EL=0.*\]$", regs, re.M), regs
    assert re.search(r"\$\d+ = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <bump\+\d+>$", r.execute("print $pc"))
    assert r.execute("print $sp").endswith(f"{r.tl.read_register('sp'):#x}")
    assert r.execute("info registers fp").split()[0] == "x29"
    insns = r.execute("x/3i $pc")
    assert insns.startswith("=> ") and re.search(r"\b(ldr|ldrsw|add|adrp|str|mov)\b", insns), insns
    frame = r.execute("info frame")
    assert " pc = " in frame and " sp = " in frame and "x29 = " in frame, frame


def test_watch_and_reverse_motion(a64, make_repl):
    r = make_repl(a64)
    r.execute("break bump")
    r.execute("continue")
    assert r.execute("watch counter") == "Hardware watchpoint 2: counter"
    r.execute("delete 1")
    out = r.execute("continue")          # bump(0) writes 0 over 0: not a change
    assert "Old value = 0\nNew value = 1" in out and "tally.c:18" in out
    out = r.execute("reverse-continue")
    assert "Old value = 1\nNew value = 0" in out and "17\t    counter += values[i];" in out
    assert r.execute("print i").endswith("= 1")
    r.execute("delete")
    r.execute("break square")
    r.execute("continue")                 # square(2)
    assert r.execute("print x").endswith("= 2")
    out = r.execute("reverse-finish")     # back to the call: a bl
    assert "Run back to call of #0  square ()" in out and "\tbl " in out.split("=> ")[1].splitlines()[0], out
    assert "16\t" in out
    at_call = r.tl.position
    r.execute("delete")
    r.execute("nexti")                    # over the whole call to square
    assert r.tl.position > at_call + 3 and "bump" in r.execute("print $pc")
    r.execute("reverse-nexti")            # back over it in one step
    assert r.tl.position == at_call
    out = r.execute("reverse-step")       # from mid-line: back to the start of line 16
    assert out.startswith("16\t") and r.tl.pc == r.symbols.resolve("tally.c:16")
    here = r.tl.position
    r.execute("next")
    r.execute("reverse-next")
    assert r.tl.position == here
    out = r.execute("reverse-step")       # out of bump's body, back to the caller's line
    assert "main () at tally.c:23" in out, out
