"""One debugging session over a trace, shared by the REPL and the gdb stub.

It opens the trace, boots the replay, and owns the Timeline; it also knows
the trace's captured files by guest path (for gdb's host I/O) and the
recorded auxiliary vector.  The time commands both front ends offer
(`when`, `checkpoint`, `restart`: the REPL's and gdb's `monitor`) live here
once; each front end only words the answer.  Nothing here speaks a protocol
or draws a screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from replay import (
    EventKind,
    FileKind,
    LogContents,
    OutputSink,
    ReplayError,
    Timeline,
    TimeStop,
    TraceDir,
    open_guest,
    open_keyframes,
    read_log,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CapturedFile:
    path: str
    sha256: str
    size: int


MAX_CHECKPOINTS = 256    # named positions are never thinned: a client cannot pile up unbounded memory


class TooManyCheckpoints(ReplayError):
    """`checkpoint NEW` when MAX_CHECKPOINTS names exist already."""

    def __init__(self) -> None:
        super().__init__(f"already {MAX_CHECKPOINTS} checkpoints; reuse a name")


class NoSuchCheckpoint(ReplayError):
    """`restart NAME` with no checkpoint of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no checkpoint named {name!r}")
        self.name = name


@dataclass(frozen=True)
class When:
    """Where the session is in time."""
    icount: int
    total: int
    pc: int

    @property
    def percent(self) -> float:
        return 100.0 * self.icount / self.total if self.total else 100.0

    def __str__(self) -> str:
        return f"Current instruction: {self.icount:,} of {self.total:,} ({self.percent:.1f}%)"


@dataclass(frozen=True)
class Bookmark:
    """A named position (`checkpoint NAME`)."""
    name: str
    icount: int

    def __str__(self) -> str:
        return f"{self.name:<16} {self.icount:>15,}"


class DebugSession:
    def __init__(self, trace: TraceDir, *, sink: OutputSink | None = None,
                 interval: int | None = None, budget: int | None = None, pid: int | None = None) -> None:
        self.trace = trace
        self.contents: LogContents = read_log(trace.log_path)
        # A Linux replay, or a board's firmware (open_guest); `pid`: the process to debug
        # (default: the first); the others run in the replay.
        # Keyframes (`ttdbg index`), when present and current: far seeks start from them.
        self.timeline = Timeline(open_guest(trace, self.contents, sink or OutputSink.quiet()),
                                 interval=interval, budget=budget, pid=pid,
                                 keyframes=open_keyframes(trace, lambda m: log.warning("%s", m)))
        self.header = self.contents.header
        self.files = self._captured_files()

    def _captured_files(self) -> dict[str, CapturedFile]:
        files: dict[str, CapturedFile] = {}
        for ev in self.contents.events:
            if ev.kind == EventKind.FILE_OPEN and ev.file_kind == FileKind.CAPTURED:  # type: ignore[attr-defined]
                files.setdefault(ev.path, CapturedFile(ev.path, ev.sha256, ev.size))  # type: ignore[attr-defined]
        h = self.contents.header
        files[h.program] = CapturedFile(h.program, h.program_sha256, 0)
        if h.interpreter:
            files[h.interpreter] = CapturedFile(h.interpreter, h.interpreter_sha256, 0)
        return files

    def read_captured(self, path: str) -> bytes | None:
        f = self.files.get(path)
        if f is None:
            return None
        return self.trace.load_file(f.sha256)

    # -- the time commands of both front ends ------------------------------------------------
    def when(self) -> When:
        tl = self.timeline
        return When(tl.position, tl.end.icount, tl.pc)

    def checkpoint(self, name: str | None = None) -> Bookmark:
        """Name this position (`c1`, `c2`... without a name); a name already used moves here."""
        marks = self.timeline.bookmarks()
        name = name or f"c{len(marks) + 1}"
        if name not in marks and len(marks) >= MAX_CHECKPOINTS:
            raise TooManyCheckpoints()
        return Bookmark(name, self.timeline.bookmark(name))

    def checkpoints(self) -> list[Bookmark]:
        """The named positions, earliest first."""
        marks = self.timeline.bookmarks()
        return [Bookmark(n, i) for n, i in sorted(marks.items(), key=lambda x: x[1])]

    def restart(self, name: str) -> TimeStop:
        """Back (or forward) to a named position; NoSuchCheckpoint if there is none."""
        if name not in self.timeline.bookmarks():
            raise NoSuchCheckpoint(name)
        return self.timeline.restart(name)

    @property
    def auxv(self) -> bytes:
        """The debugged process's auxiliary vector here (its last exec's)."""
        return self.timeline.auxv

    @property
    def pid(self) -> int:
        """The debugged process's pid (`-p`; default the first process's)."""
        return self.timeline.pid

    @property
    def program(self) -> str:
        """The debugged process's program here: the recorded program, another after an exec."""
        return self.timeline.program

    def board_state(self) -> str:
        """`info board` (the REPL's, gdb's `monitor`): the devices' state here, or why there is none."""
        return self.timeline.device_state() or "No board: this trace is of a Linux program (no devices to show)."

    def summary(self) -> str:
        end = self.timeline.end
        how = {None: "truncated"}.get(end.reason, end.reason.name.lower() if end.reason else "")
        return (f"trace {self.trace.path}\nprogram {self.program} (pid {self.pid}; "
                f"`info proc mappings {self.pid}` shows its memory)\n"
                f"instructions {end.icount:,} (ends: {how} {end.status})\n"
                f"events {len(self.contents.events):,}")
