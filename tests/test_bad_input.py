"""Bad input to the command line: one `ttdbg:` line on stderr, no traceback,
and the exit status documented in ttdbg/cli.py and the README."""

from __future__ import annotations

import os
import random
import struct
from pathlib import Path

import pytest
from harness import Run, Ttdbg

EXIT_USAGE, EXIT_FORMAT, EXIT_TRACE, EXIT_PROGRAM = 2, 65, 66, 127

HEAD = struct.Struct("<8sHHI")      # magic, version, machine, header length
EVHEAD = struct.Struct("<BQI")      # kind, icount, payload length
CRC_SIZE = 4


def assert_one_line_error(run: Run, status: int, *needles: str) -> None:
    assert run.status == status, f"status {run.status}, stderr {run.err!r}"
    assert "Traceback" not in run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("ttdbg: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert run.stdout == b""


def records(log: bytes) -> list[tuple[int, int, int]]:
    """(offset, kind, payload length) of each event record, from the documented framing."""
    _, version, _, n = HEAD.unpack_from(log, 0)
    off = HEAD.size + n + (CRC_SIZE if version >= 2 else 0)     # version 2: the header's CRC
    out = []
    while off < len(log):
        kind, _, plen = EVHEAD.unpack_from(log, off)
        out.append((off, kind, plen))
        off += EVHEAD.size + plen + CRC_SIZE
    assert off == len(log)
    return out


@pytest.fixture
def hello_trace(ttdbg: Ttdbg, guest) -> Path:
    trace, rec = ttdbg.record(guest("hello", "static"))
    assert rec.status == 0
    return trace


# -- programs that cannot be recorded ---------------------------------------------------
def _elf64_header(machine: int) -> bytes:
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)          # 64-bit, little-endian
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x400000, 64, 0, 0, 64, 56, 0, 64, 0, 0)


def _elf32_header() -> bytes:
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)          # 32-bit i386
    return ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0x8048000, 52, 0, 0, 52, 32, 0, 40, 0, 0)


@pytest.mark.parametrize("what", ["missing", "directory", "script", "script-loop", "ppc64", "i386", "empty",
                                  "not-on-path"])
def test_bad_program(ttdbg: Ttdbg, tmp_path: Path, what: str) -> None:
    path = tmp_path / what
    if what == "directory":
        path.mkdir()
    elif what == "script":
        path.write_text("#!/no/such/ttdbg-interpreter\necho hello\n")   # a script runs its interpreter
    elif what == "script-loop":
        path.write_text(f"#!{path}\n")
    elif what == "ppc64":
        path.write_bytes(_elf64_header(21))      # EM_PPC64 (aarch64, 183, and riscv64, 243, are run)
    elif what == "i386":
        path.write_bytes(_elf32_header())
    elif what == "empty":
        path.write_bytes(b"")
    if path.exists():
        path.chmod(0o755)
    program = "no-such-program-ttdbg" if what == "not-on-path" else str(path)
    trace = ttdbg.new_trace()
    run = ttdbg("record", "-o", trace, program)
    needle = {"ppc64": "architecture", "i386": "architecture", "directory": "directory",
              "script": "ttdbg-interpreter", "script-loop": "#!"}.get(what, "")
    assert_one_line_error(run, EXIT_PROGRAM, needle)
    assert not trace.exists(), "a refused program must not leave a trace behind"


def test_record_without_program_is_usage_error(ttdbg: Ttdbg) -> None:
    assert_one_line_error(ttdbg("record"), EXIT_USAGE)


def test_unwritable_output_dir(ttdbg: Ttdbg, guest) -> None:
    assert_one_line_error(ttdbg("record", "-o", "/proc/foo", guest("hello", "static")), EXIT_TRACE, "/proc/foo")


def test_unwritable_replay_output_file(ttdbg: Ttdbg, hello_trace: Path) -> None:
    assert_one_line_error(ttdbg("replay", "-a", "--output", "/proc/foo/out.txt", hello_trace), EXIT_TRACE)


