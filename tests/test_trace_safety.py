"""Traces travel: a trace from a stranger, a full disk, a second recording into
the same directory.  Each test here is a regression test for one way a trace
could hurt its reader or lose its writer's data (README "Trace format",
"Exit statuses")."""

from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest
from harness import Ttdbg
from test_bad_input import CRC_SIZE, EVHEAD, HEAD, assert_one_line_error, records

from replay.errors import LogFormatError
from replay.eventlog import read_log

EXIT_FORMAT, EXIT_TRACE, EXIT_TRUNCATED, EXIT_DISK_FULL = 65, 66, 74, 73
COMMANDS = (["replay", "-a"], ["info"], ["dump"])


@pytest.fixture(scope="session")
def recorded_hello(tmp_path_factory: pytest.TempPathFactory, guest) -> Path:
    """`hello 7`, recorded once per session; tests get a copy (hello_trace)."""
    base = tmp_path_factory.mktemp("hello-trace")
    (base / "work").mkdir()
    trace, rec = Ttdbg(base / "traces", base / "work").record(guest("hello", "static"), "7")
    assert rec.status == 7, rec.err
    return trace


@pytest.fixture
def hello_trace(recorded_hello: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(recorded_hello, tmp_path / "hello-trace", symlinks=True))


def split_header(log: bytes) -> tuple[int, int, dict, bytes]:
    """(version, machine, header JSON, the events) of a log as ttdbg writes it (version 2 and later)."""
    magic, version, machine, n = HEAD.unpack_from(log, 0)
    assert magic == b"TTDBGLOG" and version >= 2
    blob = log[HEAD.size:HEAD.size + n]
    (crc,) = struct.unpack_from("<I", log, HEAD.size + n)
    assert crc == zlib.crc32(log[:HEAD.size + n]), "the header's CRC-32 covers magic to JSON"
    return version, machine, json.loads(blob), log[HEAD.size + n + CRC_SIZE:]


def join_header(machine: int, blob: bytes, events: bytes, version: int = 2) -> bytes:
    """A log with this header, its CRC made valid (version 2) or absent (version 1)."""
    head = HEAD.pack(b"TTDBGLOG", version, machine, len(blob)) + blob
    return head + (struct.pack("<I", zlib.crc32(head)) if version >= 2 else b"") + events


# -- permissions and the environment --------------------------------------------------------
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027], ids=lambda m: f"umask-{m:03o}")
def test_trace_is_private(ttdbg: Ttdbg, guest, tmp_path: Path, umask: int) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the password\n")
    secret.chmod(0o600)
    old = os.umask(umask)
    try:
        trace, rec = ttdbg.record(guest("readdata", "static"), str(secret))
    finally:
        os.umask(old)
    assert rec.status == 0, rec.err
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in [trace, *trace.rglob("*")]}
    for path, mode in modes.items():
        want = 0o700 if path.is_dir() else 0o600
        assert mode == want & ~umask, f"{path}: {mode:o}"
    assert any(p.read_bytes() == b"the password\n" for p in (trace / "files").iterdir())


def test_no_env_keeps_the_environment_out_and_replays_exactly(ttdbg: Ttdbg, guest) -> None:
    ttdbg.env["TTDBG_SECRET_TOKEN"] = "hunter2-do-not-store"
    trace = ttdbg.new_trace()
    rec = ttdbg("record", "-q", "--no-env", "-o", trace, guest("hello", "static"))
    assert rec.status == 0, rec.err
    assert "TTDBG_GREETING = (unset)" in rec.out, "the program runs with an empty environment"
    for path in trace.rglob("*"):
        if path.is_file():
            assert b"hunter2" not in path.read_bytes(), path
    assert read_log(str(trace / "events.log")).header.env == ()
    rep = ttdbg.replay(trace)
    assert (rep.status, rep.stdout, rep.stderr) == (rec.status, rec.stdout, rec.stderr)
    # Without --no-env the environment is recorded (and replayed), as documented.
    trace2, rec2 = ttdbg.record(guest("hello", "static"))
    assert "TTDBG_GREETING = bonjour" in rec2.out
    assert "TTDBG_SECRET_TOKEN=hunter2-do-not-store" in read_log(str(trace2 / "events.log")).header.env


