"""Record and replay speed of the echo firmware on the virt board under a long input.

Builds tests/guests/board/echo.c (aarch64-linux-gnu-gcc, -ffreestanding
-nostdlib) into a temporary directory, records it with BYTES of text on its
UART (stdin from a file, stdout to /dev/null) and replays it with the UART
output to null.  Prints instructions, interrupts, seconds and MIPS of both.

Then the same for tests/guests/board/spin.c, CPU-bound integer work with the
timer ticking at 1 kHz (--rounds of 1024 iterations): the engine's speed on
firmware that computes.

    python benchmarks/bench_board.py [--bytes N] [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bytes", type=int, default=20000, help="input length (default 20000)")
    ap.add_argument("--rounds", type=int, default=20000, help="spin.c's rounds of 1024 iterations (default 20000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fw = build_firmware(Path(tmp))
        measure(Path(tmp), "echo", fw, line_input(args.bytes))
        measure(Path(tmp), "spin", build_firmware(Path(tmp), "spin"), f"{args.rounds}\n".encode())


def line_input(size: int) -> bytes:
    line = b"the quick brown fox jumps over the lazy dog 0123456789\n"
    return (line * (size // len(line) + 1))[:size] + b"\x04"


def measure(tmp: Path, name: str, fw: Path, text: bytes) -> None:
    inp = Path(tmp) / f"{name}.in"
    inp.write_bytes(text)
    trace = create_trace(os.path.join(tmp, name), str(fw))
    sys.stdout.flush()
    with redirected(0, str(inp), os.O_RDONLY), redirected(1, os.devnull, os.O_WRONLY):
        rec = record_board("virt", str(fw), fw.read_bytes(), trace, uart="stdio")
    trace.release()
    rep = replay_board(trace, uart="null")
    assert (rep.icount, rep.status) == (rec.icount, rec.status)
    for what, r in (("record", rec), ("replay", rep)):
        print(f"{name} {what}: {r.icount:,} instructions, {r.interrupts:,} interrupts, {len(text):,} input bytes, "
              f"{r.seconds:.2f} s, {r.icount / r.seconds / 1e6:.2f} MIPS, "
              f"{len(text) / r.seconds / 1e3:.1f} KB/s of input")


if __name__ == "__main__":
    main()
