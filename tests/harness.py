"""Running `ttdbg` and guest programs as subprocesses, for the tests.

(A module of its own, not conftest.py, so that test modules can import it
unambiguously: other test directories have their own conftest.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 120


@dataclass(frozen=True)
class Run:
    status: int
    stdout: bytes
    stderr: bytes

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")


def _run(argv: list[str], *, stdin: bytes | None = None, env: dict[str, str] | None = None,
         cwd: str | os.PathLike[str] | None = None, timeout: float = TIMEOUT) -> Run:
    proc = subprocess.run(argv, input=stdin if stdin is not None else b"",
                          capture_output=True, env=env, cwd=cwd, timeout=timeout)
    status = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode   # shell style
    return Run(status, proc.stdout, proc.stderr)


class Ttdbg:
    """`python -m ttdbg ...` with its own trace root."""

    def __init__(self, trace_root: Path, workdir: Path) -> None:
        self.trace_root = trace_root
        self.workdir = workdir
        self.env = {**os.environ, "TTDBG_TRACE_DIR": str(trace_root), "TTDBG_GREETING": "bonjour"}
        self.env.pop("TTDBG_LOG", None)
        self._n = 0

    def argv(self, *args: str | os.PathLike[str]) -> list[str]:
        return [sys.executable, "-m", "ttdbg", *map(str, args)]

    def __call__(self, *args: str | os.PathLike[str], stdin: bytes | None = None,
                 timeout: float = TIMEOUT) -> Run:
        return _run(self.argv(*args), stdin=stdin, env=self.env, cwd=self.workdir, timeout=timeout)

    def native(self, program: str | os.PathLike[str], *args: str, stdin: bytes | None = None) -> Run:
        return _run([str(program), *args], stdin=stdin, env=self.env, cwd=self.workdir)

    def new_trace(self) -> Path:
        self._n += 1
        return self.workdir / f"trace{self._n}"

    def record(self, program: str | os.PathLike[str], *args: str, stdin: bytes | None = None,
               trace: Path | None = None) -> tuple[Path, Run]:
        """Record quietly into a new trace; returns the trace and the run."""
        trace = trace or self.new_trace()
        return trace, self("record", "-q", "-o", trace, program, *args, stdin=stdin)

    def replay(self, trace: Path, *args: str) -> Run:
        return self("replay", "-a", *args, trace)

    def record_replay(self, program: str | os.PathLike[str], *args: str,
                      stdin: bytes | None = None) -> tuple[Path, Run, Run]:
        trace, rec = self.record(program, *args, stdin=stdin)
        return trace, rec, self.replay(trace)
