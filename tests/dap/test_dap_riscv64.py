"""`ttdbg dap` on a riscv64 trace (issue 12): doubling.c cross-built with
riscv64-linux-gnu-gcc -g -O0 and run under qemu-riscv64 for the reference
output; the walk test_dap_aarch64.py makes, with riscv64's registers and a
disassembly view over compressed (2-byte) and full (4-byte) instructions.
Skipped without the cross tools."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from crossarch import RISCV64_TOOLS
from dapsupport import SOURCE, TIMEOUT, Recorded
from test_dap_session import LINE_ADD, local_values, start, stopped, top

TOOLS = RISCV64_TOOLS
OBJDUMP = shutil.which("riscv64-linux-gnu-objdump")


@pytest.fixture(scope="module")
def doubling_rv(tmp_path_factory) -> Recorded:
    TOOLS.need(TOOLS.qemu, f"qemu-{TOOLS.arch}")
    build = TOOLS.build_and_record(SOURCE, tmp_path_factory.mktemp("dap-rv") / "doubling-rv", timeout=TIMEOUT)
    native = subprocess.run([TOOLS.qemu, "-L", TOOLS.sysroot, build.program], capture_output=True, timeout=TIMEOUT)
    return Recorded(build.program, build.trace, native.stdout.decode(), native.returncode)


def _objdump_main(program: str) -> list[int]:
    """main's instruction addresses as binutils decodes them (of the PIE: file offsets)."""
    out = subprocess.run([OBJDUMP, "-d", "--disassemble=main", program], capture_output=True, text=True,
                         check=True).stdout
    return [int(line.split(":")[0], 16) for line in out.splitlines()
            if line.startswith(" ") and ":\t" in line]


def test_breakpoints_steps_registers_and_disassembly(doubling_rv, dap_client):
    c, caps = start(dap_client, doubling_rv, breakpoints=[LINE_ADD])
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
    assert {"zero", "ra", "sp", "fp", "a0", "t6", "pc"} <= set(regs), regs
    pc = int(regs["pc"].split()[0], 16)
    rows = c.ok("disassemble", memoryReference=hex(pc), instructionOffset=-3, instructionCount=7)["instructions"]
    addresses = [int(row["address"], 16) for row in rows]
    assert len(rows) == 7 and addresses[3] == pc, rows
    sizes = [b - a for a, b in zip(addresses, addresses[1:])]
    assert set(sizes) == {2, 4}, rows                   # compressed and full ones
    # the same instruction boundaries as binutils finds in main (of the PIE, at its load bias)
    if OBJDUMP is not None:
        theirs = _objdump_main(doubling_rv.program)
        at = next(i for i, a in enumerate(theirs) if (pc - a) % 0x1000 == 0)
        bias = pc - theirs[at]
        assert addresses == [a + bias for a in theirs[at - 3:at + 4]], rows
    c.ok("setBreakpoints", source={"path": SOURCE}, breakpoints=[])
    c.ok("continue", threadId=1)
    assert c.wait_event("exited")["exitCode"] == doubling_rv.native_status == 0
    c.wait_event("terminated")
    assert c.output("stdout") == doubling_rv.native_stdout == "total 12\n"
    c.ok("disconnect")
    assert c.finish() == 0
