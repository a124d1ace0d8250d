"""riscv64 programs (static, and dynamic with the sysroot /usr/riscv64-linux-gnu):
recorded output equals the same binary under qemu-riscv64, replay equals the
recording, the instruction count is exact, and what a user process may not do
(ebreak, machine CSRs, mret, ...) gets the signal qemu-riscv64 gives
(replay/arch/riscv64.py, riscv64_system.py).  Guests are cross-built from
tests/guests with riscv64-linux-gnu-gcc; without it or qemu-riscv64 the tests
skip (CI installs them: gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross, qemu-user)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from crossarch import RISCV64_TOOLS, same
from guestbuild import GuestBuilder
from harness import Ttdbg

from replay.arch import RISCV64
from replay.arch.riscv64 import GDB_REGISTERS
from replay.machine import Machine, RunStop, StopKind

TOOLS = RISCV64_TOOLS
LINKS = TOOLS.links
rv = TOOLS.fixture()          # rv(NAME, FLAVOUR=riscv64-static) -> the cross-built guest
qemu = TOOLS.run                # qemu(ttdbg, program, *args, stdin=None) -> its run under qemu-riscv64


@pytest.mark.parametrize("link", LINKS)
def test_hello_matches_qemu(ttdbg: Ttdbg, rv, link: str) -> None:
    program = rv("hello", link)
    native = qemu(ttdbg, program, "x", "y")
    assert native.status == 0 and b"hello from the guest" in native.stdout
    trace, rec, rep = ttdbg.record_replay(program, "x", "y")
    same(rec, native, "record vs qemu-riscv64")
    same(rep, rec, "replay vs record")
    if link == "riscv64-dynamic":
        return
    info = ttdbg("info", trace)
    assert "arch:         riscv64 (ELF machine 243)" in info.out, info.out
    dump = ttdbg("dump", trace)
    assert dump.status == 0 and "SHUTDOWN exit status=0" in dump.out, dump.out
    repl = ttdbg("repl", trace, stdin=b"break main\ncontinue\ninfo registers pc a0\nbt\nquit\n")
    assert repl.status == 0 and "Breakpoint 1, main" in repl.out, repl.out + repl.err   # RISCV64_DEBUG
    assert re.search(r"pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <main", repl.out) and "#0  main" in repl.out, repl.out


def test_stdin_echo_matches_qemu(ttdbg: Ttdbg, rv) -> None:
    program = rv("stdin_echo")
    data = b"first line\nsecond line\nno newline at the end"
    native = qemu(ttdbg, program, stdin=data)
    trace, rec = ttdbg.record(program, stdin=data)
    same(rec, native, "record vs qemu-riscv64")
    same(ttdbg.replay(trace), rec, "replay vs record")


@pytest.mark.parametrize("link", LINKS)
def test_file_io_matches_qemu(ttdbg: Ttdbg, rv, tmp_path: Path, link: str) -> None:
    program = rv("fileio", link)
    listing = tmp_path / "listing"
    listing.mkdir()
    for name in ("beta", "alpha", "gamma"):
        (listing / name).write_text(name)
    scratch = tmp_path / "scratch.txt"
    native = qemu(ttdbg, program, str(scratch), str(listing))
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program, str(scratch), str(listing))
    same(rec, native, "record vs qemu-riscv64")
    assert "3 entries: alpha beta gamma" in rec.out
    same(rep, rec, "replay vs record")
    assert not scratch.exists(), "replay must not touch the host file system"


@pytest.mark.parametrize("link", LINKS)
def test_extensions_give_the_known_answers(ttdbg: Ttdbg, rv, link: str) -> None:
    """M, A, F, D (rounding modes and flags through the fcsr CSRs) and C: as qemu-riscv64 computes them."""
    program = rv("rv_kat", link)
    native = qemu(ttdbg, program)
    assert native.status == 0 and b"hwcap 0x112d" in native.stdout, native.err
    assert b"div -9223372036854775808 -1 7" in native.stdout
    trace, rec, rep = ttdbg.record_replay(program)
    same(rec, native, "record vs qemu-riscv64")
    same(rep, rec, "replay vs record")


@pytest.mark.parametrize("name", ["threads_tls", "threads_condvar", "threads_prodcons"])
def test_threads_match_qemu(ttdbg: Ttdbg, rv, name: str) -> None:
    """clone and clone3 in riscv64's argument order; the child's a0, sp and tp."""
    program = rv(name, "riscv64-dynamic" if name == "threads_tls" else "riscv64-static")
    native = qemu(ttdbg, program)
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program)
    same(rec, native, "record vs qemu-riscv64")
    same(rep, rec, "replay vs record")


@pytest.mark.parametrize(("name", "link", "args"), [
    ("sighandlers", "riscv64-dynamic", ()), ("procs_fork", "riscv64-static", ()),
    ("alarms", "riscv64-static", ("periodic",)), ("faults", "riscv64-static", ("abort",))])
def test_signals_match_qemu(ttdbg: Ttdbg, rv, name: str, link: str, args: tuple[str, ...]) -> None:
    """Handlers in riscv64's frame (sigframe_riscv64.py): SA_SIGINFO, a SIGSEGV handler on an
    alternate stack escaping with siglongjmp, FP registers intact, SIGCHLD, interval timers;
    they return through the [sigpage] trampoline."""
    program = rv(name, link)
    native = qemu(ttdbg, program, *args)
    trace, rec, rep = ttdbg.record_replay(program, *args)
    same(rec, native, "record vs qemu-riscv64")
    same(rep, rec, "replay vs record")


def test_clocks_counters_and_random_replay_identically(ttdbg: Ttdbg, rv) -> None:
    program = rv("rv_clockrand")
    native = qemu(ttdbg, program)
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program)
    assert rec.status == 0, rec.err
    for line in ("(increasing: 1)", "rdcycle   increasing: 1", "rdinstret increasing: 1"):
        assert line in rec.out, rec.out
    same(rep, rec, "replay vs record")
    _, again = ttdbg.record(program)
    assert again.stdout != rec.stdout, "two recordings read different times and random bytes"


@pytest.mark.parametrize("what", ["ebreak", "unimp", "mstatus", "mret", "wtime", "lr", "null"])
def test_what_a_process_may_not_do_gets_qemus_signal(ttdbg: Ttdbg, rv, what: str) -> None:
    """ebreak: SIGTRAP; unimp, a machine CSR, mret, a write of the time CSR: SIGILL;
    a misaligned lr.d: SIGBUS; a null store: SIGSEGV (the crash)."""
    program = rv("rv_traps")
    native = qemu(ttdbg, program, what)
    assert native.status == {"ebreak": 133, "lr": 135, "null": 139, "none": 0}.get(what, 132), native
    trace, rec, rep = ttdbg.record_replay(program, what)
    assert (rec.status, rec.stdout) == (native.status, native.stdout)
    same(rep, rec, "replay vs record")


@pytest.mark.parametrize("link", LINKS)
def test_queries_see_arguments_results_and_locals(ttdbg: Ttdbg, builder: GuestBuilder, rv, link: str) -> None:
    rv("hello", link)                                    # skips without the tools
    program = builder.build("gdb_basic", link, ("-O0",))
    trace, rec = ttdbg.record(program)
    assert rec.status == 7 and rec.out == "ttdbg-gdb-basic 930 6\n", rec.err
    calls = ttdbg("query", trace, "calls", "square", "--json")
    rows = [json.loads(line) for line in calls.out.splitlines()]
    # arguments and results from a0, the caller from ra
    assert [(r["args"][0], r["return"]) for r in rows] == [(0, 0), (1, 1), (2, 4), (3, 9), (4, 16), (30, 900)]
    assert [r["caller"] for r in rows] == ["gdb_basic.c:22"] * 5 + ["gdb_basic.c:36"]
    writes = ttdbg("query", trace, "writes", "counter", "--json")
    assert [json.loads(line)["new"] for line in writes.out.splitlines()] == [str(n) for n in range(1, 7)] + ["162"]
    # a local at its offset from the CFA, which the program's .debug_frame gives (none in .eh_frame)
    values = ttdbg("query", trace, "values", "y", "at", "gdb_basic.c:14")
    assert values.status == 0, values.err
    assert re.findall(r"value=(\d+)", values.out) == ["0", "1", "4", "9", "16", "900"], values.out


def test_a_missing_sysroot_is_one_line(ttdbg: Ttdbg, rv, tmp_path: Path) -> None:
    rec = ttdbg("record", "-q", "-o", tmp_path / "t", "--sysroot", tmp_path / "none", rv("hello", "riscv64-dynamic"))
    assert rec.status == 127 and rec.err.count("\n") == 1 and "no such directory (--sysroot)" in rec.err, rec.err


LOOP = """
.globl _start
_start:
    li a1, 1000
