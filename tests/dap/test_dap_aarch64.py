"""`ttdbg dap` on an aarch64 trace (issue 12): doubling.c cross-built with
aarch64-linux-gnu-gcc -g -O0 and run under qemu-aarch64 for the reference
output; the same walk as test_dap_session's first test, plus the registers
scope and the disassembly view.  Skipped without the cross tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from dapsupport import ROOT, SOURCE, TIMEOUT, Recorded
from test_dap_session import LINE_ADD, local_values, start, stopped, top

CC = shutil.which("aarch64-linux-gnu-gcc")
QEMU = shutil.which("qemu-aarch64")


@pytest.fixture(scope="session")
def doubling_a64(tmp_path_factory) -> Recorded:
    if CC is None or QEMU is None:
        if os.environ.get("CI"):
            pytest.fail("aarch64-linux-gnu-gcc and qemu-aarch64 must be installed in CI")
        pytest.skip("aarch64-linux-gnu-gcc or qemu-aarch64 is not installed")
    program = str(tmp_path_factory.mktemp("dap-a64") / "doubling-a64")
    subprocess.run([CC, "-g", "-O0", "-o", program, SOURCE], check=True)
    native = subprocess.run([QEMU, "-L", "/usr/aarch64-linux-gnu", program], capture_output=True, timeout=TIMEOUT)
    trace = program + "-trace"
    subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", trace, program],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL, timeout=TIMEOUT)
    return Recorded(program, trace, native.stdout.decode(), native.returncode)


def test_breakpoints_steps_registers_and_disassembly(doubling_a64, dap_client):
    c, caps = start(dap_client, doubling_a64, breakpoints=[LINE_ADD])
    assert stopped(c)["reason"] == "breakpoint"
    assert top(c)["name"] == "main" and top(c)["line"] == LINE_ADD
    assert local_values(c) == {"total": "0", "i": "1", "d": "2"}
    assert stopped(c, "next")["reason"] == "step" and top(c)["line"] == LINE_ADD + 1
    assert stopped(c, "stepBack")["reason"] == "step" and top(c)["line"] == LINE_ADD
    assert stopped(c, "continue")["reason"] == "breakpoint"
    assert local_values(c) == {"total": "2", "i": "2", "d": "4"}
    assert stopped(c, "reverseContinue")["reason"] == "breakpoint" and local_values(c)["d"] == "2"
    scopes = c.ok("scopes", frameId=1)["scopes"]
    ref = next(s for s in scopes if s["name"] == "Registers")["variablesReference"]
    regs = {v["name"]: v["value"] for v in c.ok("variables", variablesReference=ref)["variables"]}
    assert {"x0", "x29", "x30", "sp", "pc", "cpsr"} <= set(regs), regs
    pc = int(regs["pc"].split()[0], 16)
    rows = c.ok("disassemble", memoryReference=hex(pc), instructionOffset=-2, instructionCount=5)["instructions"]
    assert [int(row["address"], 16) for row in rows] == [pc - 8, pc - 4, pc, pc + 4, pc + 8], rows
    c.ok("setBreakpoints", source={"path": SOURCE}, breakpoints=[])
    c.ok("continue", threadId=1)
    assert c.wait_event("exited")["exitCode"] == doubling_a64.native_status == 0
    c.wait_event("terminated")
    assert c.output("stdout") == doubling_a64.native_stdout == "total 12\n"
    c.ok("disconnect")
    assert c.finish() == 0
