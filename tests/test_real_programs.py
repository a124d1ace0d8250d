"""What real programs touch beyond the basics (tests/guests/realworld.c), each
checked against a native run of the same guest where the answer is
deterministic: stat of pipes the program made, /proc/self, file locks and
fsync, socket calls on non-sockets, the CPU count, the time-stamp counter,
pause(), and a replay whose output pipe closes early.
"""

from __future__ import annotations

import fcntl
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run


def test_stat_of_pipes_the_program_made(ttdbg: Ttdbg, guest, flavour: str) -> None:
    # Rust's std (any panic, rustc, rustup) calls statx(fd, "", AT_EMPTY_PATH) on its pipes.
    program = guest("realworld", flavour)
    native = ttdbg.native(program, "pipestat")
    assert native.status == 0 and "fifo blksize=4096" in native.out, native.out
    trace, rec, rep = ttdbg.record_replay(program, "pipestat")
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def _tsc(out: str) -> tuple[int, int, int]:
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    rdtscp, aux = lines["rdtscp"].split(" aux ")
    return int(lines["rdtsc"]), int(rdtscp), int(aux)


def test_tsc_values_are_the_hosts(ttdbg: Ttdbg, guest) -> None:
    # The recorded rdtsc/rdtscp are the host's counter: between two native reads
    # taken before and after the recording (an invented clock would not be).
    program = guest("realworld", "static")
    before = _tsc(ttdbg.native(program, "tsc").out)
    trace, rec, rep = ttdbg.record_replay(program, "tsc")
    after = _tsc(ttdbg.native(program, "tsc").out)
    recorded = _tsc(rec.out)
    assert before[1] < recorded[0] <= recorded[1] < after[0], (before, recorded, after)

    assert_same_run(rep, rec, "replay vs record")


def test_socket_calls_on_non_sockets(ttdbg: Ttdbg, guest, flavour: str) -> None:
    # bash calls getpeername(0): ENOSYS made it believe stdin was a network connection.
    program = guest("realworld", flavour)
    native = ttdbg.native(program, "sock")
    assert "getpeername(stdin) = -1 " in native.out and "getpeername(99) = -1 Bad" in native.out, native.out
    assert "getpeername(stdin) = -1 Bad" not in native.out, native.out
    trace, rec, rep = ttdbg.record_replay(program, "sock")
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def test_socket_call_on_an_inherited_socket_is_refused(ttdbg: Ttdbg, guest) -> None:
    program = guest("realworld", "static")
    here, there = socket.socketpair()
    with here, there:
        proc = subprocess.run(ttdbg.argv("record", "-q", "-o", ttdbg.new_trace(), program, "sock"),
                              stdin=there, capture_output=True, env=ttdbg.env, cwd=ttdbg.workdir, timeout=60)
    out = proc.stdout.decode()
    assert "getpeername(stdin) = -1 Function not implemented" in out, out
    assert "getpeername(pipe) = -1 Socket operation on non-socket" in out, out
    assert "ttdbg: warning: getpeername on a socket is not supported" in proc.stderr.decode()


