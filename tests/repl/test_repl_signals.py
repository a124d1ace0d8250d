"""The REPL stops at signal deliveries in both directions; `handle` passes them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST = os.path.join(ROOT, "tests", "guests", "gdb_signals.c")


@pytest.fixture(scope="module")
def signals(tmp_path_factory) -> SimpleNamespace:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is needed to build the guest")
    tmp = str(tmp_path_factory.mktemp("repl-signals"))
    program = os.path.join(tmp, "signals")
    if subprocess.run([gcc, "-g", "-O0", "-static", "-o", program, GUEST]).returncode != 0:
        pytest.skip("cannot link statically here")
    trace = os.path.join(tmp, "trace")
    subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", trace, program],
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    return SimpleNamespace(program=program, trace=trace, linking="static")


def test_signal_stops_and_handle(signals, make_repl):
    r = make_repl(signals)
    out = r.execute("continue")
    assert "Program received signal SIGUSR1, User defined signal 1." in out
    assert "on_usr1 () at gdb_signals.c" in r.execute("stepi")
    assert "Program received signal SIGUSR1" in r.execute("reverse-stepi")
    assert "Program received signal SIGSEGV, Segmentation fault." in r.execute("continue")
    assert "Program received signal SIGUSR1" in r.execute("reverse-continue")
    assert "SIGUSR1       No\tNo\tYes" in r.execute("handle SIGUSR1 nostop noprint")
    assert "Program received signal SIGSEGV" in r.execute("continue")
    assert "No more reverse-execution history." in r.execute("reverse-continue")
    assert "SIGUSR1       Yes" in r.execute("handle usr1 stop")
    assert "Program received signal SIGUSR1" in r.execute("continue")


def test_step_and_next_at_a_delivery_enter_the_handler(signals, make_repl):
    """As in gdb: a stepping command at a signal stop goes into the handler, to its first line."""
    for command in ("next", "step"):
        r = make_repl(signals)
        assert "Program received signal SIGUSR1" in r.execute("continue")
        out = r.execute(command)
        assert "on_usr1 () at gdb_signals.c:13" in out, out
        assert "\n13\t" in "\n" + out.split("on_usr1 () at gdb_signals.c:13", 1)[1]
