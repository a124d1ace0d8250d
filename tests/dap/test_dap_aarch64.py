"""`ttdbg dap` on an aarch64 trace (issue 12): doubling.c cross-built with
aarch64-linux-gnu-gcc -g -O0 and run under qemu-aarch64 for the reference
output; the same walk as test_dap_session's first test, plus the registers
scope and the disassembly view.  Skipped without the cross tools."""

from __future__ import annotations

import subprocess

import pytest
from crossarch import AARCH64_TOOLS
from dapsupport import SOURCE, TIMEOUT, Recorded
from test_dap_session import LINE_ADD, local_values, start, stopped, top

TOOLS = AARCH64_TOOLS


@pytest.fixture(scope="session")
def doubling_a64(tmp_path_factory) -> Recorded:
    TOOLS.need(TOOLS.qemu, f"qemu-{TOOLS.arch}")
    build = TOOLS.build_and_record(SOURCE, tmp_path_factory.mktemp("dap-a64") / "doubling-a64", timeout=TIMEOUT)
    native = subprocess.run([TOOLS.qemu, "-L", TOOLS.sysroot, build.program], capture_output=True, timeout=TIMEOUT)
    return Recorded(build.program, build.trace, native.stdout.decode(), native.returncode)


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
