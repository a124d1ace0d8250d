"""Record and replay speed of firmware on the virt board, side by side with QEMU's record/replay.

Builds tests/guests/board/echo.c (aarch64-linux-gnu-gcc, -ffreestanding
-nostdlib) into a temporary directory, records it with BYTES of text on its
UART (stdin from a file, stdout to /dev/null) and replays it with the UART
output to null.  Prints instructions, interrupts, seconds and MIPS of both.

Then the same for tests/guests/board/spin.c, CPU-bound integer work with the
timer ticking at 1 kHz (--rounds of 1024 iterations): the engine's speed on
firmware that computes.

Where qemu-system-aarch64 is installed, the same two firmwares run on
`qemu-system-aarch64 -M virt -cpu cortex-a57 -semihosting -display none
-monitor none -serial stdio` (-nographic's monitor mux hangs QEMU 7.2's
replay): plainly, then with `-icount shift=auto,rr=record,rrfile=F` and
`rr=replay`.  The echo runs on QEMU take QEMU_BYTES of input (ttdbg records
the same input for the instruction count) fed one byte per QEMU_PACE
seconds at record: QEMU 7.2's record writes every chunk it read to the
UART whatever room the guest has, so faster input arrives corrupted (NULs,
lost bytes, a segfault: measured).  Instructions are ttdbg's exact count of
the same firmware and input (QEMU's differ a little: other tick counts).
The table gives wall and CPU seconds of each whole run, start-up
included (QEMU's CPU from its rusage: with
-icount sleep=on, its default, QEMU waits while the guest's clock is ahead
of real time) and MIPS over each.  Then, where gdb-multiarch and qemu-img
are installed, QEMU's reverse-stepi and reverse-continue latency on spin.c
through its gdbstub (rr=replay with rrsnapshot=init, which needs a qcow2
drive for the snapshot); ttdbg's own figures: benchmarks/bench_board_gdb.py.

    python benchmarks/bench_board.py [--bytes N] [--rounds N] [--qemu-bytes N] [--no-qemu]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "board"))

from conftest import build_firmware  # noqa: E402

from replay import record_board, replay_board  # noqa: E402
from replay.trace import create_trace  # noqa: E402


@contextlib.contextmanager
def redirected(fd: int, path: str, flags: int) -> Iterator[None]:
    saved = os.dup(fd)
    target = os.open(path, flags)
    os.dup2(target, fd)
    os.close(target)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


QEMU = shutil.which("qemu-system-aarch64")
QEMU_ARGS = ("-M", "virt", "-cpu", "cortex-a57", "-semihosting", "-display", "none", "-monitor", "none",
             "-serial", "stdio")
QEMU_PACE = 0.001


@dataclass
class Row:
    firmware: str
    run: str
    icount: int
    wall: float
    cpu: float
    note: str = ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bytes", type=int, default=20000, help="input length (default 20000)")
    ap.add_argument("--rounds", type=int, default=20000, help="spin.c's rounds of 1024 iterations (default 20000)")
    ap.add_argument("--qemu-bytes", type=int, default=2000, help="the echo input on QEMU (default 2000)")
    ap.add_argument("--no-qemu", action="store_true", help="ttdbg only")
    args = ap.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        echo = build_firmware(Path(tmp))
        spin = build_firmware(Path(tmp), "spin")
        echo_rows = measure(Path(tmp), "echo", echo, line_input(args.bytes))
        rows += echo_rows
        spin_in = f"{args.rounds}\n".encode()
        spin_rows = measure(Path(tmp), "spin", spin, spin_in)
        if QEMU is not None and not args.no_qemu:
            short = line_input(args.qemu_bytes)
            if args.qemu_bytes == args.bytes:
                short_rows = echo_rows
            else:
                short_rows = measure(Path(tmp), "echo", echo, short)
                rows += short_rows
            rows += qemu_rows(Path(tmp), "echo", echo, short, short_rows[0].icount, QEMU_PACE)
            rows += spin_rows
            rows += qemu_rows(Path(tmp), "spin", spin, spin_in, spin_rows[0].icount, 0.0)
        else:
            rows += spin_rows
        if QEMU is not None and not args.no_qemu and shutil.which("gdb-multiarch") and shutil.which("qemu-img"):
            qemu_reverse(Path(tmp), spin, spin_in)
    print_table(rows)


QEMU_GDB_SCRIPT = """
import gdb, json, time
def timed(command):
    t = time.perf_counter()
    gdb.execute(command, to_string=True)
    return time.perf_counter() - t
