"""riscv64 record and replay speed on benchmarks/compute.c, against bare Unicorn and qemu-riscv64.

    python benchmarks/bench_riscv64.py [ROUNDS]

compute.c is cross-built (riscv64-linux-gnu-gcc -O1 -static) into
benchmarks/build/compute.riscv64; this prints the run time and guest MIPS of
qemu-riscv64 (user mode, best of 3; the instruction count is the
recording's, the same binary), of Unicorn with no hooks on the same code
(from work()'s entry to the next system call, as bench_record_replay.py
measures it), of record and of replay.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_record_replay import baseline, record_trace, replay_seconds  # noqa: E402

from replay.trace import open_trace  # noqa: E402

CC = "riscv64-linux-gnu-gcc"
QEMU = "qemu-riscv64"


def build() -> str:
    out = HERE / "build" / "compute.riscv64"
    out.parent.mkdir(exist_ok=True)
    src = HERE / "compute.c"
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        subprocess.run([CC, "-O1", "-g", "-static", "-o", str(out), str(src)], check=True)
    return str(out)


def qemu_seconds(prog: str, rounds: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([QEMU, prog, str(rounds)], stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=2400)
    args = parser.parse_args()
    for tool in (CC, QEMU):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install gcc-riscv64-linux-gnu qemu-user)")
    prog = build()
    tmp = tempfile.mkdtemp(prefix="bench-rv-")
    try:
        path = os.path.join(tmp, "trace")
        qemu_s = qemu_seconds(prog, args.rounds)
        rec_s, icount = record_trace(prog, args.rounds, path)
        rep_s, rep_icount = replay_seconds(path)
        assert rep_icount == icount, (rep_icount, icount)
        base_s, base_n = baseline(prog, path)
        size = open_trace(path).size_on_disk()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base_mips = base_n / base_s / 1e6
    print(f"guest: {os.path.relpath(prog)} {args.rounds}  ({icount:,} riscv64 instructions)")
    print(f"{'':22}{'seconds':>10}{'MIPS':>10}{'vs bare Unicorn':>18}{'vs qemu-riscv64':>18}")
    qemu_mips = icount / qemu_s / 1e6
    print(f"{'qemu-riscv64':22}{qemu_s:10.3f}{qemu_mips:10.0f}{qemu_mips / base_mips:17.2f}x{1:17.2f}x")
    print(f"{'Unicorn, no hooks':22}{base_s * icount / base_n:10.3f}{base_mips:10.0f}{1:17.2f}x"
          f"{base_mips / qemu_mips:17.3f}x")
    print(f"{'  (measured over':22}{base_s:10.3f}{'':10}  {base_n:,} instructions)")
    for name, s in (("record", rec_s), ("replay", rep_s)):
        mips = icount / s / 1e6
        print(f"{name:22}{s:10.3f}{mips:10.0f}{mips / base_mips:17.2f}x{mips / qemu_mips:17.3f}x")
    print(f"trace size: {size:,} bytes")


if __name__ == "__main__":
    main()