# -- traces that cannot be replayed -------------------------------------------------------
@pytest.mark.parametrize("command", [["replay", "-a"], ["info"], ["dump"]])
def test_missing_trace_dir(ttdbg: Ttdbg, tmp_path: Path, command: list[str]) -> None:
    assert_one_line_error(ttdbg(*command, tmp_path / "nope"), EXIT_TRACE, "nope")


def test_no_latest_trace(ttdbg: Ttdbg) -> None:
    assert_one_line_error(ttdbg("replay", "-a"), EXIT_TRACE, "latest")


def test_directory_that_is_not_a_trace(ttdbg: Ttdbg, tmp_path: Path) -> None:
    assert_one_line_error(ttdbg("replay", "-a", tmp_path), EXIT_TRACE)


def test_corrupt_trace(ttdbg: Ttdbg, hello_trace: Path) -> None:
    log = hello_trace / "events.log"
    data = bytearray(log.read_bytes())
    recs = [r for r in records(bytes(data)) if r[2] > 0]
    off, _, plen = recs[len(recs) // 2]                  # a record in the middle
    data[off + EVHEAD.size + plen // 2] ^= 0x55          # flip a payload byte
    log.write_bytes(bytes(data))
    for command in (["replay", "-a"], ["info"], ["dump"]):
        assert_one_line_error(ttdbg(*command, hello_trace), EXIT_FORMAT, "corrupt")


def test_corrupt_record_header(ttdbg: Ttdbg, hello_trace: Path) -> None:
    log = hello_trace / "events.log"
    data = bytearray(log.read_bytes())
    off, _, _ = records(bytes(data))[2]
    data[off] = 0xEE                                      # no such event kind
    log.write_bytes(bytes(data))
    assert_one_line_error(ttdbg("replay", "-a", hello_trace), EXIT_FORMAT, "corrupt")


@pytest.mark.parametrize("content", [b"", b"TTDBG", os.urandom(64), random.Random(7).randbytes(5000)],
                         ids=["empty", "short", "random64", "random5000"])
def test_foreign_trace(ttdbg: Ttdbg, hello_trace: Path, content: bytes) -> None:
    (hello_trace / "events.log").write_bytes(content)
    assert_one_line_error(ttdbg("replay", "-a", hello_trace), EXIT_FORMAT)
    assert_one_line_error(ttdbg("info", hello_trace), EXIT_FORMAT)


def test_newer_log_version(ttdbg: Ttdbg, hello_trace: Path) -> None:
    log = hello_trace / "events.log"
    data = bytearray(log.read_bytes())
    magic, version, machine, n = HEAD.unpack_from(data, 0)
    assert magic == b"TTDBGLOG"
    struct.pack_into("<H", data, 8, version + 1)
    log.write_bytes(bytes(data))
    assert_one_line_error(ttdbg("replay", "-a", hello_trace), EXIT_FORMAT, "newer")
    assert_one_line_error(ttdbg("info", hello_trace), EXIT_FORMAT, "newer")


def test_captured_file_deleted_from_trace(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("captured content\n")
    trace, rec = ttdbg.record(guest("readdata", "static"), str(data))
    assert rec.status == 0
    opens = [line for line in ttdbg("dump", "--kind", "file_open", trace).out.splitlines() if "data.txt" in line]
    assert len(opens) == 1
    prefix = opens[0].split("sha256=")[1].split()[0]
    (captured,) = [p for p in (trace / "files").iterdir() if p.name.startswith(prefix)]
    captured.unlink()
    assert_one_line_error(ttdbg("replay", "-a", trace), EXIT_FORMAT, "missing")


def test_captured_file_altered_in_trace(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("captured content\n")
    trace, _ = ttdbg.record(guest("readdata", "static"), str(data))
    for p in (trace / "files").iterdir():
        if p.read_bytes() == b"captured content\n":
            p.write_bytes(b"captured c0ntent\n")
    assert_one_line_error(ttdbg("replay", "-a", trace), EXIT_FORMAT, "corrupt")


def test_program_deleted_from_trace(ttdbg: Ttdbg, hello_trace: Path) -> None:
    for p in (hello_trace / "files").iterdir():
        p.unlink()
    assert_one_line_error(ttdbg("replay", "-a", hello_trace), EXIT_FORMAT, "missing")