1:  addi a1, a1, -1
    bnez a1, 1b
    rdtime a2
    rdinstret a3
    li a7, 93
    ecall
"""


class _OS:
    def __init__(self) -> None:
        self.syscalls: list[tuple[int, int]] = []

    def on_syscall(self, m: Machine) -> None:
        self.syscalls.append((m.reg("a7"), m.icount))
        m.halt(RunStop(StopKind.HALTED, m.icount, m.pc))

    def on_rdtsc(self, m: Machine, with_aux: bool) -> tuple[int, int]:
        return 4242, 0


def test_instruction_count_is_exact_on_riscv64(tmp_path: Path) -> None:
    """1 + 2 * 1000 + 4 instructions to the ecall; a stop at any count leaves
    the loop register where that many instructions put it."""
    code = TOOLS.assemble(LOOP, tmp_path, "-march=rv64gc")

    def fresh() -> tuple[Machine, _OS]:
        m = Machine(RISCV64)
        m.mem.map(0x10000, 0x1000, 5, "code")
        m.mem.write(0x10000, code)
        m.set_reg("pc", 0x10000)
        m.os = _OS()
        return m, m.os

    m, os_ = fresh()
    stop = m.run()
    assert stop.kind == StopKind.HALTED and os_.syscalls == [(93, 2005)]
    assert m.reg("a2") == 4242, "rdtime comes from the OS layer (the event log)"
    assert m.reg("a3") == 2002, "rdinstret is the exact count of the instructions before it"
    assert m.pc == 0x10000 + len(code)                # after the ecall
    for limit in (1, 2, 3, 500, 1001, 1999, 2001, 2002, 2003):
        m, _ = fresh()
        stop = m.run(limit=limit)
        assert (stop.kind, stop.icount) == (StopKind.LIMIT, limit)
        done = limit - 1                            # loop instructions after the li
        assert m.reg("a1") == max(1000 - (done + 1) // 2, 0), limit
        m.close()


def test_gdb_description_numbers_registers_as_gdb_does() -> None:
    """gdb/features/riscv/64bit-{cpu,fpu}.xml: x0..x31 = 0..31 (ABI names, x8 `fp'), pc 32,
    f0..f31 = 33..64 (ABI names), then fflags, frm, fcsr; every row names a register the machine has."""
    rows = GDB_REGISTERS
    names = [r.name for r in rows]
    assert names[:5] == ["zero", "ra", "sp", "gp", "tp"] and names[8] == "fp" and names[31] == "t6"
    assert names[32] == "pc" and names[33] == "ft0" and names[64] == "ft11" and names[65:] == ["fflags", "frm", "fcsr"]
    assert {r.feature for r in rows} == {"org.gnu.gdb.riscv.cpu", "org.gnu.gdb.riscv.fpu"}
    m = Machine(RISCV64)
    m.set_reg("f1", 0x3FF0000000000000)
    m.set_reg("frm", 3)
    assert m.reg("ft1") == 0x3FF0000000000000 and m.reg("fcsr") == 3 << 5
    for row in rows:
        m.reg(row.source)
    m.close()
