"""aarch64 programs (static, and dynamic with the sysroot /usr/aarch64-linux-gnu):
recorded output equals the same binary under qemu-aarch64, replay equals the recording, and the instruction count is
exact (replay/arch/aarch64.py).  Guests are cross-built from tests/guests
with aarch64-linux-gnu-gcc; without it or qemu-aarch64 the tests skip (CI
installs them: gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crossarch import AARCH64_TOOLS, same
from guestbuild import GuestBuilder
from harness import Ttdbg

from replay.arch import AARCH64
from replay.eventlog import TraceHeader
from replay.machine import Machine, RunStop, StopKind

TOOLS = AARCH64_TOOLS
LINKS = TOOLS.links
a64 = TOOLS.fixture()          # a64(NAME, FLAVOUR=aarch64-static) -> the cross-built guest
qemu = TOOLS.run                # qemu(ttdbg, program, *args, stdin=None) -> its run under qemu-aarch64


@pytest.mark.parametrize("link", LINKS)
def test_hello_matches_qemu(ttdbg: Ttdbg, a64, link: str) -> None:
    program = a64("hello", link)
    native = qemu(ttdbg, program, "x", "y")
    assert native.status == 0 and b"hello from the guest" in native.stdout
    trace, rec, rep = ttdbg.record_replay(program, "x", "y")
    same(rec, native, "record vs qemu-aarch64")
    same(rep, rec, "replay vs record")
    info = ttdbg("info", trace)
    assert "arch:         aarch64 (ELF machine 183)" in info.out, info.out


@pytest.mark.parametrize("link", LINKS)
def test_queries_index_and_timeline(ttdbg: Ttdbg, builder: GuestBuilder, a64, link: str) -> None:
    a64("hello", link)                                   # skips without the tools
    program = builder.build("gdb_basic", link, ("-O0",))
    trace, rec = ttdbg.record(program)
    assert rec.status == 7 and rec.out == "ttdbg-gdb-basic 930 6\n", rec.err
    calls = ttdbg("query", trace, "calls", "square", "--json")
    rows = [json.loads(line) for line in calls.out.splitlines()]
    # square(0..4) from accumulate, then square(30) from main: arguments from x0, results from x0,
    # the caller from the link register
    assert [(r["args"][0], r["return"]) for r in rows] == [(0, 0), (1, 1), (2, 4), (3, 9), (4, 16), (30, 900)]
    assert [r["caller"] for r in rows] == ["gdb_basic.c:22"] * 5 + ["gdb_basic.c:36"]
    writes = ttdbg("query", trace, "writes", "counter", "--json")
    assert [json.loads(line)["new"] for line in writes.out.splitlines()] == [str(n) for n in range(1, 7)] + ["162"]
    lines = ttdbg("query", trace, "lines", "gdb_basic.c:13")
    assert lines.status == 0 and lines.out.count("square at gdb_basic.c:13") == 6, lines.out
    syscalls = ttdbg("query", trace, "syscalls", "write")
    assert syscalls.status == 0 and "fd=1 count=22 result=22" in syscalls.out, syscalls.out
    assert ttdbg("index", trace).status == 0
    assert ttdbg("query", trace, "calls", "square").out.count("square at gdb_basic.c:12") == 6
    assert ttdbg("timeline", trace, "-o", "t.html").status == 0


@pytest.mark.parametrize("name,link", [("threads_tls", "aarch64-static"), ("threads_tls", "aarch64-dynamic"),
                                       ("threads_condvar", "aarch64-static"), ("threads_prodcons", "aarch64-static")])
def test_threads_match_qemu(ttdbg: Ttdbg, builder: GuestBuilder, a64, name: str, link: str) -> None:
    """clone3/clone in the generic argument order, the child's registers (x0 0, sp, tpidr_el0), futex
    waits woken through x0 and restarted through pc - 4."""
    a64("hello", link)                                   # skips without the tools
    program = builder.build(name, link, ("-pthread",))
    native = qemu(ttdbg, program)
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program)
    assert (rec.status, rec.stdout) == (native.status, native.stdout), rec.err
    assert (rep.status, rep.stdout) == (rec.status, rec.stdout), "replay vs record"


def test_fork_matches_qemu(ttdbg: Ttdbg, a64) -> None:
    program = a64("procs_fork")
    native = qemu(ttdbg, program)
    trace, rec, rep = ttdbg.record_replay(program)
    assert (rec.status, rec.stdout) == (native.status, native.stdout) and rec.status == 0, rec.err
    assert b"SIGCHLD handled: yes" in rec.stdout
    same(rep, rec, "replay vs record")


@pytest.mark.parametrize("name,args", [("sighandlers", ()), ("alarms", ("waits",)), ("alarms", ("periodic",)),
                                       ("alarms", ("signalfd",))])
def test_signal_handlers_match_qemu(ttdbg: Ttdbg, a64, name: str, args: tuple[str, ...]) -> None:
    """The aarch64 rt_sigframe (registers, fpsimd state, the mask), rt_sigreturn through the
    [sigpage] trampoline, sigaltstack, SA_RESTART restarts (pc - 4, x0 intact)."""
    program = a64(name)
    native = qemu(ttdbg, program, *args)
    trace, rec, rep = ttdbg.record_replay(program, *args)
    same(rec, native, "record vs qemu-aarch64")
    same(rep, rec, "replay vs record")


@pytest.mark.parametrize("link", LINKS)
def test_stdin_echo_matches_qemu(ttdbg: Ttdbg, a64, link: str) -> None:
    program = a64("stdin_echo", link)
    data = b"first line\nsecond line\nno newline at the end"
    native = qemu(ttdbg, program, stdin=data)
    trace, rec = ttdbg.record(program, stdin=data)
    same(rec, native, "record vs qemu-aarch64")
    same(ttdbg.replay(trace), rec, "replay vs record")


@pytest.mark.parametrize("link", LINKS)
def test_file_io_matches_qemu(ttdbg: Ttdbg, a64, tmp_path: Path, link: str) -> None:
    program = a64("fileio", link)
    listing = tmp_path / "listing"
    listing.mkdir()
    for name in ("beta", "alpha", "gamma"):
        (listing / name).write_text(name)
    scratch = tmp_path / "scratch.txt"
    native = qemu(ttdbg, program, str(scratch), str(listing))
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program, str(scratch), str(listing))
    same(rec, native, "record vs qemu-aarch64")
    assert "3 entries: alpha beta gamma" in rec.out
    same(rep, rec, "replay vs record")
    assert not scratch.exists(), "replay must not touch the host file system"


def test_clocks_counter_and_random_replay_identically(ttdbg: Ttdbg, a64) -> None:
    program = a64("a64_clockrand")
    native = qemu(ttdbg, program)
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program)
    assert rec.status == 0, rec.err
    assert "cntvct" in rec.out and "(increasing: 1)" in rec.out and "cntfrq    nonzero" in rec.out
    same(rep, rec, "replay vs record")
    _, again = ttdbg.record(program)
    assert again.stdout != rec.stdout, "two recordings read different times and random bytes"


def test_crash_takes_the_default_action_as_under_qemu(ttdbg: Ttdbg, a64) -> None:
    program = a64("a64_crash")
    native = qemu(ttdbg, program)
    trace, rec, rep = ttdbg.record_replay(program)
    assert (rec.status, rec.stdout) == (native.status, native.stdout) == (139, b"about to crash\n")
    same(rep, rec, "replay vs record")


def test_a_missing_sysroot_is_one_line(ttdbg: Ttdbg, a64, tmp_path: Path) -> None:
    rec = ttdbg("record", "-q", "-o", tmp_path / "t", "--sysroot", tmp_path / "none", a64("hello", "aarch64-dynamic"))
    assert rec.status == 127 and rec.err.count("\n") == 1 and "no such directory (--sysroot)" in rec.err, rec.err


def test_another_architecture_is_refused_in_one_line(ttdbg: Ttdbg, a64, tmp_path: Path) -> None:
    data = bytearray(a64("hello").read_bytes())
    data[18:20] = (21).to_bytes(2, "little")         # EM_PPC64
    ppc = tmp_path / "ppc64"
    ppc.write_bytes(bytes(data))
    ppc.chmod(0o755)
    _, rec = ttdbg.record(ppc)
    assert rec.status != 0
    assert rec.err.count("\n") == 1 and "unsupported architecture PPC64" in rec.err, rec.err
    with pytest.raises(ValueError, match="ELF machine 21"):
        TraceHeader.from_json(21, b"{}")


LOOP = """
.globl _start
_start:
    mov x1, #1000
