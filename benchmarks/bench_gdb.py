"""Round trips of a real gdb against `ttdbg serve` on the ~490M-instruction compute trace.

    python benchmarks/bench_gdb.py [ROUNDS] [--steps N] [--keep]

Builds benchmarks/gdb_bench.c (compute.c plus a tail of lines with known
instruction distances; static, -O1 -g), records it, serves the trace with
`python -m ttdbg serve --port 0 --once` and drives gdb through pygdbmi.
Each figure is the wall time from writing the MI command to reading its
``*stopped`` record, so it includes gdb's own traffic (register and memory
reads after every stop):

- ``continue`` from the first instruction to a breakpoint on the last line
  and then to the end of the history, against ``ttdbg replay -a`` of the
  same trace;
- N ``reverse-stepi`` at the end of the trace (p50, p99, max);
- ``reverse-next`` over the line whose call runs ~10 million instructions;
- ``reverse-continue`` to a watchpoint whose last write is ~30 million
  instructions back.

Targets: reverse-stepi p50 < 10 ms, reverse-next < 1 s, reverse-continue < 2 s.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pygdbmi.gdbcontroller import GdbController

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = HERE / "gdb_bench.c"
TARGETS = {"reverse-stepi p50": 0.010, "reverse-next": 1.0, "reverse-continue": 2.0}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line_of(marker: str) -> int:
    for number, text in enumerate(SOURCE.read_text().splitlines(), 1):
        if marker in text:
            return number
    raise SystemExit(f"{marker!r} not in {SOURCE}")


def env_for(tmp: Path) -> dict[str, str]:
    env = dict(os.environ, TTDBG_TRACE_DIR=str(tmp / "traces"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("TTDBG_LOG", None)
    return env


class Gdb:
    """A minimal, low-latency MI driver: write a tokened command, poll for its records."""

    def __init__(self, program: Path) -> None:
        self.ctrl = GdbController(command=["gdb", "--nx", "--quiet", "--interpreter=mi3", str(program)],
                                  time_to_check_for_additional_output_sec=0.0005)
        self.token = 0
        for setting in ("mi-async on", "confirm off", "pagination off", "width 0"):
            self.run(f"-gdb-set {setting}")

    def run(self, command: str, timeout: float = 600.0) -> tuple[float, list[dict]]:
        """(seconds until the result, or the *stopped after ^running; all records)."""
        self.token += 1
        token = self.token
        line = f"{token}{command}" if command.startswith("-") else \
            f'{token}-interpreter-exec console "{command}"'
        start = time.perf_counter()
        self.ctrl.write(line, read_response=False)
        records: list[dict] = []
        running = False
        deadline = start + timeout
        while time.perf_counter() < deadline:
            for r in self.ctrl.get_gdb_response(timeout_sec=0.002, raise_error_on_timeout=False):
                records.append(r)
                if r["type"] == "result" and r.get("token") == token:
                    if r["message"] == "error":
                        raise SystemExit(f"gdb: {command}: {r['payload']}")
                    if r["message"] != "running":
                        return time.perf_counter() - start, records
                    running = True
                elif running and r["type"] == "notify" and r["message"] == "stopped":
                    return time.perf_counter() - start, records
        raise SystemExit(f"gdb: no answer to {command!r} in {timeout} s")

    def text(self, command: str) -> str:
        _, records = self.run(command)
        return "".join(r["payload"] for r in records if r["type"] in ("console", "target", "log")
                       and isinstance(r["payload"], str))

    def when(self) -> int:
        m = re.search(r"Current instruction: ([\d,]+)", self.text("monitor when"))
        assert m
        return int(m.group(1).replace(",", ""))

    def stopped_line(self, records: list[dict]) -> int | None:
        for r in reversed(records):
            if r["type"] == "notify" and r["message"] == "stopped":
                line = (r["payload"] or {}).get("frame", {}).get("line")
                return int(line) if line else None
        return None

    def close(self) -> None:
        self.ctrl.exit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=12000)
    parser.add_argument("--steps", type=int, default=200, help="reverse-stepi round trips (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if shutil.which("gdb") is None or shutil.which("gcc") is None:
        print("bench_gdb: needs gdb and gcc", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="bench-gdb-"))
    env = env_for(tmp)
    prog = tmp / "gdb_bench"
    subprocess.run(["gcc", "-O1", "-g", "-static", "-o", str(prog), str(SOURCE)], check=True)
    trace = tmp / "trace"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", str(trace), str(prog), str(args.rounds)],
                   check=True, env=env, cwd=tmp, stdout=subprocess.DEVNULL)
    record_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ttdbg", "replay", "-a", "-q", str(trace)], check=True, env=env, cwd=tmp)
    autopilot_s = time.perf_counter() - t0

    err_path = tmp / "serve.err"
    with open(err_path, "wb") as err:
        server = subprocess.Popen([sys.executable, "-m", "ttdbg", "serve", str(trace), "--port", "0", "--once"],
                                  stderr=err, stdout=subprocess.DEVNULL, env=env, cwd=tmp)
    rows: list[tuple[str, str]] = []
    ok = True
    g = None
    try:
        port = None
        for _ in range(3000):
            m = re.search(r"target remote [\d.]+:(\d+)", err_path.read_text())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.01)
        if port is None:
            raise SystemExit(f"ttdbg serve did not start:\n{err_path.read_text()}")
        g = Gdb(prog)
        connect_s, _ = g.run(f"-target-select remote 127.0.0.1:{port}")
        total = int(re.search(r"of ([\d,]+)", g.text("monitor when")).group(1).replace(",", ""))
        rows.append(("trace", f"{total:,} instructions; recorded in {record_s:.1f} s"))
        rows.append(("connect", f"{connect_s * 1000:.0f} ms"))

        end_line, ten_line, twenty_line, marker_line = (line_of(f"BENCH: {m}") for m in ("end", "10M", "20M", "marker"))
        g.run(f"break gdb_bench.c:{end_line}")
        cont_s, _ = g.run("-exec-continue")
        at_end_line = g.when()
        g.run("-break-delete")
        rest_s, _ = g.run("-exec-continue")
        rows.append(("continue start -> last line", f"{cont_s:.2f} s ({at_end_line:,} instructions, "
                                                    f"{at_end_line / cont_s / 1e6:.0f} MIPS)"))
        rows.append(("continue -> end of history", f"{rest_s * 1000:.0f} ms"))
        rows.append(("ttdbg replay -a (whole trace)", f"{autopilot_s:.2f} s (process start included)"))

        # reverse-stepi at the end of the trace
        times = []
        start_pos = g.when()
        for _ in range(args.steps):
            dt, _ = g.run("-exec-step-instruction --reverse")
            times.append(dt)
        assert g.when() == start_pos - args.steps, "reverse-stepi did not move one instruction each"
        p50 = pct(times, 50)
        rows.append((f"reverse-stepi x{args.steps}", f"p50 {p50 * 1000:.1f} ms, p99 {pct(times, 99) * 1000:.1f} ms, "
                                                    f"max {max(times) * 1000:.1f} ms, mean "
                                                    f"{statistics.mean(times) * 1000:.1f} ms"))

        def from_last_line(command: str, expected: int) -> tuple[float, int, str]:
            """Run `command` from the start of the last line: (seconds, line landed on, report)."""
            g.text(f"monitor goto {at_end_line}")
            g.text("maintenance flush register-cache")
            before = g.when()
            seconds, records = g.run(command)
            landed = g.stopped_line(records)
            crossed = before - g.when()
            return seconds, landed, (f"{seconds * 1000:.0f} ms ({crossed:,} instructions back, "
                                     f"line {landed}, expected {expected})")

        # reverse-next over the ~10M-instruction call on the line before
        rn_s, landed, report = from_last_line("-exec-next --reverse", ten_line)
        rows.append(("reverse-next over burn(10M)", report))
        ok &= landed == ten_line
        # watchpoint on `marker`, last written ~30M instructions before the last line
        g.run("-break-watch marker")
        rc_s, landed, report = from_last_line("-exec-continue --reverse", marker_line)
        rows.append(("reverse-continue to watchpoint", report))
        ok &= landed == marker_line
        _ = twenty_line

        judged = {"reverse-stepi p50": p50, "reverse-next": rn_s, "reverse-continue": rc_s}
    finally:
        if g is not None:
            g.close()
        server.terminate()
        server.wait(10)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    width = max(len(k) for k, _ in rows)
    print(f"gdb round trips on benchmarks/gdb_bench.c ({args.rounds} rounds)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    for name, limit in TARGETS.items():
        verdict = "ok" if judged[name] < limit else "MISSED"
        print(f"  target {name} < {limit * 1000:.0f} ms: {verdict}")
        ok &= judged[name] < limit
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
