"""Firmware on the mps2-an385 board (Cortex-M3): record with UART input from a pipe, replay
with the input closed and the output to a file: the same output, ticks and end.  Where
qemu-system-arm is installed, its output for the same firmware and input is the same too
(tick counts aside).  The exception entry/return known answers run on both."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from harness import Ttdbg
from mbuild import build_m_firmware

TICKS = re.compile(rb"ticks=(\d+)")
QEMU = shutil.which("qemu-system-arm")


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_m_firmware(tmp_path_factory.mktemp("m_fw"), "echo")


def record_live(ttdbg: Ttdbg, firmware: Path, trace: Path, text: bytes) -> tuple[int, bytes, bytes]:
    """Record with stdin a pipe, the input written a while after the firmware is ready
    (so SysTick ticks before it arrives)."""
    proc = subprocess.Popen(ttdbg.argv("record", "-q", "--board", "mps2-an385", "-o", trace, firmware),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ttdbg.env, cwd=ttdbg.workdir)
    assert proc.stdout is not None and proc.stdin is not None
    first = proc.stdout.readline()
    time.sleep(0.2)
    proc.stdin.write(text)
    proc.stdin.flush()
    out, err = proc.communicate(timeout=120)
    return proc.returncode, first + out, err


def run_qemu(firmware: Path, text: bytes) -> tuple[int, bytes]:
    assert QEMU is not None
    proc = subprocess.Popen([QEMU, "-M", "mps2-an385", "-nographic", "-semihosting", "-kernel", str(firmware)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    first = proc.stdout.readline() if text else b""
    proc.stdin.write(text)
    proc.stdin.flush()
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, (first + out).replace(b"\r\n", b"\n")


def test_record_pipe_replay_file(ttdbg: Ttdbg, echo: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t"
    status, out, err = record_live(ttdbg, echo, trace, b"hello, cortex-m\nline two\x04")
    assert status == 3, err
    assert out.startswith(b"echo firmware ready\nHELLO, CORTEX-M\nLINE TWO\nticks=")
    assert int(TICKS.search(out).group(1)) > 0
    dest = tmp_path / "uart.txt"
    rep = ttdbg("replay", "-a", trace, "--uart", f"file:{dest}", "--stats", stdin=None)
    assert rep.status == 3, rep.err
    assert rep.stdout == b"" and dest.read_bytes() == out
    assert "without divergence" in rep.err
    again = ttdbg("replay", "-a", trace)
    assert (again.status, again.stdout) == (3, out)
    assert "CHAR_READ fd=0" in ttdbg("dump", trace, "--kind", "char_read").out
    info = ttdbg("info", trace).out
    assert "board:        mps2-an385" in info and "arm (ELF machine 40)" in info


def test_semihosting_exit_zero(ttdbg: Ttdbg, echo: Path, tmp_path: Path) -> None:
    rec = ttdbg("record", "-q", "--board", "mps2-an385", "-o", tmp_path / "t", echo, stdin=b"ok!")
    assert rec.status == 0, rec.err
    assert rec.stdout.startswith(b"echo firmware ready\nOK\nticks=")
    rep = ttdbg("replay", "-a", tmp_path / "t")
    assert (rep.status, rep.stdout) == (0, rec.stdout)


def test_exception_entry_return_known_answers(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """svc from Thread mode with every register set and SP 4 off alignment: the handler sees
    IPSR 11, lr 0xFFFFFFF9, the padded frame; every register comes back (kat.c)."""
    fw = build_m_firmware(tmp_path, "kat", "kat_regs.S")
    rec = ttdbg("record", "-q", "--board", "mps2-an385", "-o", tmp_path / "t", fw)
    assert rec.stdout.endswith(b"kat: ok\n"), rec.stdout.decode()
    assert rec.status == 0
    rep = ttdbg("replay", "-a", tmp_path / "t")
    assert (rep.status, rep.stdout) == (0, rec.stdout)
    if QEMU is not None:
        assert run_qemu(fw, b"") == (0, rec.stdout)


def test_faults_enter_hardfault(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """An undefined instruction, a load from nothing and a bkpt without a debugger each enter
    HardFault with the faulting instruction stacked (fault.c steps over them): as on QEMU."""
    fw = build_m_firmware(tmp_path, "fault", "fault_regs.S")
    rec = ttdbg("record", "-q", "--board", "mps2-an385", "--uart", "stdio", "-o", tmp_path / "t", fw)
    assert rec.status == 3, rec.err
    assert rec.stdout.count(b"hardfault at ") == 3 and rec.stdout.endswith(b"after bkpt\n")
    assert rec.stdout.count(b"ipsr=00000003") == 3
    rep = ttdbg("replay", "-a", tmp_path / "t")
    assert (rep.status, rep.stdout) == (3, rec.stdout)
    if QEMU is not None:
        assert run_qemu(fw, b"") == (3, rec.stdout)


def test_periodic_ticks_fire_on_time(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """SysTick at 1 kHz is 25,000 instructions: the count printed matches the instructions run
    (the first tick too: programming SysTick makes its deadline a check point at once)."""
    fw = build_m_firmware(tmp_path, "spin")
    trace = tmp_path / "t"
    rec = ttdbg("record", "-q", "--board", "mps2-an385", "--uart", "stdio", "-o", trace, fw)
    assert rec.status == 0, rec.err
    ticks = int(rec.stdout.split()[1])
    icount = int(re.search(r"instructions: +([\d,]+)", ttdbg("info", trace).out).group(1).replace(",", ""))
    assert icount > 1_000_000
    assert abs(ticks - icount / 25_000) <= 1
    rep = ttdbg("replay", "-a", trace)
    assert (rep.status, rep.stdout) == (0, rec.stdout)


def test_stuck_firmware_ends(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """wfi with SysTick off and the input at its end: the run ends, in one line."""
    build_m_firmware(tmp_path, "echo")              # (skips when the compiler is missing)
    src = tmp_path / "wfi.S"
    src.write_text(".syntax unified\n.thumb\n.section .vectors, \"a\"\n.word 0x20001000\n.word reset\n"
                   ".text\n.thumb_func\nreset:\n  wfi\n  b reset\n")
    elf = tmp_path / "wfi.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m3", "-nostdlib", "-T",
                    str(Path(__file__).resolve().parent.parent / "guests" / "board_m" / "link.ld"),
                    str(src), "-o", str(elf)], check=True)
    rec = ttdbg("record", "-q", "--board", "mps2-an385", "--uart", "null", "-o", tmp_path / "t", elf)
    assert rec.status == 1
    assert "waits for an interrupt (wfi at 0x8)" in rec.err and len(rec.err.splitlines()) == 1
    rep = ttdbg("replay", "-a", tmp_path / "t")
    assert rep.status == 1


@pytest.mark.parametrize("case", ["aarch64-elf", "no-vectors", "raw-outside", "ram"])
def test_bad_input(ttdbg: Ttdbg, echo: Path, tmp_path: Path, case: str) -> None:
    if case == "aarch64-elf":
        args = ["/bin/true"]
    elif case == "no-vectors":                      # linked to run from SSRAM2/3: nothing at 0
        src = tmp_path / "v.S"
        src.write_text(".syntax unified\n.thumb\n.global _start\n_start:\n  b _start\n")
        elf = tmp_path / "v.elf"
        build_m_firmware(tmp_path, "echo")          # (skips when the compiler is missing)
        subprocess.run(["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m3", "-nostdlib", "-Wl,-Ttext=0x20000000",
                        str(src), "-o", str(elf)], check=True)
        args = [elf]
    elif case == "ram":
        args = ["--ram", "1M", echo]
    else:
        junk = tmp_path / "junk.bin"
        junk.write_bytes(b"\x00" * 64)
        args = ["--load", "0x10000000", junk]
    trace = tmp_path / "t"
    run = ttdbg("record", "--board", "mps2-an385", "-o", trace, *args)
    assert run.status in (2, 127), run.err
    assert len(run.err.splitlines()) == 1 and "Traceback" not in run.err
    assert not trace.exists()


@pytest.mark.skipif(QEMU is None, reason="qemu-system-arm is not installed")
def test_same_output_as_qemu(ttdbg: Ttdbg, echo: Path, tmp_path: Path) -> None:
    text = b"compare me\nwith qemu 123\x04"
    qemu_status, qemu_out = run_qemu(echo, text)
    status, ours, err = record_live(ttdbg, echo, tmp_path / "t", text)
    assert (status, qemu_status) == (3, 3), err
    assert TICKS.sub(b"ticks=N", ours) == TICKS.sub(b"ticks=N", qemu_out)