# -- --force and concurrent recordings ---------------------------------------------------------
def test_force_refuses_a_directory_that_only_names_a_log(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "events.log").write_text("my own notes, not a trace\n")
    (precious / "thesis.tex").write_text("\\documentclass{book}\n")
    run = ttdbg("record", "-q", "--force", "-o", precious, guest("hello", "static"))
    assert_one_line_error(run, EXIT_TRACE, "not a ttdbg trace")
    assert sorted(p.name for p in precious.iterdir()) == ["events.log", "thesis.tex"]


def test_force_replaces_a_real_trace(ttdbg: Ttdbg, guest, hello_trace: Path) -> None:
    run = ttdbg("record", "-q", "--force", "-o", hello_trace, guest("hello", "static"), "3")
    assert run.status == 3, run.err
    assert ttdbg.replay(hello_trace).status == 3


@pytest.mark.parametrize("force", [True, False], ids=["force", "no-force"])
def test_second_recording_into_the_same_directory_fails_clearly(ttdbg: Ttdbg, guest, force: bool) -> None:
    trace = ttdbg.new_trace()
    first = subprocess.Popen(ttdbg.argv("record", "-q", "-o", trace, guest("stdin_echo", "static")),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=ttdbg.env, cwd=ttdbg.workdir)
    try:
        first.stdin.write(b"one\n")
        first.stdin.flush()
        deadline = time.monotonic() + 60
        while not (trace / "events.log").exists():          # the first is recording now
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = ttdbg("record", "-q", *(["--force"] if force else []), "-o", trace, guest("hello", "static"))
        assert_one_line_error(second, EXIT_TRACE, str(trace))
        if force:
            assert "being recorded" in second.err
        first.stdin.write(b"two\n")
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert out == b"1: ONE\n2: TWO\nread 2 lines\n"
    rep = ttdbg.replay(trace)
    assert rep.status == 0 and rep.stdout == b"1: ONE\n2: TWO\nread 2 lines\n"