def test_file_locks_and_fsync_are_real(ttdbg: Ttdbg, guest, flavour: str, tmp_path: Path) -> None:
    # sqlite's WAL mode needs F_GETLK to answer F_UNLCK; a second open's flock must conflict.
    program = guest("realworld", flavour)
    scratch = tmp_path / "locked"
    native = ttdbg.native(program, "locks", str(scratch))
    assert "F_GETLK = 0 l_type=F_UNLCK" in native.out, native.out
    assert "flock(second open, LOCK_EX|LOCK_NB) = -1" in native.out, native.out
    trace, rec, rep = ttdbg.record_replay(program, "locks", str(scratch))
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def test_a_lock_another_process_holds_is_seen(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    # The test process holds a record lock on the first bytes: F_GETLK reports it, F_SETLK fails.
    scratch = tmp_path / "held"
    scratch.write_bytes(b"0123456789")
    program = guest("realworld", "static")
    with open(scratch, "rb+") as held:
        fcntl.lockf(held, fcntl.LOCK_EX | fcntl.LOCK_NB, 4, 0)
        native = ttdbg.native(program, "locks", str(scratch))
        trace, rec, rep = ttdbg.record_replay(program, "locks", str(scratch))
    assert "F_GETLK = 0 l_type=locked" in native.out and "F_SETLK = -1" in native.out, native.out
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def test_proc_self_is_the_guest_never_ttdbg(ttdbg: Ttdbg, guest, flavour: str) -> None:
    # /proc/self/exe used to open (and capture) ttdbg's Python; /proc/thread-self showed its command line.
    program = guest("realworld", flavour)
    native = ttdbg.native(program, "proc", "an argument")
    assert "no" not in native.out.replace("no-such", ""), native.out
    trace, rec, rep = ttdbg.record_replay(program, "proc", "an argument")
    assert rec.stdout == native.stdout and rec.status == native.status == 0
    assert rec.err == ""     # no-such-file is no file of Linux's /proc/PID either: ENOENT, no warning
    assert (rep.stdout, rep.status) == (rec.stdout, rec.status)
    opened = ttdbg("dump", "--kind", "file_open", trace).out
    assert "python" not in opened and "/proc" not in opened, opened


def test_cpu_count_is_one_everywhere(ttdbg: Ttdbg, guest, flavour: str) -> None:
    # sysconf/get_nprocs read /sys/devices/system/cpu/online, nproc asks sched_getaffinity.
    program = guest("realworld", flavour)
    trace, rec, rep = ttdbg.record_replay(program, "cpus")
    assert rec.out == "cpus: sysconf=1 get_nprocs=1 affinity=1 online=1\nconsistent: yes\n", rec.out
    assert_same_run(rep, rec, "replay vs record")
    assert ttdbg.native(program, "cpus").out.endswith("consistent: yes\n")


def test_pause_waits_until_ctrl_c_ends_the_recording(ttdbg: Ttdbg, guest) -> None:
    # pause() was recorded as exit(0): the program seemed to end, with status 0.
    from test_stuck_guests import _assert_clean_interrupt
    trace = ttdbg.new_trace()
    proc = subprocess.Popen(ttdbg.argv("record", "-o", trace, guest("realworld", "static"), "pause"),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ttdbg.env, cwd=ttdbg.workdir)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"pausing\n"
        time.sleep(1.0)
        assert proc.poll() is None, "pause() returned or ended the program"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"pause returned" not in out
    _assert_clean_interrupt(ttdbg, proc.returncode, took, err.decode(), trace)
    rep = ttdbg.replay(trace)
    assert (rep.status, rep.out) == (130, "pausing\n"), rep.err


def _into(reader: str, argv: list[str], ttdbg: Ttdbg) -> tuple[int, bytes]:
    """`argv | reader` in a shell: (argv's status, shell style; what the reader printed)."""
    proc = subprocess.run(["bash", "-c", f'"$@" | {reader}; exit ${{PIPESTATUS[0]}}', "bash", *argv],
                          capture_output=True, env=ttdbg.env, cwd=ttdbg.workdir, timeout=120)
    return proc.returncode, proc.stdout


@pytest.mark.parametrize("reader", ["head -n 1", "true"])
def test_replay_into_a_pipe_closed_early_ends_with_the_recorded_status(ttdbg: Ttdbg, guest, reader: str) -> None:
    # `ttdbg replay -a TRACE | head -1` exited 0 where the program had died of SIGPIPE (141).
    program = str(guest("realworld", "static"))
    native = _into(reader, [program, "yes"], ttdbg)
    assert native[0] == 141, native
    trace = ttdbg.new_trace()
    recorded = _into("head -c 100000", ttdbg.argv("record", "-q", "-o", trace, program, "yes"), ttdbg)
    assert recorded[0] == 141, recorded
    replayed = _into(reader, ttdbg.argv("replay", "-a", trace), ttdbg)
    assert replayed == native
