"""Query speed: `ttdbg query` with 1 and 2 workers against a plain `ttdbg replay -a`.

    python benchmarks/bench_query.py [ITERATIONS]      (default 2,000,000: ~5e7 instructions)

Builds benchmarks/query_work.c (gcc -O1 -static), records it, builds the
keyframes (`ttdbg index`: size and time), then times, each as a fresh
`python -m ttdbg` process, as a user sees it: `replay -a --quiet`;
`query writes rare` (a variable written once every 64 iterations),
`query calls hot` (a function called every iteration: the slow case, a stop
per call and per return) on the first tenth of the trace, and
`query lines` on the BENCH-RARE line, each with --jobs 1 and --jobs 2.
Not part of the test suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def ttdbg(*args: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ttdbg", *args], capture_output=True, text=True, env=env)
    return time.monotonic() - t, proc


def main() -> int:
    iterations = sys.argv[1] if len(sys.argv) > 1 else "2000000"
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
    print(f"trace: {total:,} instructions (record {secs:.1f} s)")
    secs, proc = ttdbg("index", str(trace), env=env)
    print(f"index: {secs:.2f} s; {proc.stderr.strip()}")
    secs, proc = ttdbg("replay", "-a", "--quiet", str(trace), env=env)
    replay = secs
    print(f"replay -a: {secs:.2f} s ({total / secs / 1e6:.0f} MIPS)")
    line = next(n for n, text in enumerate((HERE / "query_work.c").read_text().splitlines(), 1)
                if "BENCH-RARE" in text)
    for words in (["writes", "rare"], ["lines", f"query_work.c:{line}"],
                  ["calls", "hot", "--to", str(total // 10)]):
        times = {}
        for jobs in ("1", "2"):
            secs, proc = ttdbg("query", str(trace), *words, "--json", "--jobs", jobs, env=env)
            assert proc.returncode == 0, proc.stderr
            times[jobs] = secs
            print(f"query {' '.join(words)} --jobs {jobs}: {secs:.2f} s, {len(proc.stdout.splitlines()):,} hits; "
                  f"{proc.stderr.strip().splitlines()[-1]}")
        print(f"   speed-up 2 vs 1 worker: {times['1'] / times['2']:.2f}x; "
              f"1 worker vs replay -a: {replay / times['1']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
