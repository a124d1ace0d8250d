"""`ttdbg demo`: build the bundled buggy example, record it, replay it.

Runs the same commands a user would type, as subprocesses, and shows them,
so the demo doubles as a walkthrough.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import resources

from replay import trace_root


def _example(name: str) -> str:
    return str(resources.files("ttdbg").joinpath("examples", name))


def run_demo(say: Callable[[str], None]) -> int:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        say("the demo needs gcc to build its example program")
        return 70
    workdir = os.path.join(os.path.expanduser("~"), ".cache", "ttdbg", "demo")
    os.makedirs(workdir, exist_ok=True)
    program = os.path.join(workdir, "demo")
    source, data = _example("demo.c"), _example("demo-input.txt")
    trace = os.path.join(trace_root(), "demo-trace")
    ttdbg = [sys.executable, "-m", "ttdbg"]

    def step(title: str, argv: list[str], stdin: str | None = None, shown: str | None = None) -> int:
        print(f"\n\x1b[1m$ {shown or ' '.join(shlex.quote(a) for a in argv)}\x1b[0m  # {title}", flush=True)
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
            return subprocess.run(argv, stdin=inp).returncode

    if step("build the example", [gcc, "-g", "-O0", "-o", program, source],
            shown=f"gcc -g -O0 -o {program} demo.c") != 0:
        say("building the example failed")
        return 1
    status = step("record one run", [*ttdbg, "record", "--force", "--stats", "-o", trace, program],
                  stdin=data, shown=f"ttdbg record -o {trace} {program} < demo-input.txt")
    print(f"(the program exited with status {status})")
    replayed = step("replay it: same output, no input needed",
                    [*ttdbg, "replay", "-a", "--stats", trace], shown=f"ttdbg replay -a {trace}")
    if replayed != status:
        say(f"replay exited with {replayed}, the recording with {status}")
        return 1
    step("what was recorded", [*ttdbg, "info", trace], shown=f"ttdbg info {trace}")
    step("the first events", [*ttdbg, "dump", "--kind", "char_read,clock,random,char_write", trace],
         shown=f"ttdbg dump --kind char_read,clock,random,char_write {trace}")
    print(f"""
The TOTAL is wrong: "blueberries" does not fit in its 8-byte name and strcpy
clobbers the total beside it.  Find the write by going back in time:

  ttdbg replay {trace}          # gdb, connected; then:
      (gdb) break main
      (gdb) continue
      (gdb) watch items[2].total
      (gdb) continue             # ... and reverse-continue to the strcpy
  ttdbg repl {trace}            # the same, without gdb
""")
    return 0
