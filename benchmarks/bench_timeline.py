"""Time-travel costs on the ~490-million-instruction compute trace.

    python benchmarks/bench_timeline.py [ROUNDS] [--seed N]

Records benchmarks/compute.c once, then on a Timeline with default
parameters measures: 50 random seeks (p50, p99, max); 1000 consecutive
reverse single steps at the end and in the middle; a reverse-continue to a
watchpoint on `checkpoint_marker` whose last write is ~30 million
instructions back; checkpoint memory after seeking over the whole trace;
and the peak RSS.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_record_replay import build, record_trace, symbol  # noqa: E402

from replay.machine import WatchKind, Watchpoint  # noqa: E402
from replay.replayer import Replay  # noqa: E402
from replay.timeline import Direction, StopReason, Timeline  # noqa: E402
from replay.trace import open_trace  # noqa: E402

DISTANCE = 30_000_000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=12000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    prog = build()
    marker = symbol(prog, "checkpoint_marker")
    tmp = tempfile.mkdtemp(prefix="bench-tl-")
    rows: list[tuple[str, str]] = []
    try:
        path = os.path.join(tmp, "trace")
        rec_s, icount = record_trace(prog, args.rounds, path)
        rows.append(("trace", f"{icount:,} instructions, recorded in {rec_s:.2f} s"))
        tl = Timeline(Replay(open_trace(path)))
        end = tl.end.icount

        # 1. Random seeks (the first ones also lay down checkpoints).
        seeks = []
        for _ in range(50):
            n = rng.randrange(end)
            stop, s = timed(lambda n=n: tl.seek(n))
            assert stop.icount == n
            seeks.append(s)
        rows.append(("seek x50: p50 / p99 / max",
                     f"{pct(seeks, 50) * 1e3:.1f} / {pct(seeks, 99) * 1e3:.1f} / {max(seeks) * 1e3:.1f} ms"
                     f"  (mean {statistics.mean(seeks) * 1e3:.1f} ms)"))

        # 2. 1000 consecutive reverse single steps, at the end and in the middle.
        for label, start in (("end", end), ("middle", end // 2 + 12345)):
            tl.seek(start)
            steps = []
            for i in range(1000):
                stop, s = timed(lambda: tl.step(1, Direction.BACKWARD))
                assert stop.icount == start - i - 1
                steps.append(s)
            rows.append((f"1000 x step back, {label}",
                         f"total {sum(steps):.2f} s; per step p50 {pct(steps, 50) * 1e3:.2f} ms, "
                         f"p99 {pct(steps, 99) * 1e3:.2f} ms, max {max(steps) * 1e3:.1f} ms"))

        # 3. Reverse-continue to a write ~30M instructions back.
        watch = Watchpoint(marker, 8, WatchKind.WRITE)
        tl.seek(end // 3)
        tl.add_watchpoint(watch)
        first = tl.cont(Direction.BACKWARD)
        assert first.reason == StopReason.WATCHPOINT
        write = first.icount
        origin = write + DISTANCE
        tl.seek(origin)
        stop, s = timed(lambda: tl.cont(Direction.BACKWARD))
        tl.remove_watchpoint(watch)
        assert stop.reason == StopReason.WATCHPOINT
        back = origin - stop.icount
        if stop.icount != write:
            rows.append(("WARNING", f"a later write at {stop.icount:,}: only {back:,} back"))
        rows.append(("reverse-continue to watchpoint",
                     f"{s:.2f} s for {back:,} instructions back "
                     f"({back / s / 1e6:.0f} M instr/s scanned)"))
        # The same from a cold timeline: no checkpoints but the first one.
        cold = Timeline(Replay(open_trace(path)))
        cold.seek(origin)
        cold.add_watchpoint(watch)
        stop, s2 = timed(lambda: cold.cont(Direction.BACKWARD))
        assert stop.icount == write
        rows.append(("  same, fresh timeline after seek", f"{s2:.2f} s"))
        cold.replay.close()

        # 4. Checkpoint memory after seeking all over the trace.
        for n in range(0, end, end // 40):
            tl.seek(n)
        for _ in range(40):
            tl.seek(rng.randrange(end))
        mem = tl.checkpoint_memory()
        rows.append(("checkpoints after sweeping", f"{mem['checkpoints']} checkpoints, "
                     f"pages {mem['page_bytes'] / 2**20:.1f} MiB, shadow {mem['shadow_bytes'] / 2**20:.1f} MiB, "
                     f"budget {mem['budget'] / 2**20:.1f} MiB"))
        rows.append(("timeline stats", ", ".join(f"{k} {v:,}" for k, v in tl.stats.items())))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows.append(("peak RSS", f"{rss / 1024:.0f} MiB"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
