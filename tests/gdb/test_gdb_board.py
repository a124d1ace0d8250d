"""Firmware on the virt board reverse-debugged from gdb-multiarch and the REPL (issue 13).

The echo firmware (tests/guests/board/echo.c: a UART echo whose IRQ handler
counts timer ticks) is recorded with its input from a pipe, written once the
firmware is ready so that timer interrupts come before it; calls.c takes an
`svc` through the synchronous vector.  Each trace is served by `ttdbg serve`
to a real gdb-multiarch, which loads the firmware ELF's symbols itself.  The
references are gdb's own forward steps over the same trace and what the
firmware itself reads (the ESR it passes to its handler, the ELR an IRQ saved).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gdbtest_support import REPO, free_port, steps, ttdbg_env, where

sys.path.insert(0, str(REPO / "tests" / "board"))
from boardbuild import build_firmware  # noqa: E402

GDB_MULTIARCH = shutil.which("gdb-multiarch")
QEMU_SYSTEM = shutil.which("qemu-system-aarch64")
N_STEPS = 80
if GDB_MULTIARCH is None:
    pytest.skip("gdb-multiarch is not installed", allow_module_level=True)

_END = "No more reverse-execution history."
IRQ_VECTOR = 0x280          # current EL with SP_ELx, IRQ: VBAR_EL1 + 0x280
TIMER_INTID, UART_INTID = 27, 33


def _record(firmware: Path, trace: Path, text: bytes | None) -> None:
    """Record `firmware`; `text` is written to its UART once it is ready (None: no input)."""
    proc = subprocess.Popen([sys.executable, "-m", "ttdbg", "record", "-q", "--board", "virt", "-o", str(trace),
                             str(firmware)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ttdbg_env(trace.parent), cwd=trace.parent)
    assert proc.stdout is not None and proc.stdin is not None
    if text is not None:
        proc.stdout.readline()              # "echo firmware ready": ticks come before the input
        time.sleep(0.1)
        proc.stdin.write(text)
        proc.stdin.flush()
    _, err = proc.communicate(timeout=120)
    assert (trace / "events.log").exists(), err.decode(errors="replace")


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("board-gdb")
    firmware = build_firmware(root)
    trace = root / "echo-trace"
    _record(firmware, trace, b"hi board\x04")
    return firmware, trace


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("board-gdb-calls")
    firmware = build_firmware(root, "calls")
    trace = root / "calls-trace"
    _record(firmware, trace, None)
    return firmware, trace


@pytest.fixture
def board_gdb(serve, gdb):
    def make(recorded: tuple[Path, Path]):
        firmware, trace = recorded
        server = serve(trace, "--once")
        g = gdb(firmware, gdb_path=GDB_MULTIARCH)
        g.ok("set backtrace limit 8")
        g.connect(server.address)
        return g

    return make


def _value(g, expression: str) -> int:
    """An integer expression's value (code pointers too), as gdb evaluates it."""
    return int(g.ok(f'-data-evaluate-expression "(unsigned long long)({expression})"').value)


def test_reverse_continue_to_the_last_write_of_the_tick_counter(echo, board_gdb) -> None:
    g = board_gdb(echo)
    g.ok("break irq_handler")
    assert g.ok("continue").func == "irq_handler"
    g.ok("delete")
    # Forward, one instruction at a time: the instruction that writes `ticks`.
    before = _value(g, "ticks")
    writer = None
    for _ in range(80):
        pc = g.pc()
        g.ok("stepi")
        if _value(g, "ticks") != before:
            writer = pc
            break
    assert writer is not None, "no write of ticks in the first timer interrupt's handler"
    assert "str" in g.ok(f"x/i {writer}").text

    stop = g.ok("continue")                 # to the end of the recording
    assert _END in stop.text and stop.func == "semihosting_exit", g.dump()
    final = _value(g, "ticks")
    assert final > 1
    g.ok("watch ticks")
    back = g.ok("reverse-continue")
    assert back.reason == "watchpoint-trigger", g.dump()
    # Stopped before the write (reverse: the change undone): the same instruction.
    assert g.pc() == writer
    assert _value(g, "ticks") == final - 1
    # It was the last write: forward, it writes once more, then nothing until the end.
    again = g.ok("continue")
    assert again.reason == "watchpoint-trigger" and _value(g, "ticks") == final
    assert _END in g.ok("continue").text, g.dump()


def test_reverse_stepi_out_of_the_handler_to_the_interrupted_code(echo, board_gdb) -> None:
    g = board_gdb(echo)
    g.ok("break irq_handler")
    g.ok("continue")
    g.ok("delete")
    bt = g.ok("bt").text                    # start.S's CFI: the entry is the outermost frame
    assert re.search(r"#0 .*irq_handler .*\n#1 .*irq_entry", bt) and "#2" not in bt, bt
    elr = _value(g, "$elr_el1")
    vbar = _value(g, "$vbar_el1")
    assert vbar == _value(g, "&vectors")
    for _ in range(40):
        g.ok("reverse-stepi")
        here = where(g)
        if not here.startswith(("irq_handler", "irq_entry", "vectors")):
            break
    else:
        raise AssertionError(f"still in the handler after 40 reverse-stepi: {where(g)}")
    # The last instruction run before the interrupt was taken: the wfi it woke.
    pc = g.pc()
    assert pc + 4 == elr, (hex(pc), hex(elr))
    assert "wfi" in g.ok("x/i $pc").text
    # One instruction on, the exception entry: the IRQ vector, the return address saved.
    g.ok("stepi")
    assert g.pc() == vbar + IRQ_VECTOR
    assert _value(g, "$elr_el1") == elr
    cpsr = int(g.ok("p/x $cpsr").text.split("=")[1], 16)
    assert cpsr >> 7 & 1 and (cpsr >> 2 & 3) == 1, hex(cpsr)       # IRQs masked, EL1
    assert _value(g, "$spsr_el1") >> 7 & 1 == 0                       # they were not before


