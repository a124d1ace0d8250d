"""Trace sizes with the shared file store, against self-contained (packed) traces.

    python benchmarks/bench_trace_size.py [RUNS]

Records RUNS (default 5) times each of `python3 -c 'print(1)'` and `gcc -o hello
hello.c`, and `rustc --version` twice (when rustc is on PATH), each program into
its own fresh $TTDBG_TRACE_DIR.  Prints `du -sh` of that directory as recorded
(captured files shared through $TTDBG_TRACE_DIR/.ttdbg-files by hard links),
then after `ttdbg pack` of every trace and removing the store: every trace with
its own copy of every captured file, which is what every trace held before the
store.  Checks each packed trace still replays with the recorded status.
Not part of the test suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STORE = ".ttdbg-files"


def ttdbg(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ttdbg", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=1800)


def du(path: Path) -> str:
    return subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


def measure(name: str, argv: list[str], runs: int, base: Path) -> None:
    root = base / name
    work = base / f"{name}-work"
    root.mkdir()
    work.mkdir()
    (work / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    env = {**os.environ, "TTDBG_TRACE_DIR": str(root)}
    statuses = []
    for _ in range(runs):
        rec = ttdbg("record", "-q", *argv, env=env, cwd=work)
        statuses.append(rec.returncode)
    traces = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and p.name != STORE)
    shared = du(root)
    for trace in traces:
        ttdbg("pack", str(trace), env=env, cwd=work)
    shutil.rmtree(root / STORE, ignore_errors=True)
    packed = du(root)
    replays = [ttdbg("replay", "-a", "-q", str(t), env=env, cwd=work).returncode for t in traces]
    ok = "ok" if replays == statuses else f"REPLAY STATUSES {replays} != RECORDED {statuses}"
    print(f"{name:<10} {len(traces)} traces  shared store: {shared:>6}   packed (as before): {packed:>6}   "
          f"packed replays: {ok}", flush=True)


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory(prefix="ttdbg-size-") as tmp:
        base = Path(tmp)
        measure("python3", ["/usr/bin/python3", "-c", "print(1)"], runs, base)
        if shutil.which("gcc"):
            measure("gcc", ["gcc", "-o", "hello", "hello.c"], runs, base)
        else:
            print("gcc        not installed: skipped")
        if shutil.which("rustc"):
            measure("rustc", ["rustc", "--version"], 2, base)
        else:
            print("rustc      not installed: skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
