"""Record and replay speed on compute-bound guests, against native and bare Unicorn.

    python benchmarks/bench_record_replay.py [--program compute|alu|all] [--arch aarch64] [ROUNDS]

Two guests of about 500 million instructions: benchmarks/compute.c (integer
hashing into a table: memory-bound, the slower case for Unicorn) and
benchmarks/alu.c (register-only arithmetic: Unicorn at its fastest).  Each is
built (gcc -O1 -static) into benchmarks/build/, then this
prints: the native run time; record and replay times and guest MIPS; the
speed of Unicorn with no hooks at all on the same code (the counter
removed, from after startup until the program's next system call); the
ratios to it; and the trace size.  With `--arch aarch64` the guests are
cross-built (aarch64-linux-gnu-gcc -O1 -static) and the "native" row is the
same binary under qemu-aarch64.  Not part of the test suite.
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
sys.path.insert(0, str(HERE.parent))

from replay.recorder import record  # noqa: E402
from replay.replayer import Replay  # noqa: E402
from replay.trace import create_trace, open_trace  # noqa: E402

GDB_RECORD_FULL_IPS = 11_000    # gdb `record full`, instructions per second, for scale


# --arch: (compiler, how the "native" row runs the binary, its label)
ARCHES = {"x86_64": ("gcc", [], "native"), "aarch64": ("aarch64-linux-gnu-gcc", ["qemu-aarch64"], "qemu-aarch64")}


def build(name: str = "compute", arch: str = "x86_64") -> str:
    out = HERE / "build" / (name if arch == "x86_64" else f"{name}-{arch}")
    out.parent.mkdir(exist_ok=True)
    src = HERE / f"{name}.c"
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        subprocess.run([ARCHES[arch][0], "-O1", "-g", "-static", "-o", str(out), str(src)], check=True)
    return str(out)


def record_trace(prog: str, rounds: int, path: str) -> tuple[float, int]:
    """Record `prog rounds` into `path` (stdout to /dev/null); (seconds, icount)."""
    trace = create_trace(path, prog, force=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1)
    sys.stdout.flush()
    os.dup2(devnull, 1)
    try:
        t = time.perf_counter()
        result = record(prog, [prog, str(rounds)], trace, env=["A=1"])
        seconds = time.perf_counter() - t
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    if result.status != 0:
        raise SystemExit(f"recording failed with status {result.status}")
    return seconds, result.icount


def native_seconds(prog: str, rounds: int, repeat: int = 5, runner: list[str] | None = None) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([*(runner or []), prog, str(rounds)], stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def replay_seconds(path: str) -> tuple[float, int]:
    replay = Replay(open_trace(path))
    t = time.perf_counter()
    replay.run()
    seconds = time.perf_counter() - t
    icount = replay.process.icount
    replay.close()
    return seconds, icount


class _StopAtSyscall:
    """A stand-in guest OS for the baseline: the first system call ends the run."""

    def on_syscall(self, machine) -> None:
        machine.uc.emu_stop()

    def on_rdtsc(self, machine, with_aux: bool) -> tuple[int, int]:
        return 0, 0


def symbol(prog: str, name: str) -> int:
    from elftools.elf.elffile import ELFFile

    with open(prog, "rb") as f:
        sym = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)
    if not sym:
        raise SystemExit(f"{prog}: no symbol {name}")
    return sym[0]["st_value"]


def baseline(prog: str, path: str) -> tuple[float, int]:
    """Unicorn with no hooks, from the entry of work() to the next system call.

    A Replay runs to work() (a breakpoint), then the instruction counter is
    removed and emu_start runs bare until the syscall hook fires; the
    instruction count comes from the log: the next system call's event."""
    replay = Replay(open_trace(path))
    machine = replay.process.machine
    machine.set_breakpoints({symbol(prog, "work")})
    outcome = replay.run()
    machine.set_breakpoints(set())
    begin = machine.icount
    assert outcome.name == "TRAPPED", outcome
    # The next event a system call made (STATE_HASH events are not calls).
    stop = min(e.icount for e in replay.contents.events
               if e.icount > begin and e.kind.name != "STATE_HASH")
    machine.remove_counter_for_baseline()
    machine.os = _StopAtSyscall()
    t = time.perf_counter()
    machine.uc.emu_start(machine.pc, (1 << 64) - 1)
    seconds = time.perf_counter() - t
    replay.close()
    return seconds, stop - begin


DEFAULT_ROUNDS = {"compute": 12000, "alu": 8900}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--program", choices=("compute", "alu", "all"), default="all")
    parser.add_argument("--arch", choices=tuple(ARCHES), default="x86_64")
    parser.add_argument("rounds", nargs="?", type=int, default=None)
    args = parser.parse_args()
    names = ("compute", "alu") if args.program == "all" else (args.program,)
    for i, name in enumerate(names):
        if i:
            print()
        bench(name, args.rounds or DEFAULT_ROUNDS[name], args.arch)


def bench(name: str, rounds: int, arch: str = "x86_64") -> None:
    prog = build(name, arch)
    _cc, runner, native_label = ARCHES[arch]
    tmp = tempfile.mkdtemp(prefix="bench-rr-")
    try:
        path = os.path.join(tmp, "trace")
        native = native_seconds(prog, rounds, runner=runner)
        rec_s, icount = record_trace(prog, rounds, path)
        rep_s, rep_icount = replay_seconds(path)
        assert rep_icount == icount, (rep_icount, icount)
        base_s, base_n = baseline(prog, path)
        size = open_trace(path).size_on_disk()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base_mips = base_n / base_s / 1e6
    rec_mips = icount / rec_s / 1e6
    rep_mips = icount / rep_s / 1e6
    print(f"guest: {os.path.relpath(prog)} {rounds}  ({icount:,} instructions)")
    print(f"{'':28}{'seconds':>10}{'MIPS':>10}{'vs bare Unicorn':>18}{'  vs ' + native_label:>14}")
    print(f"{native_label:28}{native:10.3f}{icount / native / 1e6:10.0f}{'':>18}{1:12.1f}x")
    print(f"{'Unicorn, no hooks':28}{base_s * icount / base_n:10.3f}{base_mips:10.0f}{1:17.2f}x"
          f"{native / (base_s * icount / base_n):12.3f}x")
    print(f"{'  (measured over':28}{base_s:10.3f}{'':10}  {base_n:,} instructions)")
    for name, s, mips in (("record", rec_s, rec_mips), ("replay", rep_s, rep_mips)):
        print(f"{name:28}{s:10.3f}{mips:10.0f}{mips / base_mips:17.2f}x{native / s:12.3f}x")
    print(f"{'gdb record full (reference)':28}{icount / GDB_RECORD_FULL_IPS:10.0f}"
          f"{GDB_RECORD_FULL_IPS / 1e6:10.3f}{GDB_RECORD_FULL_IPS / 1e6 / base_mips:17.5f}x")
    print(f"trace size: {size:,} bytes ({size / 1024:.0f} KiB, of which the program itself is "
          f"{os.path.getsize(prog):,} bytes)")


if __name__ == "__main__":
    main()