def test_el1_registers_are_what_the_firmware_reads(calls, board_gdb) -> None:
    g = board_gdb(calls)
    g.ok("break *sync_handler")             # its first instruction: x0 is the ESR sync_entry read
    assert g.ok("continue").func == "sync_handler"
    esr = _value(g, "$esr_el1")
    assert esr == _value(g, "$x0") == (0x15 << 26) | (1 << 25) | 0x42      # svc #0x42, as the firmware read it
    elr = _value(g, "$elr_el1")
    assert "svc" in g.ok(f"x/i {elr - 4}").text                             # the return address: past the svc
    assert _value(g, "$sp_el1") == _value(g, "$sp")                         # the stack in use at EL1h
    text = g.ok("info registers esr_el1 spsr_el1 far_el1 vbar_el1 sp_el0").text
    for name in ("esr_el1", "spsr_el1", "far_el1", "vbar_el1", "sp_el0"):
        assert name in text
    assert g.cmd("set $esr_el1 = 0").result == "error"                      # a replay is read-only


def test_monitor_info_board_shows_the_interrupts(echo, board_gdb) -> None:
    g = board_gdb(echo)
    g.ok("break irq_handler")
    g.ok("continue")                        # the first interrupt: the timer's, not yet acknowledged
    text = g.ok("monitor info board").text
    assert re.search(rf"gic enabled: {TIMER_INTID} {UART_INTID}\b", text), text
    assert re.search(rf"gic pending: {TIMER_INTID}\b", text), text
    assert "uart0: rx fifo" in text and "timer virt: ctl=0x1" in text
    g.ok("delete")
    g.ok("watch *(unsigned int *)&head")    # the UART handler stores a byte it read
    g.ok("continue")
    text = g.ok("monitor info board").text
    assert re.search(r"gic active:\s+33\b", text), text


def test_repl_on_a_board_trace(echo) -> None:
    from replay import open_trace
    from ttdbg.repl import Repl
    from ttdbg.session import DebugSession

    _, trace = echo
    r = Repl(DebugSession(open_trace(str(trace))), use_gdb=False)
    assert "Breakpoint 1 at" in r.execute("break irq_handler")
    assert "irq_handler" in r.execute("continue")
    bt = r.execute("bt")
    assert bt.startswith("#0  irq_handler () at echo.c:"), bt
    board = r.execute("info board")
    assert f"gic pending: {TIMER_INTID}" in board and "uart0" in board
    at = r.execute("when")
    r.execute("reverse-stepi")
    assert r.execute("when") != at
    assert "elr_el1" in r.execute("info registers")
    assert "cpu0" in r.execute("info threads")
    r.execute("delete")
    r.execute("stepi")
    assert r.execute("when") == at


def _registers(g) -> dict[str, str]:
    """Some registers' raw values (QEMU describes cpsr as a plain integer, ttdbg with its flags)."""
    text = g.ok("info registers x0 x1 x2 x3 x29 x30 sp pc cpsr").text
    return {line.split()[0]: line.split()[1] for line in text.splitlines() if line.strip()}


def _entry_and_main(g) -> list[str]:
    """Where gdb stands over 20 steps from the entry, then N_STEPS from main (stopped there
    by a breakpoint: the zeroing of .bss between is long)."""
    first = steps(g, 20)
    g.ok("tbreak main")
    g.ok("continue")
    return first + steps(g, N_STEPS)


@pytest.mark.skipif(QEMU_SYSTEM is None, reason="qemu-system-aarch64 is not installed")
def test_forward_stepi_from_the_entry_matches_qemu(echo, board_gdb, gdb, tmp_path: Path) -> None:
    """Before the first interrupt, gdb's single steps from the entry point over the trace
    are QEMU's (`-M virt -cpu cortex-a57 -S` with its gdb stub): the same places, the
    same registers."""
    firmware, _ = echo
    g = board_gdb(echo)
    ours = _entry_and_main(g)
    our_regs = _registers(g)
    port = free_port()
    qemu = subprocess.Popen([QEMU_SYSTEM, "-M", "virt", "-cpu", "cortex-a57", "-nographic", "-monitor", "none",
                             "-serial", "null", "-semihosting", "-kernel", str(firmware),
                             "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        q = gdb(firmware, gdb_path=GDB_MULTIARCH)
        deadline = time.monotonic() + 10
        while q.cmd(f"-target-select remote 127.0.0.1:{port}").error:
            assert time.monotonic() < deadline, "qemu-system-aarch64 -gdb did not listen"
            time.sleep(0.1)
        theirs = _entry_and_main(q)
        their_regs = _registers(q)
    finally:
        qemu.kill()
        qemu.wait(5)
    assert ours == theirs
    assert ours[0] == "_start" and ours[-N_STEPS - 1] == "main"
    assert our_regs == their_regs
