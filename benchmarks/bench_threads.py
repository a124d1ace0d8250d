"""Record and replay speed of the same work in 1, 2 and 4 threads (the scheduler's cost).

    python benchmarks/bench_threads.py [ROUNDS] [--slice N]

benchmarks/threads.c does ROUNDS rounds of integer hashing (about 12,300
instructions a round: 40,000 rounds is ~500 million instructions), in one
thread or split over 2 or 4 threads that the scheduler interleaves (a
TASK_SWITCH event every slice).  Prints, for each: record and replay times,
guest MIPS, the number of thread switches, and the time ratio to one thread
(one thread runs first and last: the first run also warms up the host).
Times are this process's CPU time (time.process_time): on a shared machine
wall-clock time measures the other processes as much as ttdbg.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from replay import DEFAULT_SLICE, EventKind  # noqa: E402
from replay.recorder import record  # noqa: E402
from replay.replayer import Replay  # noqa: E402
from replay.trace import create_trace, open_trace  # noqa: E402


def build() -> str:
    out = HERE / "build" / "threads"
    out.parent.mkdir(exist_ok=True)
    src = HERE / "threads.c"
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["gcc", "-O1", "-g", "-static", "-o", str(out), str(src)], check=True)
    return str(out)


def run(prog: str, threads: int, rounds: int, slice_length: int, workdir: str) -> tuple[float, float, int, int]:
    """(record seconds, replay seconds, instructions, switches)."""
    trace = create_trace(os.path.join(workdir, f"t{threads}"), prog, force=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1)
    sys.stdout.flush()
    os.dup2(devnull, 1)
    try:
        t = time.process_time()
        result = record(prog, [prog, str(threads), str(rounds)], trace, env=["A=1"], slice_length=slice_length)
        rec = time.process_time() - t
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    trace.release()
    assert result.status == 0, result
    replay = Replay(open_trace(trace.path))
    switches = sum(1 for e in replay.contents.events if e.kind == EventKind.TASK_SWITCH)
    t = time.process_time()
    replay.run_to_end()
    rep = time.process_time() - t
    replay.close()
    return rec, rep, result.icount, switches


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rounds", nargs="?", type=int, default=40000)
    ap.add_argument("--slice", type=int, default=DEFAULT_SLICE)
    args = ap.parse_args()
    prog = build()
    base = None
    with tempfile.TemporaryDirectory() as workdir:
        print(f"{'threads':>7} {'instructions':>14} {'switches':>9} {'rec cpu s':>9} {'MIPS':>6} "
              f"{'rep cpu s':>9} {'MIPS':>6} {'rec ratio':>9} {'rep ratio':>9}")
        for n in (1, 2, 4, 1):
            rec, rep, icount, switches = run(prog, n, args.rounds, args.slice, workdir)
            mips = (icount / rec / 1e6, icount / rep / 1e6)
            base = base or mips
            print(f"{n:>7} {icount:>14,} {switches:>9,} {rec:>9.2f} {mips[0]:>6.1f} {rep:>9.2f} {mips[1]:>6.1f} "
                  f"{base[0] / mips[0]:>9.2f} {base[1] / mips[1]:>9.2f}")


if __name__ == "__main__":
    main()
