"""Query speed: `ttdbg query` with 1 and 2 workers against a plain `ttdbg replay -a`.

    python benchmarks/bench_query.py [ITERATIONS] [--skip calls,cluster,lines,table,origin]
    (default 2,000,000 iterations: ~5e7 instructions; 62,500,000: ~1e9)

Builds benchmarks/query_work.c (gcc -O1 -static), records it, builds the
keyframes (`ttdbg index`: size and time), then times, each as a fresh
`python -m ttdbg` process, as a user sees it: `replay -a --quiet`;
`query writes rare` (a variable written once every 64 iterations),
`query writes table[1]` (a slot of an array written every iteration: a hot
page, the slot itself written once every 1024), `query calls hot` (a function
called every iteration: the slow case, a stop per call and per return) on the
first hundredth of the trace, and `query lines` on the BENCH-RARE line, each
with --jobs 1 and --jobs 2, and with --cluster on a local Dask cluster of 2
worker processes (if the extra ttdbg[cluster] is installed); then `origin
rare` at the end.  Each figure is followed by the 1-minute load average (the
machine may be shared).

On a busy machine the wall times say little, so each query also gives its CPU
seconds (from its summary line): the parent's (start-up, symbols, merging and
writing) and each worker's (scanning and making rows).  The speed-up on an
idle machine is then about (parent + worker with 1 job) / (parent + busiest
worker with 2), printed as "idle estimate".  A worker's speed is compared with
`replay -a`'s by instructions per CPU second.
Not part of the test suite.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def ttdbg(*args: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ttdbg", *args], capture_output=True, text=True, env=env)
    return time.monotonic() - t, proc


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_of(summary: str) -> tuple[float, list[float]]:
    """(parent, [each worker]) CPU seconds from a query's summary line."""
    m = re.search(r"CPU s: here ([\d.]+) .*?(?:workers ([\d. +]+))?$", summary)
    if m is None:
        return 0.0, []
    return float(m.group(1)), [float(w) for w in (m.group(2) or "").split("+") if w.strip()]


def main() -> int:
    args = sys.argv[1:]
    skip: set[str] = set()
    if "--skip" in args:
        at = args.index("--skip")
        skip = set(args[at + 1].split(",")) if at + 1 < len(args) else set()
        del args[at:at + 2]
    iterations = args[0] if args else "2000000"
    work = Path(tempfile.mkdtemp(prefix="bench-query-"))
    env = {**os.environ, "TTDBG_TRACE_DIR": str(work)}
    program = work / "query_work"
    subprocess.run(["gcc", "-O1", "-g", "-static", "-o", str(program), str(HERE / "query_work.c")], check=True)
    trace = work / "trace"
    secs, proc = ttdbg("record", "-q", "-o", str(trace), str(program), iterations, env=env)
    assert proc.returncode == 0, proc.stderr
    info = ttdbg("info", str(trace), env=env)[1].stdout
    total = int(next(line for line in info.splitlines() if line.startswith("instructions:")).split()[1]
                .replace(",", ""))
    print(f"trace: {total:,} instructions (record {secs:.1f} s, {load()})", flush=True)
    secs, proc = ttdbg("index", str(trace), env=env)
    print(f"index: {secs:.2f} s; {proc.stderr.strip()} ({load()})", flush=True)
    before = children_cpu()
    secs, proc = ttdbg("replay", "-a", "--quiet", str(trace), env=env)
    replay, replay_cpu = secs, children_cpu() - before
    print(f"replay -a: {secs:.2f} s ({total / secs / 1e6:.0f} MIPS), CPU {replay_cpu:.2f} s "
          f"({total / replay_cpu / 1e6:.0f} MIPS of CPU; {load()})", flush=True)
    cluster = None
    try:
        if "cluster" not in skip:
            from distributed import LocalCluster
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    except ImportError:
        print("(no Dask distributed: the cluster is not timed)")
    line = next(n for n, text in enumerate((HERE / "query_work.c").read_text().splitlines(), 1)
                if "BENCH-RARE" in text)
    queries = {"writes": ["writes", "rare"], "table": ["writes", "table[1]"],
               "lines": ["lines", f"query_work.c:{line}"], "calls": ["calls", "hot", "--to", str(total // 100)]}
    for words in (words for name, words in queries.items() if name not in skip):
        times, cpus = {}, {}
        ways = [("--jobs", "1"), ("--jobs", "2")] + ([("--cluster", cluster.scheduler_address)] if cluster else [])
        for how in ways:
            secs, proc = ttdbg("query", str(trace), *words, "--json", *how, env=env)
            assert proc.returncode == 0, proc.stderr
            way = how[1] if how[0] == "--jobs" else "cluster"
            summary = proc.stderr.strip().splitlines()[-1]
            times[way], cpus[way] = secs, cpu_of(summary)
            parent, workers = cpus[way]
            print(f"query {' '.join(words)} {how[0]} {'2 workers' if how[0] == '--cluster' else how[1]}: "
                  f"{secs:.2f} s, {len(proc.stdout.splitlines()):,} hits; {summary} ({load()})\n"
                  f"   CPU s: parent {parent:.2f}, workers {' + '.join(f'{w:.2f}' for w in workers)}", flush=True)
        (p1, w1), (p2, w2) = cpus["1"], cpus["2"]
        idle = (p1 + sum(w1)) / (p2 + max(w2)) if w1 and w2 else 0.0
        scanned = total if "--to" not in words else int(words[words.index("--to") + 1])
        speed = scanned / sum(w1) / (total / replay_cpu) if w1 else 0.0
        print(f"   speed-up 2 vs 1 worker: wall {times['1'] / times['2']:.2f}x, idle estimate {idle:.2f}x; "
              f"1 worker vs replay -a: wall {replay / times['1']:.2f}x, per CPU second {speed:.2f}x"
              + (f"; cluster / pool: {times['cluster'] / times['2']:.2f}x" if cluster else ""), flush=True)
    if "origin" not in skip:
        secs, proc = ttdbg("query", str(trace), "origin", "rare", env=env)
        assert proc.returncode == 0, proc.stderr
        print(f"query origin rare: {secs:.2f} s, {len(proc.stdout.splitlines())} steps ({load()})", flush=True)
    if cluster is not None:
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
