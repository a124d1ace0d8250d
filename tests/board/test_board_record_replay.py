"""Firmware on the virt board: record with UART input from a pipe, replay with the input
closed and another output backend; the output, the tick count and the end are the same.
Where qemu-system-aarch64 is installed, its output for the same input is the same too
(tick counts aside)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from boardbuild import build_firmware
from harness import Ttdbg

TICKS = re.compile(rb"ticks=(\d+)")


def record_live(ttdbg: Ttdbg, firmware: Path, trace: Path, text: bytes, *extra: str) -> tuple[int, bytes, bytes]:
    """Record with stdin a pipe: the input is written once the firmware is ready, a while
    later, so timer ticks happen before it arrives."""
    proc = subprocess.Popen(ttdbg.argv("record", "-q", "--board", "virt", "-o", trace, *extra, firmware),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ttdbg.env, cwd=ttdbg.workdir)
    assert proc.stdout is not None and proc.stdin is not None
    first = proc.stdout.readline()
    time.sleep(0.1)
    proc.stdin.write(text)
    proc.stdin.flush()
    out, err = proc.communicate(timeout=120)
    return proc.returncode, first + out, err


def test_record_pipe_replay_file(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t"
    status, out, err = record_live(ttdbg, firmware, trace, b"hello, board\nsecond line\x04")
    assert status == 3, err
    assert out.startswith(b"echo firmware ready\nHELLO, BOARD\nSECOND LINE\nticks=")
    ticks = int(TICKS.search(out).group(1))
    assert ticks > 0
    dest = tmp_path / "uart.txt"
    rep = ttdbg("replay", "-a", trace, "--uart", f"file:{dest}", "--stats", stdin=None)
    assert rep.status == 3, rep.err
    assert rep.stdout == b""
    assert dest.read_bytes() == out
    assert "without divergence" in rep.err
    quiet = ttdbg("replay", "-a", trace, "--uart", "null")
    assert quiet.status == 3 and quiet.stdout == b""
    dump = ttdbg("dump", trace, "--kind", "char_read")
    assert "CHAR_READ fd=0" in dump.out and "hello" in dump.out
    info = ttdbg("info", trace)
    assert "board:        virt" in info.out


def test_psci_system_off(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t"
    rec = ttdbg("record", "-q", "--board", "virt", "-o", trace, firmware, stdin=b"ok!")
    assert rec.status == 0, rec.err
    assert rec.stdout.startswith(b"echo firmware ready\nOK\nticks=")
    rep = ttdbg("replay", "-a", trace)
    assert (rep.status, rep.stdout) == (0, rec.stdout)


def test_stuck_firmware_ends(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """wfi with no timer armed and the input at its end: the run ends, in one line."""
    src = tmp_path / "wfi.S"
    src.write_text(".global _start\n_start:\n  wfi\n  b _start\n")
    elf = tmp_path / "wfi.elf"
    if shutil.which("aarch64-linux-gnu-gcc") is None:
        pytest.skip("aarch64-linux-gnu-gcc is not installed")
    subprocess.run(["aarch64-linux-gnu-gcc", "-nostdlib", "-static", "-Wl,-Ttext=0x40080000",
                    "-Wl,--build-id=none", str(src), "-o", str(elf)], check=True)
    rec = ttdbg("record", "-q", "--board", "virt", "--uart", "null", "-o", tmp_path / "t", elf)
    assert rec.status == 1
    assert "waits for an interrupt" in rec.err and len(rec.err.splitlines()) == 1
    rep = ttdbg("replay", "-a", tmp_path / "t")
    assert rep.status == 1


@pytest.mark.parametrize("case", ["not-elf", "x86", "outside-ram", "raw-outside", "uart"])
def test_bad_input(ttdbg: Ttdbg, firmware: Path, tmp_path: Path, case: str) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 64)
    args = {"not-elf": [junk], "x86": ["/bin/true"], "outside-ram": ["--ram", "64K", firmware],
            "raw-outside": ["--load", "0x1000", junk], "uart": ["--uart", "tcp:99999", firmware]}[case]
    trace = tmp_path / "t"
    run = ttdbg("record", "--board", "virt", "-o", trace, *args)
    assert run.status in (2, 127), run.err
    assert len(run.err.splitlines()) == 1 and "Traceback" not in run.err
    assert not trace.exists()


QEMU = shutil.which("qemu-system-aarch64")


@pytest.mark.skipif(QEMU is None, reason="qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)")
def test_same_output_as_qemu(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    text = b"compare me\nwith qemu 123\x04"
    proc = subprocess.Popen([QEMU, "-M", "virt", "-cpu", "cortex-a57", "-nographic", "-kernel", str(firmware),
                             "-semihosting"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    first = proc.stdout.readline()
    proc.stdin.write(text)
    proc.stdin.flush()
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    qemu_out = (first + out).replace(b"\r\n", b"\n")
    status, ours, err = record_live(ttdbg, firmware, tmp_path / "t", text)
    assert (status, proc.returncode) == (3, 3), err
    assert TICKS.sub(b"ticks=N", ours) == TICKS.sub(b"ticks=N", qemu_out)


def test_machine_calls_and_synchronous_exceptions(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """Semihosting output and an unsupported call, PSCI_VERSION, svc and brk entering the sync
    vector with ESR_EL1 filled in: the firmware counts 4 checks passed in its exit status."""
    fw = build_firmware(tmp_path, "calls")
    rec = ttdbg("record", "-q", "--board", "virt", "--uart", "stdio", "-o", tmp_path / "t", fw)
    assert rec.stdout == b"hello from semihosting\n!\n"
    assert rec.status == 4, rec.err
    assert rec.err.count("semihosting call 0x10 is not emulated") == 1
    rep = ttdbg("replay", "-a", tmp_path / "t")
    assert (rep.status, rep.stdout) == (4, rec.stdout)


def test_periodic_ticks_fire_on_time(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """spin.c computes with a 1 kHz tick (62,500 instructions at 16 ns each): every tick is
    taken at its deadline, so the count matches the instructions run, at record and at replay."""
    fw = build_firmware(tmp_path, "spin")
    trace = tmp_path / "t"
    rec = ttdbg("record", "-q", "--board", "virt", "-o", trace, fw, stdin=b"400\n")
    assert rec.status == 0, rec.err
    ticks = int(rec.stdout.split()[1])
    info = ttdbg("info", trace).out
    icount = int(re.search(r"instructions: +([\d,]+)", info).group(1).replace(",", ""))
    assert icount > 2_000_000
    assert abs(ticks - icount / 62_500) <= 1.5
    rep = ttdbg("replay", "-a", trace)
    assert (rep.status, rep.stdout) == (0, rec.stdout)
