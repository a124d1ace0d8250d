"""`info threads`, `thread`, `thread apply` and `ps` in the REPL on the one-thread tally guest.

(tests/test_threads_front.py drives them on a program with pthreads.)
"""

from __future__ import annotations

import re


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
