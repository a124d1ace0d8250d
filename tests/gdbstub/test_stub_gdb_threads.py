"""A real gdb against the stub serving the fake's two threads (no engine behind it).

gdb checks what the byte transcripts cannot: that it lists the threads with
their names, switches to the thread a stop names, reads each thread's
registers through Hg, and survives stepping one thread while another stands at
a breakpoint (gdb first steps that one over it: its stop must name it, or gdb
13 aborts with "finish_step_over: Assertion ... trap_expected").
"""

from __future__ import annotations

import shutil
import subprocess
import threading

import pytest
from fake_target import ALL_CAPABILITIES, FakeTarget

from gdbstub.server import GdbServer
from gdbstub.target import Capability

GDB = shutil.which("gdb")
pytestmark = pytest.mark.skipif(GDB is None, reason="gdb is not installed")

MAIN, WORKER = 0x4D2, 0x4D3
TIDS = [MAIN] * 3 + [WORKER] * 2 + [MAIN] * 2 + [WORKER] * 3


def run_gdb(commands: list[str]) -> str:
    target = FakeTarget([0x1000 + 4 * i for i in range(10)], tids=list(TIDS),
                        names={MAIN: "guest", WORKER: "worker"}, memory={0x1000 + i: 0x90 for i in range(64)},
                        capabilities=ALL_CAPABILITIES - {Capability.PASS_SIGNALS, Capability.HOST_IO})
    server = GdbServer(target, once=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        argv = [GDB, "-nx", "-q", "-batch", "-ex", "set architecture i386:x86-64",
                "-ex", f"target remote 127.0.0.1:{server.port}"]
        for c in commands:
            argv += ["-ex", c]
        done = subprocess.run([*argv, "-ex", "detach"], capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        serving.join(10)
    return done.stdout + done.stderr


def test_gdb_sees_both_threads_and_the_one_that_stopped() -> None:
    out = run_gdb(["info threads", "break *0x1010", "continue", "info threads", "thread apply all p/x $rax"])
    assert "internal-error" not in out, out
    listing, after = out.split("Breakpoint 1 at 0x1010")
    assert '* 1    Thread 1234.1234 "guest"  0x0000000000001000 in ?? ()' in listing
    assert '  2    Thread 1234.1235 "worker"' in listing
    assert "[Switching to Thread 1234.1235]" in after
    assert 'Thread 2 "worker" hit Breakpoint 1, 0x0000000000001010 in ?? ()' in after
    assert '* 2    Thread 1234.1235 "worker" 0x0000000000001010 in ?? ()' in after
    assert 'Thread 2 (Thread 1234.1235 "worker"):\n$1 = 0x4d3' in after      # Hg then g
    assert 'Thread 1 (Thread 1234.1234 "guest"):\n$2 = 0x4d2' in after


def test_stepping_another_thread_past_a_breakpoint() -> None:
    out = run_gdb(["break *0x1010", "continue", "thread 1", "p/x $pc", "stepi", "info threads"])
    assert "internal-error" not in out, out
    assert "[Switching to thread 1 (Thread 1234.1234)]" in out and "$1 = 0x1008" in out
    assert '* 1    Thread 1234.1234 "guest"  0x0000000000001018 in ?? ()' in out
