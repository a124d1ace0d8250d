"""`info threads`, `thread`, `thread apply` and `ps` in the REPL on the one-thread tally guest.

and on gdb_threads.c, a main and two named pthreads.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass(frozen=True)
class Recorded:
    program: str
    trace: str
    linking: str


def test_info_threads_and_thread_on_one_thread(recorded, make_repl):
    r = make_repl(recorded)
    r.execute("break bump")
    r.execute("continue")
    pid = r.tl.pid
    out = r.execute("info threads")
    assert out.splitlines()[0].split() == ["Id", "Target", "Id", "Frame"]
    assert re.search(rf'^\* 1 +Thread {pid}\.{pid} "tally-\w+" +bump \(\) at tally.c:16$', out, re.M)
    assert r.execute("thread") == f'[Current thread is 1 (Thread {pid}.{pid} "tally-{recorded.linking}")]'
    assert r.execute("thread 1").endswith("#0  bump () at tally.c:16")
    assert r.execute("thread 2") == "Unknown thread 2."
    assert r.execute("thread x") == "Invalid thread ID: x"


def test_thread_apply_all_bt(recorded, make_repl):
    r = make_repl(recorded)
    r.execute("break square")
    r.execute("continue")
    out = r.execute("thread apply all bt")
    assert out.startswith("\nThread 1 (Thread ")
    assert re.search(r"#0\s+square \(\) at tally.c:10\n#1 .* in bump \(\) at tally.c:16", out)
    assert "cannot be applied" in r.execute("thread apply all continue")
    assert r.execute("thread apply all") == "Please specify a command following the thread ID list"


def test_ps_lists_the_process(recorded, make_repl):
    r = make_repl(recorded)
    lines = r.execute("ps").splitlines()
    assert lines[0].split() == ["PID", "PPID", "EXIT", "CMD"]
    pid, _ppid, status, *cmd = lines[1].split()
    assert int(pid) == r.tl.pid and status == "0" and cmd[0].endswith(f"tally-{recorded.linking}")


# -- a program with pthreads (tests/guests/gdb_threads.c) ------------------------------------
THREADS_SOURCE = os.path.join(ROOT, "tests", "guests", "gdb_threads.c")


@pytest.fixture(scope="module")
def threaded(tmp_path_factory) -> Recorded:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is needed to build the REPL test guests")
    tmp = str(tmp_path_factory.mktemp("repl-threads"))
    program = os.path.join(tmp, "threads-static")
    if subprocess.run([gcc, "-g", "-O0", "-static", "-o", program, THREADS_SOURCE]).returncode != 0:
        pytest.skip("cannot link statically here")
    trace = os.path.join(tmp, "trace")
    subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", trace, program],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return Recorded(program, trace, "static")


def test_a_breakpoint_in_a_thread_names_it(threaded, make_repl):
    r = make_repl(threaded)
    r.execute("break crunch")
    out = r.execute("continue")
    m = re.search(r'^\[Switching to thread (\d) \(Thread (\d+)\.(\d+) "(worker[01])"\)\]\n'
                  r'Thread \1 "\4" hit Breakpoint 1, crunch \(\) at gdb_threads.c:16$', out, re.M)
    assert m, out
    number, name = m.group(1), m.group(4)
    assert r.execute("print id").endswith(f"= {name[-1]}")
    rows = r.execute("info threads").splitlines()[1:]
    assert len(rows) == 3, rows
    assert [row.split()[1] for row in rows if row.startswith("*")] == [number]
    assert sorted(re.search(r'"([^"]+)"', row).group(1) for row in rows) == ["threads-static", "worker0", "worker1"]
    assert re.search(r'^  1 +Thread (\d+)\.\1 "threads-static" ', "\n".join(rows), re.M)
    out = r.execute("continue")                 # the other worker, later
    other = f"worker{1 - int(name[-1])}"
    assert re.search(rf'Thread \d "{other}" hit Breakpoint 1, crunch \(\)', out), out


def test_thread_selects_registers_and_frames(threaded, make_repl):
    r = make_repl(threaded)
    r.execute("break crunch")
    r.execute("continue")
    worker_rip = r.execute("info registers rip")
    out = r.execute("thread apply all bt")
    blocks = [b for b in out.split("\nThread ") if b.strip()]
    assert len(blocks) == 3, out
    assert re.search(r"#1\s+0x[0-9a-f]+ in main \(\) at gdb_threads.c:\d+", out), out
    assert len(re.findall(r"in worker \(\) at gdb_threads.c:\d+", out)) == 2, out
    assert r.execute("thread 1").startswith('[Switching to thread 1 (Thread ')
    assert r.execute("info registers rip") != worker_rip
    assert re.search(r"#1\s+0x[0-9a-f]+ in main \(\) at gdb_threads.c:\d+", r.execute("bt"))
    assert r.execute("thread").startswith("[Current thread is 1 ")


def test_motions_move_the_selected_thread(threaded, make_repl):
    """As gdb: `thread 1` then `stepi` steps main (blocked at the barrier: the workers
    run meanwhile, as recorded), and main stays selected; back again the same way."""
    r = make_repl(threaded)
    r.execute("break crunch")
    r.execute("continue")
    at = r.tl.position
    r.execute("thread 1")
    main_rip = r.execute("info registers rip")
    out = r.execute("stepi")
    assert "Switching" not in out
    assert r.execute("thread").startswith("[Current thread is 1 ")
    assert r.tl.position > at + 1 and r.execute("info registers rip") != main_rip
    r.execute("reverse-stepi")
    assert r.execute("thread").startswith("[Current thread is 1 ")
    assert r.execute("info registers rip") == main_rip
    back = r.execute("reverse-stepi")              # the worker's breakpoint is met first, going back
    assert r.tl.position == at and re.search(r'Thread \d "worker\d" hit Breakpoint 1, crunch', back), back
    r.execute("delete")
    r.execute("thread 1")
    back = r.execute("reverse-stepi")              # now main's instruction before it blocked
    assert r.tl.position < at and "__pthread_barrier_wait" in back, back
    assert r.execute("thread").startswith("[Current thread is 1 ")


def test_next_in_a_worker_stays_in_it(threaded, make_repl):
    r = make_repl(threaded)
    r.execute("break crunch")
    first = r.execute("continue")
    name = re.search(r'"(worker[01])" hit', first).group(1)
    r.execute("delete")
    lines = [r.execute("next") for _ in range(4)]
    assert all("Switching" not in out for out in lines), lines
    assert r.execute("thread").endswith(f'"{name}")]')
    assert r.execute("print id").endswith(f"= {name[-1]}")
    out = r.execute("finish")                      # back in worker(), the same thread
    assert "Run till exit from #0  crunch ()" in out and "worker () at gdb_threads.c:29" in out
    assert r.execute("thread").endswith(f'"{name}")]')


def test_reverse_watch_finds_the_other_threads_write(threaded, make_repl):
    r = make_repl(threaded)
    r.execute("break gdb_threads.c:45")
    assert "main () at gdb_threads.c:45" in r.execute("continue")
    r.execute("watch shared")
    out = r.execute("reverse-continue")
    assert re.search(r'Thread \d "worker1" hit Hardware watchpoint 2: shared', out), out
    assert "31\t        shared = 42;" in out
    assert r.execute("print id").endswith("= 1")
    assert re.search(r'^\* \d +Thread \d+\.\d+ "worker1" +worker \(\) at gdb_threads.c:31$',
                     r.execute("info threads"), re.M)


def test_gdb_evaluates_in_the_selected_thread(threaded, make_repl):
    if shutil.which("gdb") is None:
        pytest.skip("gdb is not installed")
    r = make_repl(threaded, use_gdb=True)
    r.execute("break crunch")
    r.execute("continue")
    worker = r.execute("print id").split("= ")[-1]
    assert worker in ("0", "1")
    r.execute("thread 1")
    main_pc = int(r.execute("info registers rip").split()[1], 16)
    assert int(r.execute("print/x $pc").split("= ")[-1], 16) == main_pc
    assert re.search(r"#\d+ +0x[0-9a-f]+ in main \(\) at .*gdb_threads.c:\d+\n +t = \{", r.execute("bt full"))
    r.execute("continue")                        # the other worker: gdb follows the REPL's stop
    assert r.execute("print id").split("= ")[-1] == str(1 - int(worker))


def test_finish_returns_in_the_thread_that_called(threaded, make_repl):
    """Both workers run crunch() interleaved by the scheduler, returning to the same
    call site: `finish` in one stops when that one returns, not the other."""
    r = make_repl(threaded)
    r.execute("break crunch")
    name = re.search(r'"(worker[01])" hit', r.execute("continue")).group(1)
    tid, start = r.tl.current_tid, r.tl.position
    r.execute("delete")
    out = r.execute("finish")
    assert "Run till exit from #0  crunch ()" in out and "worker () at gdb_threads.c:29" in out, out
    assert r.execute("thread").endswith(f'"{name}")]') and r.tl.current_tid == tid
    assert r.execute("print id").endswith(f"= {name[-1]}")
    value = {"worker0": 199990000, "worker1": 799980000}[name]
    assert out.endswith(f"= {value}"), out                     # crunch(id)'s own result
    assert any(r.tl.runner(p) != tid for p in range(start, r.tl.position, 1000))   # the other ran meanwhile
    out = r.execute("reverse-step")                 # to the line's start: back over the whole call
    assert out.startswith("29\t") and r.tl.position < start, out
    assert r.execute("thread").endswith(f'"{name}")]')
