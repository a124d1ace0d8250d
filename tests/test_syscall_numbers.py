"""System call numbers speak the trace's own architecture (log version 5).

The guest (tests/guests/sysnums.c) makes a few calls by number and prints the
numbers its own <sys/syscall.h> gives them: aarch64's and riscv64's write is
64 (the generic table), x86-64's 1.  The log stores those numbers, and
`dump` and `query syscalls --json` show them next to the right names.  A log
of version 4 or older stored x86-64's numbers whatever the architecture:
read_log renumbers it, so an old aarch64 trace still names its calls right
and replays."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from crossarch import AARCH64_TOOLS, RISCV64_TOOLS
from guestbuild import GuestBuilder
from harness import Ttdbg

from replay.arch import AARCH64, RISCV64, X86_64
from replay.eventlog import MAGIC, NUMBERED_BY_ARCH, LogWriter, read_log
from replay.events import SyscallResult
from replay.linux.syscalls import log_numbers
from replay.linux.sysnames import SYSCALL_NUMBERS

FLAVOURS = {"x86-64": "static", "aarch64": "aarch64-static", "riscv64": "riscv64-static"}
TOOLS = {"aarch64": AARCH64_TOOLS, "riscv64": RISCV64_TOOLS}
LOGGED = ("getuid", "getppid", "uname")        # SYSCALL events; write and openat are CHAR_WRITE, FILE_OPEN


def _program(arch: str, builder: GuestBuilder, guest) -> Path:
    if arch == "x86-64":
        return guest("sysnums")
    return TOOLS[arch].builder(builder)("sysnums", FLAVOURS[arch])


def _printed_numbers(out: str) -> dict[str, int]:
    """The guest's own numbers: 'write=64 getuid=174 ...'."""
    line = next(line for line in out.splitlines() if line.startswith("write="))
    return {name: int(n) for name, n in re.findall(r"(\w+)=(\d+)", line)}


@pytest.mark.parametrize("arch", FLAVOURS)
def test_dump_and_query_show_the_architectures_numbers(ttdbg: Ttdbg, builder: GuestBuilder, guest,
                                                        arch: str) -> None:
    program = _program(arch, builder, guest)
    trace, rec, rep = ttdbg.record_replay(program)
    assert rec.status == 0 and rep.status == 0 and rep.stdout == rec.stdout, rec.err + rep.err
    numbers = _printed_numbers(rec.out)
    expected = {"x86-64": {"write": 1, "openat": 257, "getuid": 102},
                "aarch64": {"write": 64, "openat": 56, "getuid": 174},
                "riscv64": {"write": 64, "openat": 56, "getuid": 174}}[arch]
    assert {k: numbers[k] for k in expected} == expected      # the guest's headers agree with the brief

    dump = ttdbg("dump", "--kind", "syscall", trace)
    assert dump.status == 0, dump.err
    for name in LOGGED:
        assert f"SYSCALL {name} (nr {numbers[name]}) " in dump.out, dump.out
    contents = read_log(str(trace / "events.log"))
    assert contents.version == NUMBERED_BY_ARCH
    logged = {ev.name: ev.sysno for ev in contents.events if isinstance(ev, SyscallResult)}
    assert {name: logged[name] for name in LOGGED} == {name: numbers[name] for name in LOGGED}

    query = ttdbg("query", trace, "syscalls", "--json")
    assert query.status == 0, query.err
    rows = [json.loads(line) for line in query.out.splitlines()]
    shown = {r["syscall"]: r["number"] for r in rows}
    for name in (*LOGGED, "write", "openat"):
        assert shown[name] == numbers[name], (name, rows)
    text = ttdbg("query", trace, "syscalls", "write").out
    assert f"syscall=write  number={numbers['write']}  fd=1" in text, text


def test_the_kernels_edge_to_the_log_renumbers_by_name() -> None:
    """Handlers name calls by x86-64's numbers; the log gets each architecture's."""
    for arch in (X86_64, AARCH64, RISCV64):
        table = log_numbers(arch.syscall_numbers)
        for name, number in arch.syscall_numbers.items():
            if name in SYSCALL_NUMBERS:
                assert table[SYSCALL_NUMBERS[name]] == number, (arch.name, name)
    assert log_numbers(AARCH64.syscall_numbers)[SYSCALL_NUMBERS["write"]] == 64
    assert SYSCALL_NUMBERS["open"] not in log_numbers(AARCH64.syscall_numbers)     # no open there