def test_force_onto_an_undeletable_directory(ttdbg: Ttdbg, guest, hello_trace: Path) -> None:
    argv = ttdbg.argv("record", "-q", "--force", "-o", hello_trace, guest("hello", "static"))
    if os.geteuid() == 0:       # root deletes anything: make it a read-only bind mount
        script = ('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"')
        probe = subprocess.run(["unshare", "-m", "sh", "-c", script, str(hello_trace), "true"],
                               capture_output=True)
        if probe.returncode != 0:
            pytest.skip(f"cannot make a read-only bind mount here: {probe.stderr.decode().strip()}")
        argv = ["unshare", "-m", "sh", "-c", script, str(hello_trace), *argv]
    else:
        (hello_trace / "files").chmod(0o500)
    proc = subprocess.run(argv, capture_output=True, env=ttdbg.env, cwd=ttdbg.workdir, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == EXIT_TRACE, err
    assert "Traceback" not in err and len(err.splitlines()) == 1 and err.startswith("ttdbg: cannot replace")
    (hello_trace / "files").chmod(0o700)


# -- the header ----------------------------------------------------------------------------------
def test_header_bit_flips_are_corruption(ttdbg: Ttdbg, hello_trace: Path) -> None:
    log = hello_trace / "events.log"
    good = log.read_bytes()
    at = good.index(b'"7"')                      # argv[1] "7" -> "5": two bit flips
    for i, (pos, bits) in enumerate(((at + 1, 0x02), (at + 1, 0x06), (HEAD.size + 3, 0x01), (10, 0x01))):
        bad = bytearray(good)
        bad[pos] ^= bits
        log.write_bytes(bytes(bad))
        if i == 0:
            for command in COMMANDS:
                assert_one_line_error(ttdbg(*command, hello_trace), EXIT_FORMAT, "corrupt")
        else:
            with pytest.raises(LogFormatError, match="corrupt header"):
                read_log(str(log))


BAD_HEADERS = {
    "argv-not-list": lambda d: d.update(argv="prog"),
    "argv-int": lambda d: d.update(argv=["prog", 7]),
    "env-none": lambda d: d.update(env=None),
    "env-dict": lambda d: d.update(env={"A": "1"}),
    "pid-str": lambda d: d.update(pid="12"),
    "pid-float": lambda d: d.update(pid=1.5),
    "pid-huge": lambda d: d.update(pid=10**30),
    "pid-bool": lambda d: d.update(pid=True),
    "no-program": lambda d: d.pop("program"),
    "program-relative": lambda d: d.update(program="prog"),
    "program-list": lambda d: d.update(program=["/bin/x"]),
    "sha-traversal": lambda d: d.update(program_sha256="../../../../dev/zero"),
    "sha-upper": lambda d: d.update(program_sha256=d["program_sha256"].upper()),
    "interp-without-sha": lambda d: d.update(interpreter="/lib64/ld-linux-x86-64.so.2"),
    "interp-sha-dev": lambda d: d.update(interpreter="/x", interpreter_sha256="/dev/zero"),
    "extra-list": lambda d: d.update(extra=[1]),
    "ids-short": lambda d: d["extra"].update(ids=[0]),
    "ids-str": lambda d: d["extra"].update(ids=["0", 0, 0, 0]),
    "interval-zero": lambda d: d["extra"].update(checkpoint_interval=0),
    "surrogate": lambda d: d.update(argv=["\ud800"]),
    "nul": lambda d: d.update(cwd="/tmp\0/x"),
    "cwd-none": lambda d: d.update(cwd=None),
    "state-hash-int": lambda d: d["extra"].update(state_hash=3),
    "arg-over-128k": lambda d: d.update(argv=["prog", "a" * 140_000]),
    "env-over-stack": lambda d: d.update(env=[f"X{i}=" + "a" * 100_000 for i in range(70)]),
    "env-many-empty": lambda d: d.update(env=[""] * 1_000_000),
}


@pytest.mark.parametrize("name", sorted(BAD_HEADERS))
def test_impossible_header_fields_are_corruption(hello_trace: Path, name: str) -> None:
    log = hello_trace / "events.log"
    _, machine, header, events = split_header(log.read_bytes())
    BAD_HEADERS[name](header)
    log.write_bytes(join_header(machine, json.dumps(header).encode(), events))
    with pytest.raises(LogFormatError, match="corrupt header"):
        read_log(str(log))


@pytest.mark.parametrize("what", ["machine", "deep-json", "not-object", "not-utf8", "env-over-stack"])
def test_impossible_headers_exit_65(ttdbg: Ttdbg, hello_trace: Path, what: str) -> None:
    log = hello_trace / "events.log"
    _, machine, header, events = split_header(log.read_bytes())
    blob = json.dumps(header).encode()
    if what == "machine":
        machine = 21            # EM_PPC64: not an architecture ttdbg records
    elif what == "deep-json":
        blob = b"[" * 200_000 + b"]" * 200_000
    elif what == "env-over-stack":        # more than the guest's 8 MiB stack could take
        blob = json.dumps({**header, "env": [f"X{i}=" + "a" * 100_000 for i in range(70)]}).encode()
    elif what == "not-object":
        blob = b"[1, 2, 3]"
    else:
        blob = b'{"argv": ["\xff\xfe"]}'
    log.write_bytes(join_header(machine, blob, events))
    for command in COMMANDS:
        assert_one_line_error(ttdbg(*command, hello_trace), EXIT_FORMAT, "corrupt header")


def test_version_1_logs_are_still_read(ttdbg: Ttdbg, hello_trace: Path) -> None:
    log = hello_trace / "events.log"
    _, machine, header, events = split_header(log.read_bytes())
    log.write_bytes(join_header(machine, json.dumps(header, sort_keys=True).encode(), events, version=1))
    assert "log version:  1" in ttdbg("info", hello_trace).out
    rep = ttdbg.replay(hello_trace)
    assert rep.status == 7 and b"argv[1] = 7" in rep.stdout


# -- the events ------------------------------------------------------------------------------------
def test_damaged_length_mid_log_is_corruption_not_truncation(ttdbg: Ttdbg, hello_trace: Path) -> None:
    log = hello_trace / "events.log"
    data = bytearray(log.read_bytes())
    recs = records(bytes(data))
    off, _, _ = recs[len(recs) // 2]
    struct.pack_into("<I", data, off + 9, len(data))       # the length now runs past the end of the file
    log.write_bytes(bytes(data))
    for command in COMMANDS:
        assert_one_line_error(ttdbg(*command, hello_trace), EXIT_FORMAT, "corrupt")


def test_torn_last_record_is_still_truncation(ttdbg: Ttdbg, hello_trace: Path) -> None:
    log = hello_trace / "events.log"
    data = log.read_bytes()
    off, _, _ = records(data)[-2]                       # the SHUTDOWN, torn: END never written
    log.write_bytes(data[:off + EVHEAD.size + 2])
    assert ttdbg.replay(hello_trace).status == EXIT_TRUNCATED
    assert "TRUNCATED" in ttdbg("info", hello_trace).out


# -- files that are not files ----------------------------------------------------------------------
def _captured(trace: Path) -> list[Path]:
    return sorted((trace / "files").iterdir())


@pytest.mark.parametrize("where", ["log", "captured"])
def test_a_fifo_in_the_trace_does_not_block(ttdbg: Ttdbg, hello_trace: Path, where: str) -> None:
    target = hello_trace / "events.log" if where == "log" else _captured(hello_trace)[0]
    target.unlink()
    os.mkfifo(target)
    commands = COMMANDS if where == "log" else (["replay", "-a"],)
    for command in commands:
        assert_one_line_error(ttdbg(*command, hello_trace, timeout=30), EXIT_FORMAT, "not a regular file")


@pytest.mark.parametrize("link", ["file-to-dev-zero", "files-dir-to-dev", "log-to-dev-zero"])
def test_symlinks_out_of_the_trace_are_refused(ttdbg: Ttdbg, hello_trace: Path, tmp_path: Path,
                                               link: str) -> None:
    if link == "file-to-dev-zero":
        victim = _captured(hello_trace)[0]
        victim.unlink()
        victim.symlink_to("/dev/zero")
    elif link == "files-dir-to-dev":
        # files/<sha> names a file in the real directory the link points to
        outside = tmp_path / "outside"
        outside.mkdir()
        for p in _captured(hello_trace):
            shutil.move(p, outside / p.name)
        (hello_trace / "files").rmdir()
        (hello_trace / "files").symlink_to(outside)
    else:
        (hello_trace / "events.log").unlink()
        (hello_trace / "events.log").symlink_to("/dev/zero")
    commands = (["replay", "-a"],) if link != "log-to-dev-zero" else COMMANDS
    for command in commands:
        run = ttdbg(*command, hello_trace, timeout=30)
        assert_one_line_error(run, EXIT_FORMAT)


# -- a full disk ----------------------------------------------------------------------------------
def _in_small_tmpfs(size_kib: int, script: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["unshare", "-m", "sh", "-c",
                           f'mount -t tmpfs -o size={size_kib}k ttdbgtest "$0" && {script}', *args],
                          capture_output=True, timeout=300)


@pytest.mark.parametrize("filler", ["log", "captured-file"])
def test_full_disk_while_recording(ttdbg: Ttdbg, guest, tmp_path: Path, filler: str) -> None:
    """The log fills the device (stdin_echo of 5 MB), or a captured file does (readdata of 4 MB)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a real full device needs root (a small tmpfs in a private mount namespace)")
    if _in_small_tmpfs(64, "true", str(tmp_path)).returncode != 0:
        pytest.skip("cannot mount a tmpfs in a private mount namespace here")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if filler == "log":
        program, args = guest("stdin_echo", "static"), []
        (tmp_path / "mnt.in").write_bytes(b"".join(b"line %06d of the input\n" % i for i in range(200_000)))
    else:
        program = guest("readdata", "static")
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(4 << 20))
        args = [str(big)]
        (tmp_path / "mnt.in").write_bytes(b"")
    size_kib = program.stat().st_size // 1024 + 1024                                 # room for ~1 MB more
    trace = mnt / "t"
    script = ('"$@" < "$0.in" > "$0.out" 2> "$0.err"; echo $? > "$0.rc"; '
              'cp -a "$0/t" "$0.copy"; ls -a "$0/t/files" > "$0.files"')
    proc = _in_small_tmpfs(size_kib, script, str(mnt), *ttdbg.argv("record", "-q", "-o", trace, program, *args))
    assert proc.returncode == 0, proc.stderr
    err = (tmp_path / "mnt.err").read_text()
    assert int((tmp_path / "mnt.rc").read_text()) == EXIT_DISK_FULL, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("ttdbg: no space left on ttdbgtest (") and "while recording" in err, err
    assert "the trace is complete up to instruction" in err
    assert not [n for n in (tmp_path / "mnt.files").read_text().split() if n.endswith(".tmp")]
    copy = tmp_path / "mnt.copy"
    info = ttdbg("info", copy)
    assert info.status == 0 and "state:        complete" in info.out, info.out + info.err
    icount = int(err.split("instruction ")[1].split()[0].replace(",", ""))
    rep = ttdbg.replay(copy)
    assert rep.status == 1, rep.err                   # SHUTDOWN "error": the recording stopped there
    assert f"at instruction {icount:,}" in rep.err
    recorded = (tmp_path / "mnt.out").read_bytes()
    assert rep.stdout == recorded, "replay reproduces everything the program printed"
    if filler == "log":
        assert recorded.startswith(b"1: LINE 000000 OF THE INPUT\n")


def test_full_disk_before_recording_leaves_no_trace(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a real full device needs root (a small tmpfs in a private mount namespace)")
    program = guest("hello", "static")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = '"$@" > "$0.out" 2> "$0.err"; echo $? > "$0.rc"; ls -a "$0" > "$0.ls"'
    proc = _in_small_tmpfs(64, script, str(mnt), *ttdbg.argv("record", "-q", "-o", mnt / "t", program))
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a private mount namespace here: {proc.stderr.decode().strip()}")
    err = (tmp_path / "mnt.err").read_text()
    assert int((tmp_path / "mnt.rc").read_text()) == EXIT_DISK_FULL, err
    assert len(err.splitlines()) == 1 and "nothing was recorded" in err, err
    assert (tmp_path / "mnt.ls").read_text().split() == [".", ".."]


def test_info_escapes_control_characters_from_the_header(ttdbg: Ttdbg, hello_trace: Path) -> None:
    log = hello_trace / "events.log"
    _, machine, header, events = split_header(log.read_bytes())
    header["argv"] = ["prog", "\x1b]0;pwned\x07\x1b[2J"]
    header["cwd"] = "/tmp/\x1b[31mred"
    log.write_bytes(join_header(machine, json.dumps(header).encode(), events))
    run = ttdbg("info", hello_trace)
    assert run.status == 0, run.err
    assert "\x1b" not in run.out and "\x07" not in run.out
    assert "\\x1b]0;pwned\\x07" in run.out and "/tmp/\\x1b[31mred" in run.out
