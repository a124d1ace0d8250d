"""Which captured files a trace names, how it holds them, and `ttdbg pack`.

A trace names its captured files by SHA-256 in its log (the header's program
and interpreter, every FILE_OPEN of a captured file); trace.py keeps them as
hard links to the shared file store, as its own copies, or (where hard links
were refused) in the store only.  Packing turns all of them into the trace's
own files, so the trace can be copied anywhere or outlive the store.
"""

from __future__ import annotations

from .eventlog import LogContents, read_log
from .events import EventKind, FileKind
from .trace import Storage, TraceDir


def captured_digests(contents: LogContents) -> set[str]:
    """Every captured file's digest a log names."""
    h = contents.header
    digests = {h.program_sha256}
    if h.interpreter_sha256:
        digests.add(h.interpreter_sha256)
    for ev in contents.events:
        if ev.kind == EventKind.FILE_OPEN and ev.file_kind == FileKind.CAPTURED and ev.sha256:  # type: ignore[attr-defined]
            digests.add(ev.sha256)  # type: ignore[attr-defined]
    return digests


def trace_storage(trace: TraceDir, contents: LogContents | None = None) -> Storage:
    """How `trace` holds the files its log names."""
    return trace.storage(captured_digests(contents or read_log(trace.log_path)))


def pack_trace(trace: TraceDir) -> int:
    """Make `trace` self-contained (every captured file its own, each checked
    against its digest); returns how many files were copied in."""
    return trace.pack(captured_digests(read_log(trace.log_path)))
