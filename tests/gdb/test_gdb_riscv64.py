"""riscv64 traces debugged from a real gdb-multiarch: a smoke test of RISCV64_DEBUG.

The guest is gdb_basic.c cross-built (riscv64-linux-gnu-gcc -g -O0 -static),
recorded with ttdbg and served by `ttdbg serve`; the reference for forward
single steps is the same binary under `qemu-riscv64 -g PORT` with the same
gdb-multiarch.  Skipped without gdb-multiarch, qemu-riscv64 or the cross compiler.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gdbtest_support import REPO, Guest, free_port, steps, ttdbg_env, where

GDB_MULTIARCH = shutil.which("gdb-multiarch")
QEMU = shutil.which("qemu-riscv64")
CC = shutil.which("riscv64-linux-gnu-gcc")
N_STEPS = 40

for tool, what in ((GDB_MULTIARCH, "gdb-multiarch"), (QEMU, "qemu-riscv64 (qemu-user)"),
                   (CC, "riscv64-linux-gnu-gcc")):
    if tool is None:
        if os.environ.get("CI"):
            raise RuntimeError(f"{what} is not installed: CI must install it")
        pytest.skip(f"{what} is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def rv_guest(tmp_path_factory: pytest.TempPathFactory) -> Guest:
    root = tmp_path_factory.mktemp("rv-gdb-guests")
    source = REPO / "tests" / "guests" / "gdb_basic.c"
    binary = root / "basic-rv-static"
    subprocess.run([CC, "-g", "-O0", "-static", "-o", str(binary), str(source)],
                   check=True, capture_output=True, timeout=120)
    trace = root / "trace-basic-rv"
    rec = subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", str(trace), str(binary)],
                         capture_output=True, cwd=root, env=ttdbg_env(root), timeout=300)
    assert (trace / "events.log").exists(), rec.stderr.decode(errors="replace")
    return Guest("basic", "static", binary, trace, rec.returncode, source)


def test_break_main_stepi_reverse_stepi_and_registers(rv_guest, serve, gdb, tmp_path: Path):
    server = serve(rv_guest.trace, "--once")
    assert f"connect with: gdb-multiarch {rv_guest.binary}" in server.stderr
    g = gdb(rv_guest.binary, gdb_path=GDB_MULTIARCH)
    g.connect(server.address)
    assert "riscv:rv64" in g.ok("show architecture").text
    regs = g.ok("-data-list-register-names").payload["register-names"]
    assert regs[:3] == ["zero", "ra", "sp"] and regs[32:34] == ["pc", "ft0"]
    g.ok("break main")
    assert g.ok("continue").reason == "breakpoint-hit", g.dump()
    text = g.ok("info registers pc sp a0").text
    assert re.search(r"pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <main\+\d+>", text), text
    ours = steps(g, N_STEPS)
    start = g.when()
    for expected in reversed(ours[:-1]):               # back over the same ground
        g.ok("reverse-stepi")
        assert where(g) == expected, g.dump(12)
    assert g.when() == start - N_STEPS

    port = free_port()                                 # the same steps under qemu-riscv64 -g
    qemu = subprocess.Popen([QEMU, "-g", str(port), str(rv_guest.binary)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        q = gdb(rv_guest.binary, gdb_path=GDB_MULTIARCH)
        deadline = time.monotonic() + 10
        while q.cmd(f"-target-select remote 127.0.0.1:{port}").error:
            assert time.monotonic() < deadline, "qemu-riscv64 -g did not listen"
            time.sleep(0.1)
        q.ok("break main")
        assert q.ok("continue").reason == "breakpoint-hit", q.dump()
        assert steps(q, N_STEPS) == ours
    finally:
        qemu.kill()
        qemu.wait(5)
