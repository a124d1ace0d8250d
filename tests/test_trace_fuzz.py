"""Hostile traces, property-tested: `info`, `dump` and `replay -a` on mutated
copies of small real traces always end cleanly.

Clean means: status 0 (or the program's own status for `replay -a`), or a
documented error status with exactly one `ttdbg:` line on stderr; never an
internal error or a traceback; bounded time; no file created outside the
trace.  Most examples call the CLI's `main()` in-process (a process per
example is too slow for the budget); a few run `python -m ttdbg` as a child
under a time limit and an address-space limit (RLIMIT_AS).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_input import CRC_SIZE, EVHEAD, HEAD

from ttdbg.cli import main

PROGRAM_STATUS = 7                                  # hello 7 / readdata exits 0
ERROR_STATUSES = {65, 66, 74, 75}                   # README "Exit statuses": what a bad trace may give
COMMANDS = (["info"], ["dump"], ["replay", "-a", "--quiet"])
SETTINGS = settings(max_examples=70, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CHILD_TIMEOUT = 30
CHILD_MEMORY = 4 << 30                              # address space a run may add (RLIMIT_AS)


@pytest.fixture(scope="session")
def small_traces(tmp_path_factory: pytest.TempPathFactory, guest) -> dict[str, Path]:
    """Two small real traces, recorded once: `hello 7` and `readdata` of a captured file."""
    from harness import Ttdbg

    base = tmp_path_factory.mktemp("fuzz-traces")
    (base / "work").mkdir()
    ttdbg = Ttdbg(base / "traces", base / "work")
    data = base / "data.txt"
    data.write_text("captured content\nsecond line\n")
    hello, rec = ttdbg.record(guest("hello", "static"), str(PROGRAM_STATUS))
    assert rec.status == PROGRAM_STATUS, rec.err
    readdata, rec = ttdbg.record(guest("readdata", "static"), str(data))
    assert rec.status == 0, rec.err
    return {"hello": hello, "readdata": readdata}


# -- the log, as documented in README "Trace format" ------------------------------------------
def split_log(log: bytes) -> tuple[int, bytes, list[tuple[int, int, bytes]]]:
    """(machine, header JSON, [(kind, icount, payload)]) of an intact version-2 log."""
    _, _, machine, n = HEAD.unpack_from(log, 0)
    blob = log[HEAD.size:HEAD.size + n]
    off = HEAD.size + n + CRC_SIZE
    events = []
    while off < len(log):
        kind, icount, plen = EVHEAD.unpack_from(log, off)
        events.append((kind, icount, log[off + EVHEAD.size:off + EVHEAD.size + plen]))
        off += EVHEAD.size + plen + CRC_SIZE
    return machine, blob, events


def join_log(machine: int, blob: bytes, events: list[tuple[int, int, bytes]]) -> bytes:
    """A log with valid checksums: mutations made through this reach the decoders."""
    head = HEAD.pack(b"TTDBGLOG", 2, machine, len(blob)) + blob
    out = [head, struct.pack("<I", zlib.crc32(head))]
    for kind, icount, payload in events:
        rec = EVHEAD.pack(kind, icount, len(payload)) + payload
        out += [rec, struct.pack("<I", zlib.crc32(rec))]
    return b"".join(out)


PLAUSIBLE_WRONG = [None, True, 0, -1, 1.5, 10**30, "", "12", "/", "relative", "../../dev/zero", "/dev/zero",
                   "a" * 64, "A" * 64, "\ud800", "x\0y", [], [1], ["a", 1], [None], ["ok"], {"a": 1}, {},
                   [0, 0, 0], [0, 0, 0, "0"], [[[[[[[[[[[]]]]]]]]]]]]
json_values = st.one_of(st.sampled_from(PLAUSIBLE_WRONG), st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12))
HEADER_KEYS = ["program", "program_sha256", "argv", "env", "cwd", "pid", "interpreter",
               "interpreter_sha256", "extra"]


@st.composite
def log_mutations(draw: st.DrawFn) -> tuple[str, Callable[[bytes], bytes]]:
    """One way to damage a log: raw bytes, or fields with their checksums made valid again."""
    how = draw(st.sampled_from(["flip", "truncate", "length", "header-field", "header-field", "header-field",
                                "header-raw", "payload", "payload", "kind", "icount", "drop", "swap"]))
    a, b = draw(st.integers(0, 1 << 30)), draw(st.integers(0, 255))
    value = draw(json_values)
    key = draw(st.sampled_from(HEADER_KEYS + ["extra.ids", "extra.checkpoint_interval", "extra.state_hash"]))
    payload = draw(st.binary(max_size=40))

    def mutate(log: bytes) -> bytes:
        machine, blob, events = split_log(log)
        i = a % max(len(events), 1)
        if how == "flip":
            raw = bytearray(log)
            raw[a % len(raw)] ^= b or 1
            return bytes(raw)
        if how == "truncate":
            return log[:a % len(log)]
        if how == "length":                         # a damaged length field, checksum left as it was
            raw = bytearray(log)
            off = HEAD.size + len(blob) + CRC_SIZE
            for _kind, _icount, p in events[:i]:
                off += EVHEAD.size + len(p) + CRC_SIZE
            struct.pack_into("<I", raw, off + 9, (a * 7919 + b) & 0xFFFFFFFF)
            return bytes(raw)
        if how == "header-field":
            header = json.loads(blob)
            if key.startswith("extra."):
                if isinstance(header.get("extra"), dict):
                    header["extra"][key[6:]] = value
            else:
                header[key] = value
            return join_log(machine, json.dumps(header).encode(), events)
        if how == "header-raw":
            return join_log(a & 0xFFFF if b & 1 else machine, payload, events)
        if how == "payload":
            kind, icount, p = events[i]
            p = bytearray(p)
            if p and b % 3 == 0:
                p[a % len(p)] ^= b or 1
            elif b % 3 == 1:
                p = p[:a % (len(p) + 1)]
            else:
                p[a % (len(p) + 1):a % (len(p) + 1)] = payload
            events[i] = (kind, icount, bytes(p))
        elif how == "kind":
            kind, icount, p = events[i]
            events[i] = (b % 12, icount, p)
        elif how == "icount":
            kind, icount, p = events[i]
            events[i] = (kind, max(icount + (b - 128) * (a % 1000), 0), p)
        elif how == "drop":
            del events[i]
        elif how == "swap" and len(events) > 1:
            j = (i + 1) % len(events)
            events[i], events[j] = events[j], events[i]
        return join_log(machine, blob, events)

    return how, mutate


@st.composite
def file_mutations(draw: st.DrawFn) -> tuple[str, Callable[[Path], None]]:
    """One way to damage a captured file (or the log's own file)."""
    how = draw(st.sampled_from(["flip", "truncate", "fifo", "dev-zero", "directory", "delete",
                                "log-fifo", "log-dev-zero", "files-symlink", "extra-file"]))
    a, b = draw(st.integers(0, 1 << 30)), draw(st.integers(1, 255))

    def mutate(trace: Path) -> None:
        files = sorted((trace / "files").iterdir())
        victim = files[a % len(files)]
        if how == "flip":
            raw = bytearray(victim.read_bytes())
            raw[a % len(raw)] ^= b
            victim.write_bytes(bytes(raw))
        elif how == "truncate":
            victim.write_bytes(victim.read_bytes()[:a % victim.stat().st_size])
        elif how in ("fifo", "dev-zero", "directory", "delete"):
            victim.unlink()
            if how == "fifo":
                os.mkfifo(victim)
            elif how == "dev-zero":
                victim.symlink_to("/dev/zero")
            elif how == "directory":
                victim.mkdir()
        elif how in ("log-fifo", "log-dev-zero"):
            (trace / "events.log").unlink()
            if how == "log-fifo":
                os.mkfifo(trace / "events.log")
            else:
                (trace / "events.log").symlink_to("/dev/zero")
        elif how == "files-symlink":
            shutil.rmtree(trace / "files")
            (trace / "files").symlink_to("/dev")
        else:
            (trace / "files" / ("0" * 64)).symlink_to("/dev/zero")

    return how, mutate


# -- running the CLI --------------------------------------------------------------------------
class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout()


def _address_space() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def bounded(seconds: int, memory: int) -> Iterator[None]:
    """Time (SIGALRM) and address space (a lowered soft RLIMIT_AS) for an in-process run:
    a blow-up becomes a failed assertion or a MemoryError, not a hung or OOM-killed suite."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + memory
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_in_process(args: list[str], seconds: int = 20) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        with bounded(seconds, CHILD_MEMORY), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(args)
    except _Timeout:
        pytest.fail(f"ttdbg {' '.join(args)} did not finish in {seconds} s")
    return status, out.getvalue(), err.getvalue()


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def run_child(args: list[str], cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, "TTDBG_TRACE_DIR": str(cwd / "root")}
    env.pop("TTDBG_LOG", None)
    try:
        proc = subprocess.run([sys.executable, "-m", "ttdbg", *args], capture_output=True, cwd=cwd, env=env,
                              timeout=CHILD_TIMEOUT, preexec_fn=_limit_memory, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"ttdbg {' '.join(args)} did not finish in {CHILD_TIMEOUT} s")
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def assert_clean(args: list[str], status: int, err: str) -> None:
    where = f"ttdbg {' '.join(args)} -> {status}: {err!r}"
    assert "Traceback" not in err and "internal error" not in err, where
    lines = err.splitlines()
    assert all(line.startswith("ttdbg: ") for line in lines), where
    if status in ERROR_STATUSES:
        assert len(lines) == 1, where
    elif args[0] in ("info", "dump"):
        assert status == 0 and not lines, where
    else:
        # replay -a: the recorded status (a damaged-but-checksummed SHUTDOWN may change it,
        # and a trace cut short says so in one note); never ttdbg's internal-error status.
        assert 0 <= status <= 255 and status != 70 and len(lines) <= 1, where


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def check_trace(trace: Path, work: Path, child: bool) -> None:
    """Run the three commands on `trace`; nothing may appear outside it (or inside it)."""
    before_trace, before_work = tree(trace), tree(work)
    for command in COMMANDS:
        args = [*command, str(trace)]
        if child:
            status, _out, err = run_child(args, work)
        else:
            status, _out, err = run_in_process(args)
        assert_clean(args, status, err)
    assert tree(work) == before_work, "a file appeared outside the trace"
    assert tree(trace) == before_trace, "a file appeared inside the trace"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    (work / "root").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("TTDBG_TRACE_DIR", str(work / "root"))
    monkeypatch.delenv("TTDBG_LOG", raising=False)
    return work


def fresh_copy(small_traces: dict[str, Path], name: str, work: Path) -> Path:
    dest = work / "trace"
    if dest.exists() or dest.is_symlink():
        shutil.rmtree(dest)
    return Path(shutil.copytree(small_traces[name], dest, symlinks=True))


# -- the properties ----------------------------------------------------------------------------
def test_the_intact_traces_are_clean(small_traces: dict[str, Path], workdir: Path) -> None:
    for name in small_traces:
        trace = fresh_copy(small_traces, name, workdir)
        for command in COMMANDS:
            status, _out, err = run_in_process([*command, str(trace)])
            assert status == (PROGRAM_STATUS if command[0] == "replay" and name == "hello" else 0), err
            assert err == ""


@given(trace_name=st.sampled_from(["hello", "readdata"]), mutation=log_mutations())
@SETTINGS
def test_damaged_logs_end_cleanly(small_traces: dict[str, Path], workdir: Path, trace_name: str,
                                  mutation: tuple[str, Callable[[bytes], bytes]]) -> None:
    trace = fresh_copy(small_traces, trace_name, workdir)
    log = trace / "events.log"
    log.write_bytes(mutation[1](log.read_bytes()))
    check_trace(trace, workdir, child=False)


@given(trace_name=st.sampled_from(["hello", "readdata"]), mutation=file_mutations())
@settings(SETTINGS, max_examples=30)
def test_damaged_files_end_cleanly(small_traces: dict[str, Path], workdir: Path, trace_name: str,
                                   mutation: tuple[str, Callable[[Path], None]]) -> None:
    trace = fresh_copy(small_traces, trace_name, workdir)
    mutation[1](trace)
    check_trace(trace, workdir, child=False)


@given(trace_name=st.sampled_from(["hello", "readdata"]), log_mutation=log_mutations(),
       file_mutation=file_mutations())
@settings(SETTINGS, max_examples=4)
def test_damaged_traces_in_a_bounded_child(small_traces: dict[str, Path], workdir: Path, trace_name: str,
                                           log_mutation: tuple[str, Callable[[bytes], bytes]],
                                           file_mutation: tuple[str, Callable[[Path], None]]) -> None:
    trace = fresh_copy(small_traces, trace_name, workdir)
    log = trace / "events.log"
    log.write_bytes(log_mutation[1](log.read_bytes()))
    file_mutation[1](trace)
    check_trace(trace, workdir, child=True)
