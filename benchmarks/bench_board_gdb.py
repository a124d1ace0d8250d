"""Reverse debugging of board traces through gdb-multiarch: how long the motions take.

Records two traces (see bench_board.py for the firmware): the echo firmware
under BYTES of UART input, and spin.c for ROUNDS rounds.  Each is served by
`ttdbg serve` to gdb-multiarch, whose own Python times the commands:

- echo: `continue` to the end of the recording, then `reverse-stepi` COUNT
  times there (the first replays from the nearest checkpoint, the next ones
  from the checkpoints it leaves on the way); the latency of each;
- spin: from the end, `watch interval` (written once, by main, before the
  work) and `reverse-continue` to that write, about all of the trace back.

    python benchmarks/bench_board_gdb.py [--bytes N] [--rounds N] [--count N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_board import line_input, redirected  # noqa: E402
from conftest import build_firmware  # noqa: E402  (tests/board, put on the path by bench_board)

from replay import record_board  # noqa: E402
from replay.trace import create_trace  # noqa: E402

GDB_SCRIPT = """
import gdb, json, time
def timed(command):
    t = time.perf_counter()
    gdb.execute(command, to_string=True)
    return time.perf_counter() - t
def when():
    text = gdb.execute("monitor when", to_string=True)
    return int(text.split(":")[1].split("of")[0].replace(",", ""))
out = {"to_end": timed("continue"), "end": when()}
if MODE == "stepi":
    out["steps"] = [timed("reverse-stepi") for _ in range(COUNT)]
    out["after"] = when()
else:
    gdb.execute("watch interval", to_string=True)
    out["reverse_continue"] = timed("reverse-continue")
    out["after"] = when()
print("BENCH " + json.dumps(out))
"""


def record(tmp: Path, name: str, fw: Path, text: bytes) -> Path:
    inp = tmp / f"{name}.in"
    inp.write_bytes(text)
    trace = create_trace(str(tmp / f"{name}-trace"), str(fw))
    sys.stdout.flush()
    with redirected(0, str(inp), os.O_RDONLY), redirected(1, os.devnull, os.O_WRONLY):
        rec = record_board("virt", str(fw), fw.read_bytes(), trace, uart="stdio")
    trace.release()
    print(f"{name}: {rec.icount:,} instructions, {rec.interrupts:,} interrupts")
    return Path(trace.path)


def under_gdb(fw: Path, trace: Path, mode: str, count: int) -> dict:
    server = subprocess.Popen([sys.executable, "-m", "ttdbg", "serve", str(trace), "--port", "0", "--once"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        port = next(line.split("=")[1].strip() for line in server.stdout if line.startswith("ttdbg-serve port="))
        script = Path(tempfile.mkdtemp()) / "bench.py"
        script.write_text(f"MODE = {mode!r}\nCOUNT = {count}\n" + GDB_SCRIPT)
        done = subprocess.run([shutil.which("gdb-multiarch") or "gdb-multiarch", "-nx", "-q", "-batch", str(fw),
                               "-ex", f"target remote 127.0.0.1:{port}", "-x", str(script)],
                              capture_output=True, text=True, timeout=3600)
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
        if line is None:
            raise SystemExit(f"gdb did not finish:\n{done.stdout}\n{done.stderr}")
        return json.loads(line[len("BENCH "):])
    finally:
        server.kill()
        server.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bytes", type=int, default=100_000, help="echo's input length (default 100000)")
    ap.add_argument("--rounds", type=int, default=4_900, help="spin.c's rounds (default 4900: about 30M instructions)")
    ap.add_argument("--count", type=int, default=20, help="reverse-stepi at the end (default 20)")
    args = ap.parse_args()
    print(f"loadavg {open('/proc/loadavg').read().split()[:3]}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        echo = build_firmware(root)
        trace = record(root, "echo", echo, line_input(args.bytes))
        r = under_gdb(echo, trace, "stepi", args.count)
        steps = sorted(r["steps"])
        print(f"echo: continue to the end ({r['end']:,}) {r['to_end']:.2f} s; reverse-stepi x{args.count} there: "
              f"first {r['steps'][0] * 1e3:.0f} ms, median {steps[len(steps) // 2] * 1e3:.0f} ms, "
              f"max {steps[-1] * 1e3:.0f} ms (to {r['after']:,})")
        spin = build_firmware(root, "spin")
        trace = record(root, "spin", spin, f"{args.rounds}\n".encode())
        r = under_gdb(spin, trace, "watch", 0)
        back = r["end"] - r["after"]
        print(f"spin: continue to the end ({r['end']:,}) {r['to_end']:.2f} s; reverse-continue to the write of "
              f"`interval` {back:,} instructions back: {r['reverse_continue']:.2f} s "
              f"({back / r['reverse_continue'] / 1e6:.1f} MIPS)")
    print(f"loadavg {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
