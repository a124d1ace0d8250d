"""Record and replay real programs end to end (issue 2).

Each guest (tests/guests/*.c) is built as static glibc, static musl and
dynamic PIE; `ttdbg` runs as a subprocess, exactly as a user runs it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import Run, Ttdbg

FAULTS = {  # argv[1] of faults.c -> the fatal signal
    "segv": signal.SIGSEGV, "abort": signal.SIGABRT, "term": signal.SIGTERM,
    "usr1": signal.SIGUSR1, "div0": signal.SIGFPE, "ill": signal.SIGILL,
}


def assert_same_run(actual: Run, expected: Run, what: str) -> None:
    assert actual.stdout == expected.stdout, f"{what}: stdout differs"
    assert actual.stderr == expected.stderr, f"{what}: stderr differs"
    assert actual.status == expected.status, f"{what}: status {actual.status} != {expected.status}"


def dump_lines(ttdbg: Ttdbg, trace: Path, *args: str) -> list[str]:
    run = ttdbg("dump", *args, trace)
    assert run.status == 0, run.err
    return run.out.splitlines()


DUMP_LINE = re.compile(r"^\s*([\d,]+) #(\d+)\s+([A-Z_]+)\b")


def parse_dump(lines: list[str]) -> list[tuple[int, int, str]]:
    events = []
    for line in lines:
        m = DUMP_LINE.match(line)
        assert m, f"unexpected dump line {line!r}"
        events.append((int(m.group(1).replace(",", "")), int(m.group(2)), m.group(3)))
    return events


# -- deterministic programs: record == native, replay == record ---------------------------
DETERMINISTIC = {
    "hello": (["7", "two words", "ünïcode"], None),
    "stdin_echo": ([], b"first line\nsecond line\nno newline at the end"),
    "mallocs": ([], None),
    "pipes": ([], None),
    "faults-segv": (["segv"], None),
    "faults-abort": (["abort"], None),
    "hlt": ([], None),            # privileged in user mode: SIGSEGV, as natively
    "sysmisc": (["/tmp/ttdbg-test-sysmisc.tmp"], None),   # statfs, xattr, sendfile, mincore, ...
    "readiness": ([], b"hello\n"),    # poll, ppoll, select, pselect6
    "sighandlers": ([], None),         # handlers for raise/kill, SIGSEGV/SIGFPE, sigaltstack
    "startregs": ([], None),           # RFLAGS (IF), x87 control word, MXCSR, segment selectors
    "mapoffsets": ([], None),          # file offsets in /proc/self/maps through mprotect and mremap
}


@pytest.mark.parametrize("case", sorted(DETERMINISTIC))
def test_record_matches_native_and_replay_matches_record(ttdbg: Ttdbg, guest, flavour: str, case: str) -> None:
    args, stdin = DETERMINISTIC[case]
    program = guest(case.split("-")[0], flavour)
    native = ttdbg.native(program, *args, stdin=stdin)
    trace, rec, rep = ttdbg.record_replay(program, *args, stdin=stdin)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def test_hello_output(ttdbg: Ttdbg, guest) -> None:
    _, rec = ttdbg.record(guest("hello", "static"), "42", "x y")
    assert rec.status == 42
    assert rec.out.splitlines() == ["hello from the guest", "argv[0] = (program)", "argv[1] = 42",
                                    "argv[2] = x y", "TTDBG_GREETING = bonjour"]
    assert rec.err == "a line on stderr\n"


def test_file_io_matches_native(ttdbg: Ttdbg, guest, flavour: str, tmp_path: Path) -> None:
    program = guest("fileio", flavour)
    listing = tmp_path / "listing"
    listing.mkdir()
    for name in ("beta", "alpha", "gamma"):
        (listing / name).write_text(name)
    scratch = tmp_path / "scratch.txt"
    native = ttdbg.native(program, str(scratch), str(listing))
    assert native.status == 0, native.err
    assert not scratch.exists()
    trace, rec, rep = ttdbg.record_replay(program, str(scratch), str(listing))
    assert_same_run(rec, native, "record vs native")
    assert "3 entries: alpha beta gamma" in rec.out
    assert not scratch.exists()
    assert_same_run(rep, rec, "replay vs record")
    assert not scratch.exists(), "replay must not touch the host file system"


def test_stdin_replays_without_input(ttdbg: Ttdbg, guest, flavour: str) -> None:
    program = guest("stdin_echo", flavour)
    trace, rec = ttdbg.record(program, stdin=b"alpha\nbeta\n")
    assert rec.out == "1: ALPHA\n2: BETA\nread 2 lines\n"
    # stdin is /dev/null ...
    replayed = subprocess.run(ttdbg.argv("replay", "-a", trace), stdin=subprocess.DEVNULL,
                              capture_output=True, env=ttdbg.env, timeout=60)
    assert (replayed.returncode, replayed.stdout, replayed.stderr) == (0, rec.stdout, rec.stderr)
    # ... or closed altogether.
    closed = subprocess.run(["sh", "-c", 'exec "$@" <&-', "sh", *ttdbg.argv("replay", "-a", trace)],
                            capture_output=True, env=ttdbg.env, timeout=60)
    assert (closed.returncode, closed.stdout, closed.stderr) == (0, rec.stdout, rec.stderr)


def test_clock_and_random_replay_identically_but_differ_between_recordings(
        ttdbg: Ttdbg, guest, flavour: str) -> None:
    program = guest("clockrand", flavour)
    first, rec1, rep1 = ttdbg.record_replay(program)
    second, rec2, rep2 = ttdbg.record_replay(program)
    assert rec1.status == rec2.status == 0
    assert_same_run(rep1, rec1, "first replay")
    assert_same_run(rep2, rec2, "second replay")
    lines1, lines2 = rec1.out.splitlines(), rec2.out.splitlines()
    keys = [line.split()[0] for line in lines1]
    assert keys == ["realtime", "monotonic", "timeofday", "time", "getrandom", "rdtsc", "rdrand"]
    for a, b in zip(lines1, lines2, strict=True):
        if a.startswith("time "):
            continue            # whole seconds: may well be equal
        assert a != b, f"two recordings agree on {a!r}"
    kinds = {kind for _, _, kind in parse_dump(dump_lines(ttdbg, first))}
    assert {"CLOCK", "RANDOM"} <= kinds
    rdrand = dump_lines(ttdbg, first, "--kind", "random")
    assert any("rdrand" in line for line in rdrand)
    assert any("getrandom" in line for line in rdrand)


def test_trace_survives_deleting_the_file_it_read(ttdbg: Ttdbg, guest, flavour: str, tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_bytes(b"first line of data\n" + bytes(range(256)) * 40)
    program = guest("readdata", flavour)
    trace, rec = ttdbg.record(program, str(data))
    assert rec.status == 0 and "first 'first line of data'" in rec.out
    data.unlink()
    rep = ttdbg.replay(trace)
    assert_same_run(rep, rec, "replay after deleting the data file")


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_fault_status_and_exception_event(ttdbg: Ttdbg, guest, flavour: str, kind: str) -> None:
    signum = FAULTS[kind]
    program = guest("faults", flavour)
    trace, rec = ttdbg.record(program, kind)
    assert rec.status == 128 + signum, rec.err
    assert rec.out == f"about to {kind}\n"
    assert "still alive" not in rec.out
    events = parse_dump(dump_lines(ttdbg, trace))
    exceptions = [e for e in events if e[2] == "EXCEPTION"]
    assert len(exceptions) == 1
    exc_icount = exceptions[0][0]
    assert [e[2] for e in events[-2:]] == ["SHUTDOWN", "END"]
    assert events[-2][0] == exc_icount
    line = dump_lines(ttdbg, trace, "--kind", "exception")[0]
    assert signal.Signals(signum).name in line
    rep = ttdbg.replay(trace, "--stats")
    assert rep.status == rec.status and rep.stdout == rec.stdout
    m = re.search(r"replayed ([\d,]+) instructions", rep.err)
    assert m, rep.err
    assert int(m.group(1).replace(",", "")) == exc_icount


def test_proc_self_maps_is_the_guest_address_space(ttdbg: Ttdbg, guest, flavour: str) -> None:
    program = guest("procmaps", flavour)
    trace, rec, rep = ttdbg.record_replay(program)
    assert rec.status == 0, rec.err
    assert_same_run(rep, rec, "replay vs record")
    lines = rec.out.splitlines()
    assert any(line.endswith("[stack]") for line in lines), rec.out
    assert any(line.endswith(str(program)) and " r-xp " in line for line in lines), rec.out
    assert ("libc.so.6" in rec.out) == (flavour == "dynamic"), rec.out
    assert "not emulated" not in rec.err


def test_unsupported_syscall_warns_once(ttdbg: Ttdbg, guest, flavour: str) -> None:
    program = guest("unsupported", flavour)
    trace, rec, rep = ttdbg.record_replay(program)
    assert rec.status == 0
    assert rec.out == "io_setup -> -1 errno 38 (Function not implemented)\n" * 2
    warnings = [line for line in rec.err.splitlines() if "io_setup" in line]
    assert len(warnings) == 1, rec.err
    assert warnings[0].startswith("ttdbg: warning: unsupported system call io_setup")
    assert rep.stdout == rec.stdout and rep.status == 0


# -- info, dump, and the replay output options --------------------------------------
def test_info_and_dump(ttdbg: Ttdbg, guest) -> None:
    program = guest("stdin_echo", "dynamic")
    trace, rec = ttdbg.record(program, "arg1", stdin=b"some input\n")
    info = ttdbg("info", trace)
    assert info.status == 0 and info.err == ""
    fields = dict(line.split(":", 1) for line in info.out.splitlines() if not line.startswith("  "))
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert fields["trace"] == str(trace)
    assert fields["program"] == str(program)
    assert fields["arguments"] == f"{program} arg1"
    assert fields["linking"].startswith("dynamic (")
    assert fields["state"] == "complete"
    assert fields["ended"].endswith("(exit status 0)")
    assert "log version" in fields
    counts = {line.split()[0]: int(line.split()[1].replace(",", ""))
              for line in info.out.splitlines() if line.startswith("  ")}
    assert counts["char_read"] >= 2 and counts["char_write"] >= 1 and counts["file_open"] >= 1

    events = parse_dump(dump_lines(ttdbg, trace))
    assert [i for _, i, _ in events] == list(range(len(events)))
    icounts = [ic for ic, _, _ in events]
    assert icounts == sorted(icounts)
    assert events[-1][2] == "END" and events[-2][2] == "SHUTDOWN"
    assert int(fields["events"].replace(",", "")) == len(events)
    assert int(fields["instructions"].replace(",", "")) == icounts[-1]
    for kind, n in counts.items():
        assert sum(1 for e in events if e[2].lower() == kind) == n
    reads = dump_lines(ttdbg, trace, "--kind", "char_read")
    assert reads and all("CHAR_READ" in line for line in reads)
    assert any("some input" in line for line in reads)
    bad = ttdbg("dump", "--kind", "nonsense", trace)
    assert bad.status == 2 and bad.err.startswith("ttdbg: unknown event kind")


def test_replay_output_file_and_quiet(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    trace, rec = ttdbg.record(guest("hello", "static"), "3")
    assert rec.status == 3
    out = tmp_path / "replayed.txt"
    to_file = ttdbg.replay(trace, "--output", str(out))
    assert to_file.status == 3 and to_file.stdout == b"" and to_file.stderr == b""
    # Both streams go to FILE in the order the program wrote them (stderr is unbuffered).
    assert out.read_bytes() == rec.stderr + rec.stdout
    quiet = ttdbg.replay(trace, "--quiet")
    assert (quiet.status, quiet.stdout, quiet.stderr) == (3, b"", b"")


def test_record_quiet_and_trace_location_message(ttdbg: Ttdbg, guest) -> None:
    trace = ttdbg.new_trace()
    loud = ttdbg("record", "-o", trace, guest("hello", "static"))
    assert loud.err.splitlines()[0] == f"ttdbg: saving execution to trace directory `{trace}'"
    _, quiet = ttdbg.record(guest("hello", "static"))
    assert quiet.err == "a line on stderr\n"


def test_default_trace_dir_and_latest_link(ttdbg: Ttdbg, guest) -> None:
    program = guest("hello", "static")
    first = ttdbg("record", program, "1")
    second = ttdbg("record", program, "2")
    assert (first.status, second.status) == (1, 2)
    root = ttdbg.trace_root
    assert (root / "hello.static-0" / "events.log").is_file()
    assert (root / "hello.static-1" / "events.log").is_file()
    latest = root / "latest-trace"
    assert latest.is_symlink() and os.readlink(latest) == "hello.static-1"
    rep = ttdbg("replay", "-a")
    assert rep.status == 2 and rep.stdout == second.stdout
    info = ttdbg("info")
    assert str(root / "hello.static-1") in info.out


def test_refuses_to_overwrite_a_trace(ttdbg: Ttdbg, guest) -> None:
    trace, first = ttdbg.record(guest("hello", "static"), "5")
    before = (trace / "events.log").read_bytes()
    again = ttdbg("record", "-o", trace, guest("hello", "static"), "6")
    assert again.status == 66
    assert again.err.startswith("ttdbg: ") and "--force" in again.err and "Traceback" not in again.err
    assert (trace / "events.log").read_bytes() == before
    assert ttdbg.replay(trace).status == 5
    forced = ttdbg("record", "-q", "--force", "-o", trace, guest("hello", "static"), "6")
    assert forced.status == 6
    assert ttdbg.replay(trace).status == 6


# -- killed and interrupted recordings ----------------------------------------------
def test_truncated_log_replays_to_last_complete_event(ttdbg: Ttdbg, guest) -> None:
    trace, rec = ttdbg.record(guest("spin", "static"), "40")
    assert rec.status == 0
    log = trace / "events.log"
    data = log.read_bytes()
    events = parse_dump(dump_lines(ttdbg, trace))
    # Cut in the middle of the 40th CHAR_WRITE record, as a SIGKILL could.
    writes = [e for e in events if e[2] == "CHAR_WRITE"]
    cut_event = writes[20]
    # Find the byte offset of that record by re-writing the log shorter until dump agrees.
    n = len(data)
    lo, hi = 0, n
    while lo < hi:                        # largest prefix holding fewer than cut_event+1 events
        mid = (lo + hi + 1) // 2
        log.write_bytes(data[:mid])
        count = len([line for line in dump_lines(ttdbg, trace) if DUMP_LINE.match(line)])
        if count <= cut_event[1]:
            lo = mid
        else:
            hi = mid - 1
    log.write_bytes(data[:lo - 3])        # the record of event cut_event is torn
    dump = dump_lines(ttdbg, trace)
    assert dump[-1] == "(the log ends with a torn record: the recording was killed)"
    assert len(parse_dump(dump[:-1])) == cut_event[1]
    info = ttdbg("info", trace)
    assert "TRUNCATED" in info.out
    rep = ttdbg.replay(trace)
    assert rep.status == 74
    assert rep.err.startswith("ttdbg: note:") and "truncated" in rep.err and "Traceback" not in rep.err
    assert rec.stdout.startswith(rep.stdout)
    assert rep.out.count("\n") == 20


def _interrupt_recording(ttdbg: Ttdbg, trace: Path, program: Path,
                         stop: Callable[[subprocess.Popen[bytes]], None]) -> tuple[int, bytes, bytes]:
    """Record `program` into `trace`, `stop` it once it has printed 5 lines;
    (exit status, all it printed on stdout, its stderr)."""
    proc = subprocess.Popen(ttdbg.argv("record", "-o", trace, program), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ttdbg.env, cwd=ttdbg.workdir)
    assert proc.stdout is not None
    try:
        got = b""
        deadline = time.monotonic() + 30
        while got.count(b"\n") < 5 and time.monotonic() < deadline:
            got += proc.stdout.read1(4096)
        assert got.count(b"\n") >= 5, "the recording made no progress"
        stop(proc)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, got + out, err


def _kill_after_a_second(proc: subprocess.Popen[bytes]) -> None:
    time.sleep(1.0)
    proc.kill()


def test_sigkilled_recording_replays_up_to_the_kill(ttdbg: Ttdbg, guest) -> None:
    trace = ttdbg.new_trace()
    status, recorded, _ = _interrupt_recording(ttdbg, trace, guest("spin", "static"), _kill_after_a_second)
    assert status == -signal.SIGKILL
    rep = ttdbg.replay(trace)
    assert rep.status == 74, rep.err
    assert "truncated" in rep.err and "Traceback" not in rep.err
    assert rep.stdout and recorded.startswith(rep.stdout)
    assert "TRUNCATED" in ttdbg("info", trace).out


def test_ctrl_c_closes_the_trace_cleanly(ttdbg: Ttdbg, guest) -> None:
    trace = ttdbg.new_trace()
    status, recorded, err = _interrupt_recording(ttdbg, trace, guest("spin", "static"),
                                                 lambda proc: proc.send_signal(signal.SIGINT))
    assert status == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    rep = ttdbg.replay(trace)
    assert rep.status == 130, rep.err
    assert rep.stdout == recorded
    assert "interrupted" in rep.err
    info = ttdbg("info", trace).out
    assert "interrupted" in info and "state:        complete" in info
