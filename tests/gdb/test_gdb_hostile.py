"""Hostile input on the gdb side: a crafted trace opened with `ttdbg replay`,
addresses at the top of the address space, and ways of starting `ttdbg serve`
that used to end in a traceback."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from gdbtest_support import ttdbg_env

from replay.eventlog import LogWriter, read_log
from replay.events import FileKind, FileOpen
from replay.trace import FILES_DIR, LOG_NAME


def _rewrite(src: Path, dst: Path, *, program: str | None = None, files: dict[str, str] | None = None) -> Path:
    """Copy trace `src` to `dst`, through the project's own log writer, with a changed header
    program and/or extra captured files (path -> digest) before the END event."""
    contents = read_log(str(src / LOG_NAME))
    header = contents.header if program is None else dataclasses.replace(contents.header, program=program)
    dst.mkdir()
    shutil.copytree(src / FILES_DIR, dst / FILES_DIR)
    writer = LogWriter(str(dst / LOG_NAME), header)
    events = list(contents.events)
    end = events.pop()
    for event in events:
        writer.append(event)
    for path, digest in (files or {}).items():
        writer.append(FileOpen(end.icount, path, 0, 3, FileKind.CAPTURED, digest, 1))
    writer.append(end)
    writer.close()
    return dst


def _replay(trace: Path, tmp_path: Path, *gdb_args: str) -> subprocess.CompletedProcess:
    env = ttdbg_env(tmp_path)
    env["TMPDIR"] = str(tmp_path / "tmp")           # where the private sysroot goes
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "ttdbg", "replay", str(trace), "--", "-nx", "-batch", *gdb_args],
        capture_output=True, text=True, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, timeout=120)


def _escape(target: Path) -> str:
    """An absolute path that climbs out of any directory it is joined to, then down to `target`."""
    return "/.." * 12 + str(target)


def test_a_trace_whose_program_path_climbs_out_is_refused(gdb_guest, tmp_path):
    guest = gdb_guest("basic", "static")
    escape = tmp_path / "escape"
    trace = _rewrite(guest.trace, tmp_path / "hostile", program=_escape(escape / "prog"))
    run = _replay(trace, tmp_path, "-ex", "print 1")
    assert run.returncode == 65, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ttdbg: ") and "program" in lines[0], run.stderr
    assert "Traceback" not in run.stderr
    assert not escape.exists()
    assert os.listdir(tmp_path / "tmp") == []              # and nothing left behind


def test_captured_paths_that_climb_out_stay_in_the_sysroot(gdb_guest, tmp_path):
    guest = gdb_guest("basic", "static")
    escape = tmp_path / "escape"
    digest = read_log(str(guest.trace / LOG_NAME)).header.program_sha256
    trace = _rewrite(guest.trace, tmp_path / "hostile", files={
        _escape(escape / "lib" / "libc.so.6"): digest,
        "/lib\nshell touch pwned": digest,
        # once "/x" is a link into the trace, nothing may be made through it
        "/x": digest,
        "/x/y/z": digest,
    })
    run = _replay(trace, tmp_path, "-ex", "break square", "-ex", "continue", "-ex", "print x")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Breakpoint 1, square (x=0)" in out and "$1 = 0" in out     # the session proceeds
    assert not escape.exists()
    assert not (tmp_path / "pwned").exists()
    warnings = [line for line in run.stderr.splitlines() if line.startswith("ttdbg: warning: ")]
    assert any("lib\\nshell" in w for w in warnings), run.stderr
    assert any("/x/y/z" in w for w in warnings), run.stderr
    assert "Traceback" not in run.stderr
    assert os.listdir(tmp_path / "tmp") == []
