"""Guests that used to get ttdbg stuck (issue "Hostile traces, full disks and stuck guests").

 - a jump to 0xffffffffffffffff, the last byte of the address space, hung
   ttdbg at 100% CPU (it is emu_start's "until" address): it must end with
   SIGSEGV as natively, when recorded and when replayed;
 - Ctrl-C (SIGINT to a real `ttdbg record` process) must end the recording
   promptly and cleanly (exit 130, the trace complete up to there, replaying
   with status 130) whatever the guest does: reading an input that is always
   ready, blocked in read, or computing without system calls.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from harness import Ttdbg

PROMPT = 10.0     # seconds Ctrl-C may take to end a recording (it takes well under one)


def test_jump_to_the_last_byte_of_the_address_space_is_sigsegv(ttdbg: Ttdbg, guest, flavour: str) -> None:
    program = guest("faults", flavour)
    native = ttdbg.native(program, "wild")
    assert native.status == 128 + signal.SIGSEGV
    trace, rec = ttdbg.record(program, "wild")
    assert (rec.status, rec.stdout) == (native.status, native.stdout), rec.err
    exceptions = ttdbg("dump", "--kind", "exception", trace).out
    assert "SIGSEGV" in exceptions and "pc=0xffffffffffffffff" in exceptions
    rep = ttdbg("replay", "-a", trace, timeout=60)
    assert (rep.status, rep.stdout) == (native.status, native.stdout), rep.err


def _record_and_interrupt(ttdbg: Ttdbg, program: Path, stdin: int | None,
                          started: Callable[[subprocess.Popen[bytes], Path], bool]) -> tuple[int, float, str, Path]:
    """Record `program`, send SIGINT once `started` says so; (status, seconds
    from SIGINT to exit, stderr, trace)."""
    trace = ttdbg.new_trace()
    # stdout is read only to see the guest start (_printed_a_line); a pipe nobody
    # reads would fill up and block the recording in write.
    out = subprocess.PIPE if started is _printed_a_line else subprocess.DEVNULL
    proc = subprocess.Popen(ttdbg.argv("record", "-o", trace, program), stdin=stdin, stdout=out,
                            stderr=subprocess.PIPE, env=ttdbg.env, cwd=ttdbg.workdir)
    try:
        deadline = time.monotonic() + 60
        while not started(proc, trace):
            assert proc.poll() is None and time.monotonic() < deadline, "the recording did not start"
            time.sleep(0.05)
        took, err = _interrupt(proc)
    finally:
        _reap(proc)
    return proc.returncode, took, err, trace


def _interrupt(proc: subprocess.Popen[bytes]) -> tuple[float, str]:
    """Ctrl-C to a running `ttdbg record`: how long it took to end, and its stderr."""
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=PROMPT)
    return time.monotonic() - sent, err.decode("utf-8", "replace")


def _reap(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _log_grew(proc: subprocess.Popen[bytes], trace: Path) -> bool:
    """The guest is running: its log holds more than the header and start-up."""
    log = trace / "events.log"
    return log.exists() and log.stat().st_size > 64 * 1024


def _printed_a_line(proc: subprocess.Popen[bytes], trace: Path) -> bool:
    assert proc.stdout is not None
    return proc.stdout.readline() != b""


def _after(seconds: float) -> Callable[[subprocess.Popen[bytes], Path], bool]:
    """The recording has begun (its log exists) and `seconds` have passed since
    (the guest is waiting by then).  Counting from the log, not from the launch,
    keeps a slow start on a loaded machine from being taken for a wait."""
    begun: list[float] = []

    def started(proc: subprocess.Popen[bytes], trace: Path) -> bool:
        if not begun:
            if not (trace / "events.log").exists():
                return False
            begun.append(time.monotonic())
        return time.monotonic() - begun[0] > seconds
    return started


def _assert_clean_interrupt(ttdbg: Ttdbg, status: int, took: float, err: str, trace: Path) -> None:
    assert status == 130, err
    assert took < PROMPT
    assert "recording interrupted at instruction" in err and "Traceback" not in err
    info = ttdbg("info", trace).out
    assert "interrupted" in info and "state:        complete" in info
    rep = ttdbg("replay", "-a", "-q", trace, timeout=60)
    assert rep.status == 130, rep.err


def test_ctrl_c_with_an_always_ready_input(ttdbg: Ttdbg, guest) -> None:
    """`yes | ttdbg record cat_raw >/dev/null`: every read returns at once."""
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        assert yes.stdout is not None
        status, took, err, trace = _record_and_interrupt(ttdbg, guest("cat_raw", "static"), yes.stdout.fileno(),
                                                         _log_grew)
    finally:
        yes.kill()
        yes.wait()
    _assert_clean_interrupt(ttdbg, status, took, err, trace)


def test_ctrl_c_while_blocked_in_read(ttdbg: Ttdbg, guest) -> None:
    read_end, write_end = os.pipe()     # nothing is ever written: the guest blocks in read
    try:
        status, took, err, trace = _record_and_interrupt(ttdbg, guest("stdin_echo", "static"), read_end,
                                                         _after(1.5))
    finally:
        os.close(read_end)
        os.close(write_end)
    _assert_clean_interrupt(ttdbg, status, took, err, trace)


def test_ctrl_c_while_computing_without_system_calls(ttdbg: Ttdbg, guest) -> None:
    status, took, err, trace = _record_and_interrupt(ttdbg, guest("spin_quiet", "static"), subprocess.DEVNULL,
                                                     _printed_a_line)
    _assert_clean_interrupt(ttdbg, status, took, err, trace)


def test_ctrl_c_while_blocked_writing_to_a_full_pipe(ttdbg: Ttdbg, guest) -> None:
    """`yes | ttdbg record cat_raw | (nobody reads)`: the guest's write blocks."""
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    read_end, write_end = os.pipe()
    trace = ttdbg.new_trace()
    try:
        assert yes.stdout is not None
        proc = subprocess.Popen(ttdbg.argv("record", "-o", trace, guest("cat_raw", "static")),
                                stdin=yes.stdout, stdout=write_end, stderr=subprocess.PIPE, env=ttdbg.env,
                                cwd=ttdbg.workdir)
        try:
            started, deadline = _after(2.0), time.monotonic() + 60     # the pipe (64 KiB) is full long before
            while not started(proc, trace):
                assert proc.poll() is None and time.monotonic() < deadline, "the recording did not start"
                time.sleep(0.05)
            took, err = _interrupt(proc)
        finally:
            _reap(proc)
    finally:
        yes.kill()
        yes.wait()
        os.close(read_end)
        os.close(write_end)
    _assert_clean_interrupt(ttdbg, proc.returncode, took, err, trace)
