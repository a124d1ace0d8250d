"""One debugging session over a trace, shared by the REPL and the gdb stub.

It opens the trace, boots the replay, and owns the Timeline; it also knows
the trace's captured files by guest path (for gdb's host I/O) and the
recorded auxiliary vector.  Nothing here speaks a protocol or draws a
screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from replay.eventlog import LogContents, read_log
from replay.events import EventKind, FileKind
from replay.replayer import OutputSink, Replay
from replay.timeline import Timeline
from replay.trace import TraceDir


@dataclass(frozen=True)
class CapturedFile:
    path: str
    sha256: str
    size: int


class DebugSession:
    def __init__(self, trace: TraceDir, *, sink: OutputSink | None = None,
                 interval: int | None = None, budget: int | None = None) -> None:
        self.trace = trace
        self.contents: LogContents = read_log(trace.log_path)
        self.replay = Replay(trace, sink or OutputSink.quiet(), contents=self.contents)
        self.timeline = Timeline(self.replay, interval=interval, budget=budget)
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

    @property
    def auxv(self) -> bytes:
        return self.replay.process.auxv

    @property
    def pid(self) -> int:
        return self.header.pid

    @property
    def program(self) -> str:
        return self.header.program

    def summary(self) -> str:
        end = self.timeline.end
        how = {None: "truncated"}.get(end.reason, end.reason.name.lower() if end.reason else "")
        return (f"trace {self.trace.path}\nprogram {self.program} (pid {self.pid}; "
                f"`info proc mappings {self.pid}` shows its memory)\n"
                f"instructions {end.icount:,} (ends: {how} {end.status})\n"
                f"events {len(self.contents.events):,}")
