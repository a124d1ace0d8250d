"""What the gdb-multiarch tests of another architecture share (test_gdb_aarch64.py,
test_gdb_riscv64.py): the cross tools, the guests cross-built and recorded once,
gdb-multiarch on `ttdbg serve` of a trace, gdb-multiarch on the same binary
under `qemu-ARCH -g PORT` (the reference), and the checks that read the same on
every architecture.

(A module of its own, not conftest.py: the test modules import it.)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from crossarch import CrossTools
from gdbtest_support import REPO, Guest, free_port, ttdbg_env

GDB_MULTIARCH = shutil.which("gdb-multiarch")
_CFLAGS = {"static": ["-static"], "dynamic": ["-fPIE", "-pie"]}


@dataclass(frozen=True)
class CrossGdb:
    tools: CrossTools    # the architecture's compiler, qemu-user and sysroot (tests/crossarch.py)
    tag: str             # in the binaries' names ("a64", "rv")

    @property
    def arch(self) -> str:
        return self.tools.arch

    @property
    def cc(self) -> str | None:
        return self.tools.cc

    @property
    def qemu(self) -> str | None:
        return self.tools.qemu

    @property
    def sysroot(self) -> str:
        return self.tools.sysroot

    def require(self) -> None:
        """Skip the calling module (under CI: fail) without gdb-multiarch, qemu or the compiler."""
        for tool, what in ((GDB_MULTIARCH, "gdb-multiarch"), (self.qemu, f"qemu-{self.arch} (qemu-user)"),
                           (self.cc, f"{self.arch}-linux-gnu-gcc")):
            if tool is None:
                if os.environ.get("CI"):
                    raise RuntimeError(f"{what} is not installed: CI must install it")
                pytest.skip(f"{what} is not installed", allow_module_level=True)

    def recorder(self, root: Path) -> Callable[..., Guest]:
        """guest(NAME, LINKING="static"): tests/guests/gdb_NAME.c cross-built with -g -O0
        and recorded into `root`, once."""
        built: dict[tuple[str, str], Guest] = {}

        def get(name: str, linking: str = "static") -> Guest:
            if (name, linking) in built:
                return built[name, linking]
            source = REPO / "tests" / "guests" / f"gdb_{name}.c"
            binary = root / f"{name}-{self.tag}-{linking}"
            subprocess.run([self.cc, "-g", "-O0", *_CFLAGS[linking], "-o", str(binary), str(source)],
                           check=True, capture_output=True, timeout=120)
            trace = root / f"trace-{name}-{self.tag}-{linking}"
            rec = subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", str(trace), str(binary)],
                                 capture_output=True, cwd=root, env=ttdbg_env(root), timeout=300)
            assert (trace / "events.log").exists(), rec.stderr.decode(errors="replace")
            built[name, linking] = Guest(name, linking, binary, trace, rec.returncode, source)
            return built[name, linking]

        return get

    def served(self, guest: Callable[..., Guest], serve, gdb) -> Callable[..., tuple[Guest, object]]:
        """make(NAME, LINKING) -> (guest, gdb-multiarch on `ttdbg serve` of its trace, at instruction 0)."""

        def make(name: str, linking: str = "static"):
            g_ = guest(name, linking)
            server = serve(g_.trace, "--once")
            g = gdb(g_.binary, gdb_path=GDB_MULTIARCH)
            g.connect(server.address)
            return g_, g

        return make

    @contextmanager
    def under_qemu(self, guest: Callable[..., Guest], gdb, workdir: Path) -> Iterator[Callable[..., tuple]]:
        """make(NAME, LINKING) -> (guest, gdb-multiarch on qemu-ARCH -g running it, stopped at main);
        the qemu processes are killed on the way out."""
        procs: list[subprocess.Popen] = []

        def make(name: str, linking: str = "static"):
            g_ = guest(name, linking)
            port = free_port()
            procs.append(subprocess.Popen([self.qemu, "-L", self.sysroot, "-g", str(port), str(g_.binary)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir))
            g = gdb(g_.binary, gdb_path=GDB_MULTIARCH)
            g.ok(f"set sysroot {self.sysroot}")
            deadline = time.monotonic() + 10
            while g.cmd(f"-target-select remote 127.0.0.1:{port}").error:
                assert time.monotonic() < deadline, f"qemu-{self.arch} -g did not listen"
                time.sleep(0.1)
            g.ok("break main")
            assert g.ok("continue").reason == "breakpoint-hit", g.dump()
            return g_, g

        try:
            yield make
        finally:
            for p in procs:
                p.kill()
                p.wait(5)


def check_ttdbg_replay_runs_gdb_multiarch(guest: Guest, workdir: Path) -> None:
    """`ttdbg replay` of a dynamic program's trace runs gdb-multiarch with the trace's libraries."""
    run = subprocess.run([sys.executable, "-m", "ttdbg", "replay", str(guest.trace), "--", "-nx", "-batch",
                          "-ex", "break report", "-ex", "continue", "-ex", "info sharedlibrary", "-ex", "bt"],
                         capture_output=True, text=True, cwd=workdir, env=ttdbg_env(workdir), timeout=120)
    out = run.stdout + run.stderr
    assert "Breakpoint 1, report (value=930)" in out, out
    # the loader and libc from the trace's private sysroot, not from the host
    assert re.search(r"Yes.*/ttdbg-gdb-[^/]+/sysroot/lib/libc\.so\.6", out), out
    assert re.search(r"#1 .* in main \(\)", out), out


def check_backtrace_through_a_signal_frame(g) -> None:
    """gdb_signals: gdb knows the signal trampoline ttdbg maps as the architecture's Linux
    one and unwinds the rt_sigframe; finish into it and reverse-continue back out."""
    g.ok("handle SIGUSR1 nostop noprint pass")
    g.ok("break on_usr1")
    stop = g.ok("continue")
    assert stop.reason == "breakpoint-hit" and stop.func == "on_usr1", g.dump()
    assert g.eval("sig") == "10" and g.eval("hits") == "1"
    entry = g.when()
    bt = g.ok("bt").text
    assert re.search(r"#1\s+<signal handler called>\n#2\s+0x[0-9a-f]+ in kill \(\)\n#3\s+0x[0-9a-f]+ in main \(\)",
                     bt), bt
    stop = g.ok("finish")                           # into the trampoline
    assert "<signal handler called>" in stop.text, g.dump(12)
    assert g.eval("hits") == "11"
    stop = g.ok("reverse-continue")                 # back out of the trampoline into the handler
    assert stop.reason == "breakpoint-hit" and stop.func == "on_usr1"
    assert g.eval("hits") == "1" and g.when() == entry
