"""The REPL on riscv64 traces (issue 12): tally.c cross-built with
riscv64-linux-gnu-gcc -g -O0 (static, and dynamic with /usr/riscv64-linux-gnu),
the motions test_repl_aarch64.py checks, with riscv64's faces: ABI register
names, `x/i` of compressed instructions, and frames unwound by the program's
.debug_frame (riscv64's gcc puts no FDE of the program in .eh_frame), through
leaf functions that never save ra, and through libc's CFI.  Skipped without
the cross compiler."""

from __future__ import annotations

import os
import re

import pytest
from crossarch import RISCV64_TOOLS, CrossBuild

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tally.c")


@pytest.fixture(scope="module")
def rv_tally(tmp_path_factory) -> dict[str, CrossBuild]:
    root = tmp_path_factory.mktemp("repl-rv")
    return {linking: RISCV64_TOOLS.build_and_record(SOURCE, root / f"tally-rv-{linking}", linking)
            for linking in ("static", "dynamic")}


@pytest.fixture(params=["static", "dynamic"])
def rv(request, rv_tally) -> CrossBuild:
    return rv_tally[request.param]


def test_break_step_finish_bt_registers(rv, make_repl):
    r = make_repl(rv)
    assert "Breakpoint 1 at" in r.execute("break main")
    out = r.execute("continue")
    assert "Breakpoint 1, main () at tally.c:22" in out
    assert r.execute("next").startswith("23\t")
    assert "bump () at tally.c:16" in r.execute("step")
    assert "square () at tally.c:10" in r.execute("step")
    # square is a leaf: its ra is never saved; the CFI (in .debug_frame) says so, and s0 is
    # the CFA, with bump's ra and s0 just below it
    bt = r.execute("bt")
    assert re.search(r"#0\s+square \(\) at tally.c:10", bt), bt
    assert re.search(r"#1\s+0x[0-9a-f]+ in bump \(\) at tally.c:16", bt), bt
    assert re.search(r"#2\s+0x[0-9a-f]+ in main \(\) at tally.c:23", bt), bt
    frame = r.execute("info frame")
    assert f"frame at {r.tl.read_register('fp'):#x}:" in frame, frame     # -O0: s0 is the CFA
    out = r.execute("finish")
    assert "Run till exit from #0  square ()" in out and "Value returned is $1 = 0" in out
    assert "17\t" in r.execute("next")
    assert r.execute("print i").endswith("= 0")          # a local at the CFA's offset
    regs = r.execute("info registers")
    names = [line.split()[0] for line in regs.splitlines()]
    assert names[:5] == ["zero", "ra", "sp", "gp", "tp"] and names[8:10] == ["fp", "s1"], names
    assert names[10:18] == [f"a{i}" for i in range(8)] and names[31:] == ["t6", "pc"], names
    assert re.search(r"^pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <bump\+\d+>$", regs, re.M), regs
    assert re.search(r"\$\d+ = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <bump\+\d+>$", r.execute("print $pc"))
    assert r.execute("print $sp").endswith(f"{r.tl.read_register('sp'):#x}")
    assert r.execute("print $fp").endswith(f"{r.tl.read_register('s0'):#x}")
    assert r.execute("info registers fcsr").split()[:2] == ["fcsr", "0x0"]
    insns = r.execute("x/3i $pc")
    assert insns.startswith("=> ") and re.search(r"\b(addi|lw|ld|sw|sd|c\.\w+)\b", insns), insns
    frame = r.execute("info frame")
    assert " pc = " in frame and " sp = " in frame and "fp = " in frame and "saved pc = " in frame, frame


def test_watch_and_reverse_motion(rv, make_repl):
    r = make_repl(rv)
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
    out = r.execute("reverse-finish")     # back to the call: a jal
    assert "Run back to call of #0  square ()" in out and "\tjal " in out.split("=> ")[1].splitlines()[0], out
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


def test_backtrace_from_a_callback_through_libc(rv, make_repl):
    r = make_repl(rv)
    r.execute("break by_value")
    assert "Breakpoint 1, by_value () at tally.c:19" in r.execute("continue")
    bt = r.execute("bt").splitlines()
    # qsort's merge sort calls back: by libc's CFI (.eh_frame) out to main
    assert "qsort" in bt[-2] and re.match(r"#\d+\s+0x[0-9a-f]+ in main \(\) at tally.c:24", bt[-1]), bt
    out = r.execute("finish")             # into libc, with the comparison's result
    assert "Run till exit from #0  by_value ()" in out and re.search(r"Value returned is \$1 = -?\d+", out), out
    r.execute("delete")
    out = r.execute("reverse-stepi")      # back into the callback, at its return
    assert "by_value" in out and re.search(r"=> 0x[0-9a-f]+ <by_value\+\d+>:\t(ret|c\.jr)\b", out), out
