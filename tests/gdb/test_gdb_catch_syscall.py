"""gdb's `catch syscall` on a trace (QCatchSyscalls, syscall_entry/syscall_return stop replies).

The guest (tests/guests/gdb_syscalls.c, which is sysnums.c) makes a few calls by
number, two of them write.  x86-64: the stops of `catch syscall write` and of
`catch syscall` (every call) are those gdb shows running the same binary natively
(the reason, the call's name and number, the function, the return value), and
reverse-continue goes back through them in the opposite order.  aarch64:
gdb-multiarch names calls by aarch64's own table (write = 64, the number in x8);
qemu-aarch64 7.2's gdb stub has no `catch syscall` to compare with, so the
reference is the guest's own numbers and output.  (gdb 13 has no catch syscall
for riscv64 at all.)

The entry stop stands before the system-call instruction, where Linux's stands
just after it: a trace has no state between an instruction and the next, so the
pc differs by the instruction's length there; the function is the same.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gdbtest_support import REPO, ttdbg_env

GDB_MULTIARCH = shutil.which("gdb-multiarch")
A64_CC = shutil.which("aarch64-linux-gnu-gcc")


def _stops(g, command: str, n: int) -> list[tuple]:
    """`command` n times (or until a stop that is not a catchpoint's): what each showed."""
    out = []
    for _ in range(n):
        reply = g.ok(command)
        stopped = reply.stopped or {}
        if not reply.reason or not reply.reason.startswith("syscall-"):
            # (gdb says "no-history" in *stopped for the end of the trace only to MI; the CLI prints it)
            out.append(("no-history",) if "No more reverse-execution history." in reply.text else (reply.reason,))
            break
        ret = g.eval("$rax") if reply.reason == "syscall-return" else None
        out.append((reply.reason, stopped.get("syscall-name"), stopped.get("syscall-number"), reply.func, ret))
    return out


def _native(gdb, guest, catch: str, n: int) -> list[tuple]:
    g = gdb(guest.binary)
    g.ok("-gdb-set startup-with-shell off")
    g.ok(catch)
    reply = g.cmd("-exec-run")
    if reply.reason != "syscall-entry":
        pytest.skip(f"cannot run {guest.binary} natively under gdb: {reply.text or reply.stopped}")
    first = [(reply.reason, reply.stopped.get("syscall-name"), reply.stopped.get("syscall-number"), reply.func,
              None)]
    return first + _stops(g, "-exec-continue", n)


@pytest.mark.parametrize("catch", ["catch syscall write", "catch syscall getuid getppid uname write"])
def test_catch_syscall_stops_as_natively_and_in_reverse(connected, gdb, catch: str) -> None:
    guest, _server, ours = connected("syscalls")
    ours.ok(catch)
    forward = _stops(ours, "-exec-continue", 20)
    theirs = _native(gdb, guest, catch, 20)
    assert forward[-1] == ("no-history",) and theirs[-1][0] in ("exited-normally", "exited")
    def same(stops: list[tuple]) -> list[tuple]:      # the parent's pid is the recording's, not gdb's
        return [(*s[:4], "ppid" if s[1] == "getppid" and s[4] is not None else s[4]) for s in stops[:-1]]
    assert same(forward) == same(theirs), (forward, theirs)
    names = [s[1] for s in forward[:-1]]
    assert names.count("write") == 4 and all(r is not None for s, *r in forward[:-1] if s == "syscall-return")
    backward = _stops(ours, "-exec-continue --reverse", 20)
    assert backward[-1] == ("no-history",)
    assert [s[:4] for s in backward[:-1]] == [s[:4] for s in reversed(forward[:-1])]


def test_catch_syscall_from_a_stop_before_the_call_enters_it(connected) -> None:
    """Standing at the system-call instruction (stepi'd there, not a catch stop), a continue
    enters the call, as ptrace's PTRACE_SYSCALL does; from the entry, it returns.  A stepi
    over the call reports no catch (as a native single step does)."""
    guest, _server, g = connected("syscalls")
    g.ok("catch syscall write")
    entry = g.ok("continue")
    assert entry.reason == "syscall-entry"
    pc = g.pc()
    g.ok("reverse-stepi")
    g.ok("stepi")
    assert g.pc() == pc
    over = g.ok("stepi")
    assert over.reason == "end-stepping-range" and g.pc() == pc + 2, over.stopped
    g.ok("reverse-stepi")
    again = g.ok("continue")
    assert (again.reason, again.stopped.get("syscall-name"), g.pc()) == ("syscall-entry", "write", pc)
    ret = g.ok("continue")
    assert ret.reason == "syscall-return" and g.pc() > pc


@pytest.fixture(scope="module")
def a64_trace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes]:
    if GDB_MULTIARCH is None or A64_CC is None:
        if os.environ.get("CI"):
            raise RuntimeError("gdb-multiarch and aarch64-linux-gnu-gcc must be installed under CI")
        pytest.skip("gdb-multiarch or aarch64-linux-gnu-gcc is not installed")
    root = tmp_path_factory.mktemp("a64-catch")
    binary = root / "syscalls-a64"
    subprocess.run([A64_CC, "-g", "-O0", "-static", "-o", str(binary), str(REPO / "tests/guests/gdb_syscalls.c")],
                   check=True, capture_output=True, timeout=120)
    trace = root / "trace"
    rec = subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", str(trace), str(binary)],
                         capture_output=True, cwd=root, env=ttdbg_env(root), timeout=300)
    assert rec.returncode == 0, rec.stderr.decode(errors="replace")
    return binary, trace, rec.stdout


