"""fork, vfork and exec as real gdb sees them (issue 9), next to gdb's native behaviour.

tests/guests/gdb_forkexec.c forks a child that execs gdb_exec_helper.c (which
forks a grandchild of its own), then vforks one that execs it too.  Debugging
the first process, gdb hears of the fork and the vfork as from a native
process it does not follow (`catch fork`/`catch vfork` stop there with the
child's pid from `ttdbg ps`; gdb detaches each child, which runs on in the
replay).  Debugging a child (`-p PID`), `catch exec` reports the new program
and gdb loads it: a breakpoint in the exec'd program is hit; a process that
starts in the exec'd program (the grandchild) gets that program from the start.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from gdbtest_support import REPO, Guest, ttdbg_env

from replay import list_processes, read_log

GCC = shutil.which("gcc")
CFLAGS = {"static": ["-static"], "dynamic": ["-fPIE", "-pie"]}     # as conftest.py builds the gdb guests


def build(gdb_builder, linking: str) -> Guest:
    """gdb_forkexec.c recorded, with its helper built next to it first (it execs `<itself>-helper`)."""
    helper = gdb_builder.root / f"forkexec-{linking}-helper"
    if not helper.exists():
        source = REPO / "tests" / "guests" / "gdb_exec_helper.c"
        cc = subprocess.run([GCC, "-g", "-O0", *CFLAGS[linking], "-o", str(helper), str(source)],
                            capture_output=True, text=True, timeout=120)
        if cc.returncode != 0:
            pytest.skip(f"cannot build the helper ({linking}): {cc.stderr.strip()[-200:]}")
    guest = gdb_builder.get("forkexec", linking)
    assert guest.status == 0
    return guest


@pytest.fixture(scope="module", params=["static", "dynamic"])
def forkexec(request, gdb_builder) -> Guest:
    return build(gdb_builder, request.param)


@pytest.fixture(scope="module")
def forkexec_static(gdb_builder) -> Guest:
    return build(gdb_builder, "static")


def processes(guest: Guest) -> dict[str, int]:
    """The trace's processes (`ttdbg ps`'s rows): pid by role (first, forked, grandchild, vforked)."""
    rows = list_processes(read_log(guest.trace / "events.log"))
    assert [r.argv[-1] for r in rows[1:]] == ["forked", "forked", "vforked"], rows
    return dict(zip(("first", "forked", "grandchild", "vforked"), (r.pid for r in rows)))


def events(g, count: int) -> list[tuple[str, str | None]]:
    """`continue` `count` times: each stop's (reason, function)."""
    out = []
    for _ in range(count):
        reply = g.ok("-exec-continue")
        out.append((reply.reason or "", reply.func))
    return out


def native_run(guest: Guest, gdb, *commands: str):
    g = gdb(guest.binary)
    g.ok("-gdb-set startup-with-shell off")
    for c in commands:
        g.ok(c)
    return g


def test_catch_fork_and_vfork_as_natively(forkexec: Guest, serve, gdb) -> None:
    pids = processes(forkexec)
    server = serve(forkexec.trace, "--once")
    g = gdb(forkexec.binary)
    g.connect(server.address)
    for c in ("catch fork", "catch vfork", "-break-insert after_children"):
        g.ok(c)
    fork = g.ok("-exec-continue")
    assert fork.reason == "fork" and int(fork.stopped["newpid"]) == pids["forked"]
    vfork = g.ok("-exec-continue")
    assert vfork.reason == "vfork" and int(vfork.stopped["newpid"]) == pids["vforked"]
    done = g.ok("-exec-continue")                          # gdb detached both children: on to the parent's work
    assert done.reason == "breakpoint-hit" and done.func == "after_children"
    assert g.eval("a") == "6" and g.eval("b") == "7"
    assert "Detaching after fork from child process" in fork.text + vfork.text + done.text

    n = native_run(forkexec, gdb, "catch fork", "catch vfork", "-break-insert after_children")
    first = n.ok("-exec-run")
    natively = [(first.reason or "", first.func), *events(n, 2)]
    assert [(e.reason, e.func) for e in (fork, vfork, done)] == natively


def test_catch_exec_in_a_child_then_a_breakpoint_in_the_new_program(forkexec: Guest, serve, gdb) -> None:
    pids = processes(forkexec)
    helper = f"{forkexec.binary}-helper"
    server = serve(forkexec.trace, "--once", "-p", str(pids["forked"]))
    g = gdb(None)                  # the program comes from the stub (qXfer:exec-file)
    g.connect(server.address)
    assert re.search(rf"process {pids['forked']}\b.*{re.escape(str(forkexec.binary))}\s", g.ok("info inferiors").text)
    g.ok("catch exec")
    g.ok("-break-insert -f helper_work")                   # pending until the exec
    execd = g.ok("-exec-continue")
    assert execd.reason == "exec" and execd.stopped["new-exec"] == helper
    assert f"process {pids['forked']} is executing new program: {helper}" in execd.text
    assert helper in g.ok("info inferiors").text
    hit = g.ok("-exec-continue")
    assert hit.reason == "breakpoint-hit" and hit.func == "helper_work"
    assert g.eval("how").endswith('"forked"')             # (the grandchild's call is another process's)

    # natively, following the child: the same event and the same places
    n = native_run(forkexec, gdb, "set follow-fork-mode child", "catch exec", "-break-insert -f helper_work")
    first = n.ok("-exec-run")
    assert (first.reason, first.stopped["new-exec"], first.func) == (execd.reason, helper, execd.func)
    assert n.ok("-exec-continue").func == "helper_work"


def test_exec_file_is_the_debugged_process_program_here(forkexec_static: Guest, serve, gdb) -> None:
    forkexec = forkexec_static
    pids = processes(forkexec)
    helper = f"{forkexec.binary}-helper"
    server = serve(forkexec.trace, "-p", str(pids["forked"]))    # a second gdb finds the first's position
    g = gdb(None)
    g.connect(server.address)
    g.ok("catch exec")
    assert g.ok("-exec-continue").reason == "exec"
    g.ok("detach")
    g.close()
    again = gdb(None)
    again.connect(server.address)
    assert helper in again.ok("info inferiors").text         # qXfer:exec-file: the program after the exec
    again.ok("-break-insert helper_work")
    assert again.ok("-exec-continue").func == "helper_work"


def test_replay_gives_gdb_the_program_a_process_runs(forkexec_static: Guest) -> None:
    """`ttdbg replay -p GRANDCHILD`: gdb reads the helper (the grandchild's program), not the first program."""
    forkexec = forkexec_static
    pids = processes(forkexec)
    gdb_args = ["-batch", "-nx", "-ex", "break helper_work", "-ex", "continue", "-ex", "info inferiors"]
    run = subprocess.run([sys.executable, "-m", "ttdbg", "replay", "-p", str(pids["grandchild"]), str(forkexec.trace),
                          "--", *gdb_args],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, env=ttdbg_env(forkexec.trace.parent),
                         timeout=120)
    out = run.stdout + run.stderr
    assert 'helper_work (how=0x' in out and '"grandchild"' in out, out
    assert re.search(rf"process {pids['grandchild']}\b.*forkexec-{forkexec.linking}-helper\s", out), out
