"""Recorded C guests for the REPL tests: one static and one dynamic build of tally.c."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "tally.c")
ROOT = os.path.dirname(os.path.dirname(HERE))


@dataclass(frozen=True)
class Recorded:
    program: str
    trace: str
    linking: str


def _record(tmp: str, linking: str) -> Recorded:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is needed to build the REPL test guests")
    program = os.path.join(tmp, f"tally-{linking}")
    flags = ["-static"] if linking == "static" else []
    subprocess.run([gcc, "-g", "-O0", *flags, "-o", program, SOURCE], check=True)
    trace = os.path.join(tmp, f"trace-{linking}")
    subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", trace, program],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return Recorded(program, trace, linking)


@pytest.fixture(scope="session")
def repl_guests(tmp_path_factory) -> dict[str, Recorded]:
    tmp = str(tmp_path_factory.mktemp("repl-guests"))
    return {k: _record(tmp, k) for k in ("static", "dynamic")}


@pytest.fixture(params=["static", "dynamic"])
def recorded(request, repl_guests) -> Recorded:
    return repl_guests[request.param]


@pytest.fixture
def make_repl():
    from replay.trace import open_trace
    from ttdbg.repl import Repl
    from ttdbg.session import DebugSession

    made = []

    def make(rec: Recorded, use_gdb: bool = False) -> Repl:
        repl = Repl(DebugSession(open_trace(rec.trace)), use_gdb=use_gdb)
        made.append(repl)
        return repl

    yield make
    for r in made:
        r.close()
