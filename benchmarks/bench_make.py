"""`make -j1` of ~10 small C files: native wall time against `ttdbg record` and `ttdbg replay`.

    python benchmarks/bench_make.py [FILES]

Writes FILES (default 10) small C files, a main and a Makefile (gcc -O1 -c each,
then a link) into fresh directories; times `make -j1` natively, then under
`ttdbg record`, then `ttdbg replay -a` of that trace.  Checks the program built
under record prints what the native build prints.  Prints seconds and ratios,
in wall time and in CPU time (user + system of the commands: steadier on a
shared machine).
Not part of the test suite.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_project(where: Path, files: int) -> None:
    where.mkdir()
    objs = []
    for i in range(files):
        (where / f"f{i}.c").write_text(
            f"#include <string.h>\nint f{i}(const char *s) {{\n  int h = {i};\n"
            f"  for (size_t j = 0; j < strlen(s); j++) h = h * 31 + s[j];\n  return h % 1000;\n}}\n")
        objs.append(f"f{i}.o")
    decls = "".join(f"int f{i}(const char *);\n" for i in range(files))
    calls = "".join(f'  printf("f{i} %d\\n", f{i}("ttdbg"));\n' for i in range(files))
    (where / "main.c").write_text(f"#include <stdio.h>\n{decls}int main(void) {{\n{calls}  return 0;\n}}\n")
    objs.append("main.o")
    (where / "Makefile").write_text(
        f"prog: {' '.join(objs)}\n\tgcc -o prog {' '.join(objs)}\n%.o: %.c\n\tgcc -O1 -c -o $@ $<\n")


CPU: list[float] = []      # the CPU time (user + system) of each timed command, in order


def timed(argv: list[str], cwd: Path) -> float:
    """Wall seconds; the command's CPU seconds go to CPU (on a loaded machine wall time
    measures the other processes as much as this one)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True)
    took = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"bench_make: {' '.join(argv[:4])} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return took


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    make = shutil.which("make")
    if make is None or shutil.which("gcc") is None:
        sys.exit("bench_make: needs make and gcc")
    ttdbg = [sys.executable, "-m", "ttdbg"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        native_dir, rec_dir = base / "native", base / "record"
        write_project(native_dir, files)
        write_project(rec_dir, files)
        env_root = os.environ.get("PYTHONPATH", "")
        os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env_root}" if env_root else str(ROOT)
        native = timed([make, "-j1"], native_dir)
        trace = base / "trace"
        rec = timed([*ttdbg, "record", "-q", "-o", str(trace), make, "-j1"], rec_dir)
        rep = timed([*ttdbg, "replay", "-a", str(trace)], rec_dir)
        want = subprocess.run([str(native_dir / "prog")], capture_output=True).stdout
        got = subprocess.run([str(rec_dir / "prog")], capture_output=True).stdout
        if want != got:
            sys.exit("bench_make: the program built under record prints differently")
        procs = len(subprocess.run([*ttdbg, "ps", str(trace)], capture_output=True).stdout.splitlines()) - 1
        print(f"make -j1 of {files + 1} C files + link ({procs} processes recorded)")
        cpu_native, cpu_rec, cpu_rep = CPU
        print(f"native  {native:7.2f} s wall {cpu_native:7.2f} s CPU")
        print(f"record  {rec:7.2f} s wall {cpu_rec:7.2f} s CPU  {rec / native:6.1f}x native wall, "
              f"{cpu_rec / cpu_native:6.1f}x native CPU")
        print(f"replay  {rep:7.2f} s wall {cpu_rep:7.2f} s CPU  {rep / native:6.1f}x native wall, "
              f"{cpu_rep / cpu_native:6.1f}x native CPU")


if __name__ == "__main__":
    main()
