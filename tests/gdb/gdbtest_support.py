"""Names the real-gdb tests import directly (a module name of its own, so that
it never collides with another directory's conftest.py on sys.path)."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINKINGS = ("static", "dynamic")


def ttdbg_env(trace_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TTDBG_TRACE_DIR"] = str(trace_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("TTDBG_LOG", None)
    return env


@dataclass(frozen=True)
class Guest:
    name: str
    linking: str
    binary: Path
    trace: Path
    status: int           # the recorded exit status (shell style)
    source: Path


def source_line(guest: Guest, marker: str) -> int:
    """The 1-based line of the guest source that contains ``marker``."""
    for number, text in enumerate(guest.source.read_text().splitlines(), 1):
        if marker in text:
            return number
    raise AssertionError(f"{marker!r} is not in {guest.source}")


def free_port() -> int:
    """A TCP port free on the loopback now (for a qemu-user gdb server to listen on)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def where(g) -> str:
    """gdb's pc as `function+offset` (the same in two runs whatever the load address)."""
    value = g.eval("$pc")
    m = re.search(r"<(.+)>", value)
    return m.group(1) if m else value


def steps(g, n: int) -> list[str]:
    """Where gdb stands, then after each of `n` stepi."""
    out = [where(g)]
    for _ in range(n):
        g.ok("stepi")
        out.append(where(g))
    return out