def test_gdb_multiarch_catches_aarch64_calls_by_aarch64_numbers(a64_trace, serve, gdb) -> None:
    binary, trace, stdout = a64_trace
    numbers = dict(kv.split("=") for kv in stdout.decode().splitlines()[0].split())
    assert numbers["write"] == "64"
    g = gdb(binary, gdb_path=GDB_MULTIARCH)
    g.connect(serve(trace, "--once").address)
    g.ok("catch syscall write getppid")
    seen = []
    for _ in range(10):
        reply = g.ok("-exec-continue")
        if reply.reason not in ("syscall-entry", "syscall-return"):
            assert "No more reverse-execution history." in reply.text, g.dump()
            break
        stopped = reply.stopped
        value = int(g.eval("$x8" if reply.reason == "syscall-entry" else "$x0").split()[0])
        seen.append((reply.reason, stopped["syscall-name"], stopped["syscall-number"], value))
    lines = stdout.splitlines(keepends=True)
    assert [s[:3] for s in seen] == [("syscall-entry", "getppid", numbers["getppid"]),
                                     ("syscall-return", "getppid", numbers["getppid"])] + [
                                        ("syscall-entry", "write", "64"), ("syscall-return", "write", "64")] * 2
    # x8 holds the call's number at each entry; x0 the result at each return: the bytes written
    assert [v for r, name, _, v in seen if r == "syscall-entry"] == [int(numbers["getppid"]), 64, 64]
    assert [v for r, name, _, v in seen if r == "syscall-return" and name == "write"] == [len(x) for x in lines]
    back = g.ok("reverse-continue")
    assert (back.reason, back.stopped.get("syscall-name")) == ("syscall-return", "write")


def test_catch_every_syscall_sees_the_calls_a_native_run_makes(connected, gdb) -> None:
    """`catch syscall` with no name (QCatchSyscalls:1): every call, in order, up to the
    program's first write (results aside: ttdbg answers some calls differently from the
    host, rseq with ENOSYS for one; after it, stdio asks whether stdout, a pipe when
    recorded and gdb's tty here, is a terminal); the last, exit_group, has no return."""
    guest, _server, ours = connected("syscalls")
    ours.ok("catch syscall")
    forward = _stops(ours, "-exec-continue", 80)
    theirs = _native(gdb, guest, "catch syscall", 80)
    assert forward[-1] == ("no-history",) and theirs[-1][0] in ("exited-normally", "exited")
    first_write = next(i for i, s in enumerate(theirs) if s[1] == "write")
    assert [s[:4] for s in forward[:first_write + 2]] == [s[:4] for s in theirs[:first_write + 2]], (forward, theirs)
    assert forward[-2][:2] == theirs[-2][:2] == ("syscall-entry", "exit_group") and first_write > 10