1:  subs x1, x1, #1
    b.ne 1b
    mrs x2, cntvct_el0
    mov x8, #93
    svc #0
"""


class _OS:
    def __init__(self) -> None:
        self.syscalls: list[tuple[int, int]] = []

    def on_syscall(self, m: Machine) -> None:
        self.syscalls.append((m.reg("x8"), m.icount))
        m.halt(RunStop(StopKind.HALTED, m.icount, m.pc))

    def on_rdtsc(self, m: Machine, with_aux: bool) -> tuple[int, int]:
        return 4242, 0


def test_instruction_count_is_exact_on_aarch64(tmp_path: Path) -> None:
    """1 + 2 * 1000 + 3 instructions to the svc; a stop at any count leaves
    the loop register where that many instructions put it."""
    code = TOOLS.assemble(LOOP, tmp_path)

    def fresh() -> tuple[Machine, _OS]:
        m = Machine(AARCH64)
        m.mem.map(0x10000, 0x1000, 5, "code")
        m.mem.write(0x10000, code)
        m.set_reg("pc", 0x10000)
        m.os = _OS()
        return m, m.os

    m, os_ = fresh()
    stop = m.run()
    assert stop.kind == StopKind.HALTED and os_.syscalls == [(93, 2004)]
    assert m.reg("x2") == 4242, "CNTVCT_EL0 comes from the OS layer (the event log)"
    assert m.pc == 0x10000 + 6 * 4                # after the svc
    for limit in (1, 2, 3, 500, 1001, 1999, 2001):
        m, _ = fresh()
        stop = m.run(limit=limit)
        assert (stop.kind, stop.icount) == (StopKind.LIMIT, limit)
        done = limit - 1                            # loop instructions after the mov
        assert m.reg("x1") == 1000 - (done + 1) // 2, limit
        m.close()
