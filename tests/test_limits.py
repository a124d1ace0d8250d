"""Resource limits, capabilities, reflink clones and protection keys, against native runs.

tests/guests/limits.c sets RLIMIT_NOFILE low and opens files until EMFILE,
checks the kernel's EINVAL and EPERM rules for setrlimit, sets RLIMIT_STACK
and reads it back in a forked child and after exec (limits are kept per
process), asks capget and makes a capset that changes nothing, tries
FICLONE/FICLONERANGE (made on the host and logged) and probes pkey_alloc
(ENOSYS, quietly).  The recording must print what the native run prints,
with no warning, and the replay what the recording printed.
"""

from __future__ import annotations

from pathlib import Path

from harness import Ttdbg


def test_limits_caps_and_clones_match_native(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    program = guest("limits")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    native = ttdbg.native(program, str(scratch))
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program, str(scratch))
    assert (rec.status, rec.stdout, rec.stderr) == (native.status, native.stdout, native.stderr)
    assert (rep.status, rep.stdout, rep.stderr) == (rec.status, rec.stdout, rec.stderr)
    assert "opened up to fd 11 then Too many open files" in rec.out    # a limit of 12
    assert "after exec stack 16777216" in rec.out


def test_a_script_given_as_the_program_runs_under_its_interpreter(ttdbg: Ttdbg) -> None:
    script = ttdbg.workdir / "hello.sh"
    script.write_text('#!/bin/sh -e\necho "script $0 args $# $1"\n')
    script.chmod(0o755)
    native = ttdbg.native("./hello.sh", "one")
    assert native.out == "script ./hello.sh args 1 one\n"
    trace, rec, rep = ttdbg.record_replay("./hello.sh", "one")
    assert (rec.status, rec.stdout, rec.stderr) == (native.status, native.stdout, native.stderr)
    assert (rep.status, rep.stdout) == (rec.status, rec.stdout)


def test_an_older_log_that_lacks_a_newly_recorded_call_says_so(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    """A trace of log version 3 was recorded when setrlimit was not logged: its replay
    diverges at that call, and the one line says the trace is older than this ttdbg."""
    import struct
    import zlib

    from replay.eventlog import MAGIC, LogWriter, read_log

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    trace, rec = ttdbg.record(guest("limits"), str(scratch))
    log = trace / "events.log"
    contents = read_log(str(log))
    dropped = next(i for i, ev in enumerate(contents.events) if "prlimit64" in ev.describe())
    log.unlink()
    w = LogWriter(str(log), contents.header)
    for i, ev in enumerate(contents.events):
        if i != dropped:
            w.append(ev)
    w.close()
    raw = bytearray(log.read_bytes())
    struct.pack_into("<H", raw, len(MAGIC), 3)
    end = 16 + struct.unpack_from("<I", raw, 12)[0]          # the header: 8s H H I, then its JSON
    struct.pack_into("<I", raw, end, zlib.crc32(raw[:end]))
    log.write_bytes(bytes(raw))
    rep = ttdbg("replay", "-a", "-q", trace, timeout=60)
    assert rep.status == 75, rep.err
    assert "replay diverged" in rep.err and "older ttdbg (log version 3)" in rep.err, rep.err
    assert len(rep.err.strip().splitlines()) == 1, rep.err
