"""Threads recorded and replayed (issue 9): pthreads, raw futexes, TLS, deadlock.

Each guest (tests/guests/threads_*.c) runs natively and under `ttdbg record`
(output and status equal), then `ttdbg replay -a` (equal to the recording).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run, dump_lines, parse_dump

import ttdbg as package

THREADED = {
    "threads_condvar": [],      # 4 pthreads, a mutex and a condition variable, joins
    "threads_prodcons": [],     # raw FUTEX_WAIT/FUTEX_WAKE producer/consumer
    "threads_tls": [],          # __thread variables, gettid, sched_yield
    "threads_misc": [],         # clone flags, CLEARTID, futex ops (bitset, requeue, wake-op, timeouts), tgkill
    "procs_fork": [],           # fork, wait4/waitid, pipes, vfork, SIGCHLD, kill, a zombie reaped late
    "procs_exec": [],           # fork+exec+wait chain, a pipeline of /bin/echo and /usr/bin/tr, vfork+exec
    "procs_status": [],         # /proc/self/status (Pid, PPid, Tgid, Threads) in a parent and its child
    "procs_pipefull": [],       # a pipe holds 64 KiB: EAGAIN, poll, a writer waits for its reader
    "procs_shared": [],         # MAP_SHARED memory across fork: process-shared semaphores, futex between processes
    "threads_wakespin": [],     # a thread others wait on runs unsliced; waking one ends its slice
}


EVERY_FLAVOUR = ("threads_condvar", "threads_tls", "procs_exec")     # the others: static glibc only


@pytest.mark.parametrize(("case", "flavour"), [
    (case, flavour) for case in sorted(THREADED)
    for flavour in (("static", "musl", "dynamic") if case in EVERY_FLAVOUR else ("static",))])
def test_threads_record_like_native_and_replay_like_record(ttdbg: Ttdbg, guest, flavour: str, case: str) -> None:
    program = guest(case, flavour)
    native = ttdbg.native(program, *THREADED[case])
    trace, rec, rep = ttdbg.record_replay(program, *THREADED[case])
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    kinds = [kind for _, _, kind in parse_dump(dump_lines(ttdbg, trace))]
    assert "TASK_SWITCH" in kinds


def test_deadlock_ends_the_recording_with_one_line_and_replays(ttdbg: Ttdbg, guest) -> None:
    program = guest("threads_deadlock", "static")
    trace, rec = ttdbg.record(program)
    lines = [ln for ln in rec.err.splitlines() if "deadlock:" in ln]
    assert len(lines) == 1, rec.err
    assert lines[0].startswith("ttdbg: ")
    assert len(re.findall(r"thread \d+ waits on futex 0x[0-9a-f]+", lines[0])) == 2, lines[0]
    assert "Traceback" not in rec.err
    assert rec.status != 0
    rep = ttdbg("replay", "-a", trace)
    assert rep.stdout == rec.stdout == b"before the deadlock\n"
    assert "ended by a deadlock of its threads" in rep.err
    assert "Traceback" not in rep.err


def test_a_shell_pipeline_records_like_native(ttdbg: Ttdbg) -> None:
    args = ("-c", "echo a | tr a b; echo $?; exit 3")
    native = ttdbg.native("/bin/sh", *args)
    trace, rec, rep = ttdbg.record_replay("/bin/sh", *args)
    assert native.stdout == b"b\n0\n" and native.status == 3
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def test_ps_lists_every_process_with_its_status(ttdbg: Ttdbg, guest) -> None:
    program = guest("procs_exec", "static")
    trace, rec = ttdbg.record(program)
    assert rec.status == 0, rec.err
    run = ttdbg("ps", trace)
    assert run.status == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].split() == ["PID", "PPID", "EXIT", "CMD"]
    rows = [line.split("\t") for line in lines[1:]]
    pids = [int(r[0]) for r in rows]
    assert pids == list(range(pids[0], pids[0] + 8))          # the kernel's own pids, in order
    by_cmd = {r[3]: r for r in rows}
    assert by_cmd["echo hello from a pipeline"][2] == "0" and by_cmd["tr a-z A-Z"][1] == str(pids[0])
    assert [by_cmd[f"{program} chain {n}"][2] for n in (1, 2, 3)] == ["10", "20", "30"]
    assert by_cmd[f"{program} chain 3"][1] == by_cmd[f"{program} chain 2"][0]
    info = ttdbg("info", trace)
    assert "processes:    8" in info.out and "      " + by_cmd[f"{program} chain 2"][0] in info.out


def test_chaos_mode_finds_the_bundled_race(ttdbg: Ttdbg, builder) -> None:
    source = Path(package.__file__).parent / "examples" / "race.c"
    program = builder.outdir / "race"
    subprocess.run(["gcc", "-O1", "-o", str(program), str(source)], check=True)
    _, plain = ttdbg.record(program)
    assert plain.status == 0 and b"consistent" in plain.stdout
    found = None
    for seed in range(6):
        trace = ttdbg.new_trace()
        rec = ttdbg("record", "-o", trace, "--chaos-seed", str(seed), program)
        assert f"seed {seed}" in rec.err
        if rec.status == 1:
            found = trace
            break
    assert found is not None, "chaos mode did not find the race in 6 tries"
    assert b"RACE" in rec.stdout
    rep = ttdbg.replay(found)
    assert rep.stdout == rec.stdout and rep.status == 1


def test_repl_debugs_the_process_chosen_with_p_or_e(ttdbg: Ttdbg, guest) -> None:
    program = guest("procs_exec", "static")
    trace, rec = ttdbg.record(program)
    rows = [line.split("\t") for line in ttdbg("ps", trace).out.splitlines()[1:]]
    tr = next(r for r in rows if r[3].startswith("tr "))
    run = ttdbg("repl", "-e", "tr", trace, stdin=b"continue\nwhen\n")
    assert run.status == 0, run.err
    assert "exited normally" in run.out and "Traceback" not in run.err
    assert int(tr[0]) > 0
    bad = ttdbg("repl", "-p", "1", trace, stdin=b"")
    assert bad.status == 2 and bad.err.strip() == "ttdbg: no process 1 in this trace (see `ttdbg ps`)"
    both = ttdbg("replay", "-a", "-e", "tr", trace)
    assert both.status == 2 and "replay -a replays every process" in both.err


@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="no /usr/bin/python3")
def test_python_threads_and_subprocesses(ttdbg: Ttdbg) -> None:
    code = ("import subprocess, threading\ntotal = 0\nlock = threading.Lock()\ndef work(n):\n    global total\n"
            "    for i in range(500):\n        with lock:\n            total += n\n"
            "ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]\n"
            "[t.start() for t in ts]\n[t.join() for t in ts]\nprint('total', total)\n"
            "r = subprocess.run(['echo', 'hi'], capture_output=True)\nprint(r.stdout, r.returncode)\n")
    native = ttdbg.native("/usr/bin/python3", "-I", "-c", code)
    trace, rec, rep = ttdbg.record_replay("/usr/bin/python3", "-I", "-c", code)
    assert rec.stdout == native.stdout and rec.status == native.status == 0
    assert rep.stdout == rec.stdout and rep.status == rec.status     # (record warns of epoll: ENOSYS)


def test_waiting_for_input_lets_other_threads_run(ttdbg: Ttdbg, guest) -> None:
    """The worker's line comes out before any input is given (else: a hang, here a timeout)."""
    program = guest("threads_stdin", "static")
    trace = ttdbg.new_trace()
    proc = subprocess.Popen(ttdbg.argv("record", "-q", "-o", trace, program), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ttdbg.env, cwd=ttdbg.workdir)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        first = proc.stdout.readline()              # before any input
        assert first == b"worker done: 44999850000\n"
        rest, err = proc.communicate(b"hello\n", timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert rest == b"got: hello\n"
    rep = ttdbg.replay(trace)
    assert rep.stdout == first + rest and rep.status == 0


def test_make_compiles_a_file_with_gcc(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """make -> sh -> gcc -> cc1, as: vfork/posix_spawn, pipes, temporary files, exit statuses."""
    for where in (tmp_path / "native", ttdbg.workdir):
        where.mkdir(exist_ok=True)
        (where / "a.c").write_text("int add(int a, int b) { return a + b; }\n")
        (where / "Makefile").write_text("all: a.o\n\t@echo built\na.o: a.c\n\tgcc -c -o a.o a.c\n")
    native = subprocess.run(["make"], cwd=tmp_path / "native", capture_output=True)
    trace, rec, rep = ttdbg.record_replay("/usr/bin/make")
    assert rec.stdout == native.stdout == b"gcc -c -o a.o a.c\nbuilt\n" and rec.status == 0, rec.err
    assert (ttdbg.workdir / "a.o").read_bytes() == (tmp_path / "native" / "a.o").read_bytes()
    assert rep.stdout == rec.stdout and rep.status == 0
    cmds = [line.split("\t")[3] for line in ttdbg("ps", trace).out.splitlines()[1:]]
    assert cmds[0] == "/usr/bin/make" and cmds[1] == "gcc -c -o a.o a.c" and any("cc1" in c for c in cmds)


def test_more_tasks_than_the_limit_get_eagain(ttdbg: Ttdbg, guest) -> None:
    program = guest("threads_limit", "static")
    trace = ttdbg.new_trace()
    rec = ttdbg("record", "-q", "--max-tasks", "8", "-o", trace, program)
    assert rec.status == 0, rec.err
    assert rec.stdout == b"created 7 threads, then: Resource temporarily unavailable\n"
    assert ttdbg.replay(trace).stdout == rec.stdout
    bad = ttdbg("record", "--max-tasks", "0", program)
    assert bad.status == 2 and "between 1 and" in bad.err


@pytest.mark.parametrize("case", ["threads_misc", "procs_fork", "procs_exec"])
def test_chaos_schedules_keep_programs_correct_and_replayable(ttdbg: Ttdbg, guest, case: str) -> None:
    program = guest(case, "static")
    native = ttdbg.native(program)
    for seed in (1,):
        trace = ttdbg.new_trace()
        rec = ttdbg("record", "-q", "--chaos-seed", str(seed), "-o", trace, program)
        assert rec.stdout == native.stdout and rec.status == native.status, f"seed {seed}: {rec.err}"
        rep = ttdbg.replay(trace)
        assert rep.stdout == rec.stdout and rep.status == rec.status, f"seed {seed}"


def test_a_parent_killed_by_its_child(ttdbg: Ttdbg, guest) -> None:
    program = guest("procs_orphan", "static")
    trace, rec, rep = ttdbg.record_replay(program)
    assert rec.status == 128 + 15, rec.err                  # the first process's end is the recording's status
    assert rec.stdout == b"parent: waiting\nchild: parent gone, my parent is now init\n"
    assert_same_run(rep, rec, "replay vs record")
    rows = [line.split("\t") for line in ttdbg("ps", trace).out.splitlines()[1:]]
    assert [r[2] for r in rows] == ["143", "0"]


def test_kill_of_the_own_process_group_reaches_every_guest_process(ttdbg: Ttdbg, guest) -> None:
    """kill(0) and kill(-getpgrp()) in the recording's own group (each run in a session
    of its own: natively the group would be the test's)."""
    program = guest("procs_pgkill", "static")
    trace = ttdbg.new_trace()
    runs = [subprocess.run(argv, capture_output=True, env=ttdbg.env, cwd=ttdbg.workdir, timeout=60,
                           start_new_session=True)
            for argv in ([str(program)], ttdbg.argv("record", "-q", "-o", trace, program))]
    native, rec = runs
    assert native.stdout == (b"kill(0): kill 0, handler ran 1 times, child killed by 10\n"
                             b"kill(-pgrp): kill 0, handler ran 2 times, child killed by 10\n")
    assert rec.stdout == native.stdout and rec.returncode == native.returncode == 0, rec.stderr
    rep = ttdbg.replay(trace)
    assert rep.stdout == rec.stdout and rep.status == 0


def test_waiting_in_poll_or_select_lets_other_threads_run(ttdbg: Ttdbg, guest) -> None:
    """Each worker's line comes out before the input poll (then select) waits for."""
    program = guest("threads_stdin_poll", "static")
    trace = ttdbg.new_trace()
    proc = subprocess.Popen(ttdbg.argv("record", "-q", "-o", trace, program), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ttdbg.env, cwd=ttdbg.workdir)
    out = b""
    try:
        assert proc.stdout is not None and proc.stdin is not None
        for want, line in ((b"worker 1 done: 44999850000\n", b"a\n"), (b"worker 2 done: 44999850000\n", b"b\n")):
            first = proc.stdout.readline()         # before the input
            assert first == want
            out += first
            proc.stdin.write(line)
            proc.stdin.flush()
            if line == b"a\n":
                out += proc.stdout.readline()
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    out += rest
    assert out.endswith(b"poll 1 0x1, got: a\nworker 2 done: 44999850000\nselect 1 1, got: b\n")
    rep = ttdbg.replay(trace)
    assert rep.stdout == out and rep.status == 0


def test_wait4_rusage_is_the_childs_instructions(ttdbg: Ttdbg, guest) -> None:
    """ru_utime by the model of one instruction a nanosecond: 4x the loop, 4x the time; a
    child's time includes its reaped child's; the same in the replay."""
    trace, rec, rep = ttdbg.record_replay(guest("procs_rusage", "static"))
    assert rec.status == 0 and rep.stdout == rec.stdout, rec.err
    small, large, nested = (int(v) for v in rec.stdout.split()[1:])
    assert small > 0 and 3.9 < large / small < 4.1
    assert large <= nested <= large * 1.01


def test_a_thread_others_wait_on_runs_unsliced_until_it_wakes_one(ttdbg: Ttdbg, guest) -> None:
    """threads_wakespin: main runs 2M iterations while the worker waits, then wakes it and
    spins: the worker runs at once (a few switches, ~10M instructions), not after 2^26."""
    trace, rec, rep = ttdbg.record_replay(guest("threads_wakespin", "static"))
    assert rec.status == 0 and rep.stdout == rec.stdout, rec.err
    info = ttdbg("info", trace).out
    icount = int(re.search(r"instructions:\s+([\d,]+)", info).group(1).replace(",", ""))
    switches = sum(1 for _, _, kind in parse_dump(dump_lines(ttdbg, trace)) if kind == "TASK_SWITCH")
    assert icount < 30_000_000 and switches < 10, (icount, switches)