def _as_version_4(log: Path) -> None:
    """Rewrite a log as ttdbg's log version 4 wrote it: SYSCALL numbers in x86-64's numbering."""
    contents = read_log(str(log))
    log.unlink()
    w = LogWriter(str(log), contents.header)
    for ev in contents.events:
        if isinstance(ev, SyscallResult):
            ev = SyscallResult(ev.icount, SYSCALL_NUMBERS[ev.name], ev.result, ev.writes)
        w.append(ev)
    w.close()
    raw = bytearray(log.read_bytes())
    struct.pack_into("<H", raw, len(MAGIC), 4)
    end = 16 + struct.unpack_from("<I", raw, 12)[0]          # the header: 8s H H I, then its JSON
    struct.pack_into("<I", raw, end, zlib.crc32(raw[:end]))
    log.write_bytes(bytes(raw))


def test_an_older_aarch64_log_is_renumbered_when_read(ttdbg: Ttdbg, builder: GuestBuilder, guest) -> None:
    program = _program("aarch64", builder, guest)
    trace, rec = ttdbg.record(program)
    assert rec.status == 0, rec.err
    numbers = _printed_numbers(rec.out)
    _as_version_4(trace / "events.log")
    assert read_log(str(trace / "events.log")).version == 4
    dump = ttdbg("dump", "--kind", "syscall", trace)
    for name in LOGGED:
        assert f"SYSCALL {name} (nr {numbers[name]}) " in dump.out, dump.out
    rep = ttdbg.replay(trace)
    assert (rep.status, rep.stdout) == (rec.status, rec.stdout), rep.err


@pytest.mark.parametrize("arch,write,openat", [("x86-64", 1, 257), ("aarch64", 64, 56), ("riscv64", 64, 56)])
def test_info_syscalls_numbers_the_table_by_architecture(ttdbg: Ttdbg, arch: str, write: int, openat: int) -> None:
    run = ttdbg("info", "--syscalls", "--arch", arch)
    assert run.status == 0 and run.out.startswith(f"{arch} system calls"), run.err
    rows = {line.split()[1]: int(line.split()[0]) for line in run.out.splitlines() if re.match(r"^\s*\d+\s", line)}
    assert (rows["write"], rows["openat"]) == (write, openat)
    assert ("open" in rows) == (arch == "x86-64")           # the generic table has no open
    assert ttdbg("info", "--syscalls").out == ttdbg("info", "--syscalls", "--arch", "x86-64").out
    bad = ttdbg("info", "--arch", arch)
    assert bad.status == 2 and "--arch goes with --syscalls" in bad.err


@pytest.mark.parametrize("arch", FLAVOURS)
def test_timeline_catches_calls_by_the_architectures_numbers(ttdbg: Ttdbg, builder: GuestBuilder, guest,
                                                             arch: str) -> None:
    """The engine under gdb's `catch syscall`: each write stops at its entry (the number in the
    architecture's register, the call's instruction next) and return (the result in place, at
    the count of its CHAR_WRITE event), forward and backward."""
    from replay import Direction, Replay, StopReason, Timeline, open_trace

    trace, rec = ttdbg.record(_program(arch, builder, guest))
    write = _printed_numbers(rec.out)["write"]
    contents = read_log(str(trace / "events.log"))
    writes = [(ev.icount, ev.result) for ev in contents.events if ev.kind.name == "CHAR_WRITE"]
    tl = Timeline(Replay(open_trace(str(trace))))
    tl.catch_syscalls(frozenset({write}))
    desc = tl.arch
    forward = []
    while (stop := tl.cont()).reason in (StopReason.SYSCALL_ENTRY, StopReason.SYSCALL_RETURN):
        register = desc.syscall_number if stop.reason == StopReason.SYSCALL_ENTRY else desc.syscall_return
        forward.append((stop.reason, stop.icount, stop.syscall, tl.read_register(register)))
    assert stop.reason == StopReason.HISTORY_END
    assert forward == [s for at, result in writes for s in (
        (StopReason.SYSCALL_ENTRY, at - 1, write, write), (StopReason.SYSCALL_RETURN, at, write, result))]
    backward = []
    while (stop := tl.cont(Direction.BACKWARD)).reason != StopReason.HISTORY_START:
        backward.append((stop.reason, stop.icount))
    assert backward == [(r, at) for r, at, _, _ in reversed(forward)]
