"""Fixtures for the time-travel tests: guests built once, traces recorded once.

Guests are tests/guests/timeline_*.c, built static (glibc) at -O1 with gcc
into a session temporary directory.  A recording is made once per
(guest, argv, stdin, checkpoint interval) and shared by every test that asks
for it.  `reference()` is the ground truth for every comparison: a fresh
Replay run straight forward to an instruction count, never a Timeline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from replay.recorder import record
from replay.replayer import OutputSink, Replay
from replay.timeline import Timeline
from replay.trace import create_trace, open_trace

GUESTS = Path(__file__).resolve().parents[1] / "guests"
REGS = ("rip", "rsp", "rax")


@dataclass(frozen=True)
class State:
    """What a comparison looks at: the machine digest and a few registers."""

    icount: int
    digest: bytes
    regs: tuple[int, ...]


@dataclass
class Recorded:
    program: str
    trace_path: str
    status: int
    icount: int
    stdout: bytes
    symbols: dict[str, tuple[int, int]]       # name -> (address, size)
    _refs: dict[int, State] = field(default_factory=dict, repr=False)

    def addr(self, name: str) -> int:
        return self.symbols[name][0]

    def replay(self, sink: OutputSink | None = None) -> Replay:
        return Replay(open_trace(self.trace_path), sink=sink)

    def timeline(self, **kw) -> Timeline:
        return Timeline(self.replay(kw.pop("sink", None)), **kw)

    @staticmethod
    def state_of(tl: Timeline) -> State:
        """The same view of a Timeline's current state."""
        return State(tl.position, tl.state_digest(), tuple(tl.read_register(r) for r in REGS))

    def reference(self, n: int) -> State:
        """The state after a straight replay of `n` instructions (cached)."""
        state = self._refs.get(n)
        if state is None:
            rp = self.replay()
            try:
                rp.run(limit=n)
                m = rp.process.machine
                state = State(m.icount, m.state_hash(), tuple(m.reg(r) for r in REGS))
            finally:
                rp.close()
            if len(self._refs) > 4096:
                self._refs.clear()
            self._refs[n] = state
        return state


def elf_symbols(path: str) -> dict[str, tuple[int, int]]:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    out: dict[str, tuple[int, int]] = {}
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for section in elf.iter_sections():
            if isinstance(section, SymbolTableSection):
                for sym in section.iter_symbols():
                    if sym.name and sym["st_value"]:
                        out.setdefault(sym.name, (sym["st_value"], sym["st_size"]))
    return out


def _with_fds(stdin: bytes, stdout_path: str, fn: Callable[[], object]) -> object:
    """Run `fn` with host fd 0 reading `stdin` and fd 1 writing to a file."""
    r, w = os.pipe()
    os.write(w, stdin)
    os.close(w)
    out = os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    saved0, saved1 = os.dup(0), os.dup(1)
    os.dup2(r, 0)
    os.dup2(out, 1)
    try:
        return fn()
    finally:
        os.dup2(saved0, 0)
        os.dup2(saved1, 1)
        for fd in (saved0, saved1, r, out):
            os.close(fd)


@pytest.fixture(scope="session")
def guest_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the guests")
    return tmp_path_factory.mktemp("timeline-guests")


@pytest.fixture(scope="session")
def build_guest(request: pytest.FixtureRequest, guest_dir: Path) -> Callable[[str], str]:
    """name -> path of tests/guests/<name>.c built static (glibc) at -O1.

    Uses the suite's shared `guest` builder (tests/conftest.py) when there is
    one, else gcc directly."""
    try:
        shared = request.getfixturevalue("guest")
    except pytest.FixtureLookupError:
        shared = None
    built: dict[str, str] = {}

    def build(name: str) -> str:
        if name in built:
            return built[name]
        if shared is not None:
            built[name] = str(shared(name, "static"))
            return built[name]
        out = guest_dir / name
        src = GUESTS / f"{name}.c"
        proc = subprocess.run(["gcc", "-O1", "-g", "-static", "-o", str(out), str(src)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot build {name} (static glibc needed): {proc.stderr.strip()[:300]}")
        built[name] = str(out)
        return built[name]

    return build


@pytest.fixture(scope="session")
def recorder(build_guest: Callable[[str], str], guest_dir: Path) -> Callable[..., Recorded]:
    cache: dict[tuple, Recorded] = {}

    def make(name: str, argv: tuple[str, ...] = (), stdin: bytes = b"",
             checkpoint_interval: int = 1 << 28) -> Recorded:
        key = (name, argv, stdin, checkpoint_interval)
        if key not in cache:
            prog = build_guest(name)
            tag = "-".join((name, *argv, str(checkpoint_interval)))
            trace = create_trace(str(guest_dir / f"trace-{tag}"), prog, force=True)
            stdout_path = str(guest_dir / f"stdout-{tag}")
            result = _with_fds(stdin, stdout_path, lambda: record(
                prog, [prog, *argv], trace, env=["A=1"], checkpoint_interval=checkpoint_interval))
            with open(stdout_path, "rb") as f:
                stdout = f.read()
            cache[key] = Recorded(prog, trace.path, result.status, result.icount, stdout,  # type: ignore[attr-defined]
                                  elf_symbols(prog))
        return cache[key]

    return make


WORK_STDIN = b"time travel\n"


@pytest.fixture(scope="session")
def work(recorder: Callable[..., Recorded]) -> Recorded:
    """timeline_work.c: heap, stack, calls, a global written per round, stdin."""
    rec = recorder("timeline_work", stdin=WORK_STDIN)
    assert rec.status == 0
    assert rec.stdout.startswith(b"read %d bytes" % len(WORK_STDIN))
    return rec


@pytest.fixture(scope="session")
def fault(recorder: Callable[..., Recorded]) -> Recorded:
    """timeline_fault.c: ends with a NULL write (SIGSEGV)."""
    rec = recorder("timeline_fault")
    assert rec.status == 128 + 11
    return rec