out = {}
gdb.execute("break putnum", to_string=True)
out["continue_to_the_end"] = timed("continue")
out["reverse_stepi"] = [timed("reverse-stepi") for _ in range(3)]
gdb.execute("delete", to_string=True)
gdb.execute("watch interval", to_string=True)
out["reverse_continue_to_watch"] = timed("reverse-continue")
out["stopped"] = gdb.execute("frame", to_string=True).splitlines()[0]
print("BENCH " + json.dumps(out))
"""


def qemu_reverse(tmp: Path, fw: Path, text: bytes) -> None:
    """QEMU's reverse debugging of spin.c through its gdbstub: rr=record with
    rrsnapshot=init (the snapshot needs a qcow2 drive), rr=replay under gdb-multiarch:
    `continue` to putnum (after all the work), three `reverse-stepi`, then `watch
    interval` (written once by main, before the work) and `reverse-continue`."""
    import json
    import socket

    disk = tmp / "rr-snapshots.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(disk), "16M"], check=True, capture_output=True)
    drive = ("-drive", f"file={disk},if=none,id=rr")
    rr = tmp / "spin-gdb.rr"
    _, _, status, _ = run_qemu(fw, (*drive, "-icount", f"shift=auto,rr=record,rrfile={rr},rrsnapshot=init"),
                               text, 0.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp / "qemu_gdb.py"
    script.write_text(QEMU_GDB_SCRIPT)
    qemu = subprocess.Popen([QEMU, *QEMU_ARGS, "-kernel", str(fw), *drive, "-icount",
                             f"shift=auto,rr=replay,rrfile={rr},rrsnapshot=init", "-gdb", f"tcp:127.0.0.1:{port}",
                             "-S"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        gdb = subprocess.run(["gdb-multiarch", "-q", "-batch", "-nx", "-ex", "set pagination off", "-ex",
                              f"target remote 127.0.0.1:{port}", "-ex", f"source {script}", str(fw)],
                             capture_output=True, text=True, timeout=600)
    finally:
        qemu.kill()
        qemu.wait()
    line = next((ln for ln in gdb.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        print(f"qemu reverse debugging (record status {status}): no result; gdb said: {gdb.stdout[-300:]!r}")
        return
    out = json.loads(line[6:])
    steps = ", ".join(f"{t:.2f}" for t in out["reverse_stepi"])
    print(f"\nqemu rr=replay under gdb-multiarch (spin, rrsnapshot=init): continue to putnum "
          f"{out['continue_to_the_end']:.2f} s; reverse-stepi {steps} s; reverse-continue to the write of "
          f"`interval` {out['reverse_continue_to_watch']:.2f} s, stopped at: {out['stopped']}")


def line_input(size: int) -> bytes:
    line = b"the quick brown fox jumps over the lazy dog 0123456789\n"
    return (line * (size // len(line) + 1))[:size] + b"\x04"


def measure(tmp: Path, name: str, fw: Path, text: bytes) -> list[Row]:
    inp = Path(tmp) / f"{name}.in"
    inp.write_bytes(text)
    trace = create_trace(os.path.join(tmp, f"{name}-{len(text)}"), str(fw))
    sys.stdout.flush()
    cpu, wall = time.process_time(), time.perf_counter()
    with redirected(0, str(inp), os.O_RDONLY), redirected(1, os.devnull, os.O_WRONLY):
        rec = record_board("virt", str(fw), fw.read_bytes(), trace, uart="stdio")
    rec_cpu, rec_wall = time.process_time() - cpu, time.perf_counter() - wall
    trace.release()
    cpu, wall = time.process_time(), time.perf_counter()
    rep = replay_board(trace, uart="null")
    rep_cpu, rep_wall = time.process_time() - cpu, time.perf_counter() - wall
    assert (rep.icount, rep.status) == (rec.icount, rec.status)
    label = f"{name} ({len(text):,} B in)" if name == "echo" else f"{name} ({text.decode().strip()} rounds)"
    for what, r in (("record", rec), ("replay", rep)):
        print(f"{name} {what}: {r.icount:,} instructions, {r.interrupts:,} interrupts, {len(text):,} input bytes, "
              f"{r.seconds:.2f} s, {r.icount / r.seconds / 1e6:.2f} MIPS, "
              f"{len(text) / r.seconds / 1e3:.1f} KB/s of input", flush=True)
    # wall and CPU seconds of the whole call, set-up included, as QEMU's are; the run alone in the note
    return [Row(label, "ttdbg record", rec.icount, rec_wall, rec_cpu,
                f"{rec.interrupts:,} interrupts; the run {rec.seconds:.2f} s = "
                f"{rec.icount / rec.seconds / 1e6:.1f} MIPS"),
            Row(label, "ttdbg replay", rep.icount, rep_wall, rep_cpu,
                f"the run {rep.seconds:.2f} s = {rep.icount / rep.seconds / 1e6:.1f} MIPS")]


def run_qemu(fw: Path, extra: tuple[str, ...], text: bytes | None, pace: float, ready: bytes = b"",
             timeout: float = 300) -> tuple[float, float, int, bytes]:
    """QEMU on `fw`: `text` on its UART once its output holds `ready`, one byte per `pace`
    seconds (None: no input).  Returns wall seconds, CPU seconds, the exit status (-1:
    killed after `timeout` seconds) and the UART output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen([QEMU, *QEMU_ARGS, "-kernel", str(fw), *extra],
                            stdin=subprocess.DEVNULL if text is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    output = bytearray()
    seen = threading.Event()
    if not ready:
        seen.set()

    def collect() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(65536):
            output.extend(chunk)
            if ready in output:
                seen.set()
        seen.set()

    def feed() -> None:
        assert proc.stdin is not None and text is not None
        seen.wait()
        try:
            for i in range(0, len(text), 1 if pace else len(text)):
                proc.stdin.write(text[i:i + 1] if pace else text)
                proc.stdin.flush()
                time.sleep(pace)
        except (BrokenPipeError, ValueError):
            pass

    threads = [threading.Thread(target=collect, daemon=True)]
    if text is not None:
        threads.append(threading.Thread(target=feed, daemon=True))
    for t in threads:
        t.start()
    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = -1
    wall = time.perf_counter() - started
    threads[0].join(5)
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, status, bytes(output)


def qemu_rows(tmp: Path, name: str, fw: Path, text: bytes, icount: int, pace: float) -> list[Row]:
    label = f"{name} ({len(text):,} B in)" if name == "echo" else f"{name} ({text.decode().strip()} rounds)"
    rows = []
    ready = b"ready\n" if name == "echo" else b""
    wall, cpu, status, plain = run_qemu(fw, (), text, 0.0, ready)
    rows.append(Row(label, "qemu (no icount)", icount, wall, cpu, f"status {status}"))
    rr = tmp / f"{name}.rr"
    wall, cpu, status, recorded = run_qemu(fw, ("-icount", f"shift=auto,rr=record,rrfile={rr}"), text, pace, ready)
    paced = f", input {pace * 1000:g} ms/byte" if pace else ""
    rows.append(Row(label, "qemu rr=record", icount, wall, cpu, f"status {status}{paced}"))
    wall, cpu, status, replayed = run_qemu(fw, ("-icount", f"shift=auto,rr=replay,rrfile={rr}"), None, 0.0,
                                           timeout=120)
    same = "output as recorded" if replayed == recorded else "OUTPUT DIFFERS from the recording"
    rows.append(Row(label, "qemu rr=replay", icount, wall, cpu, f"status {status}, {same}"))
    print(f"{name} on qemu: plain {len(plain):,} bytes out, record {len(recorded):,}, replay {len(replayed):,}",
          flush=True)
    return rows


def print_table(rows: list[Row]) -> None:
    print(f"\n{'firmware':<22} {'run':<18} {'instructions':>13} {'wall s':>7} {'CPU s':>7} "
          f"{'MIPS wall':>9} {'MIPS CPU':>9}  note")
    for r in rows:
        print(f"{r.firmware:<22} {r.run:<18} {r.icount:>13,} {r.wall:>7.2f} {r.cpu:>7.2f} "
              f"{r.icount / r.wall / 1e6:>9.2f} {r.icount / max(r.cpu, 1e-6) / 1e6:>9.2f}  {r.note}")
    print(f"(loadavg {' '.join(open('/proc/loadavg').read().split()[:3])})")


if __name__ == "__main__":
    main()
