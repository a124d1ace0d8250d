"""The summary of a trace that `ttdbg info` prints (and the REPL's `info trace`).

Its own module so that both front ends reach it without the REPL importing
the command line.
"""

from __future__ import annotations

import os
from collections import Counter

from replay import EventKind, TraceDir, read_log


def trace_info(trace: TraceDir) -> str:
    """The `ttdbg info` summary (also the REPL's `info trace`)."""
    contents = read_log(trace.log_path)
    h = contents.header
    kinds = Counter(e.kind for e in contents.events)
    last = contents.events[-1].icount if contents.events else 0
    shutdown = next((e for e in reversed(contents.events) if e.kind == EventKind.SHUTDOWN), None)
    real_dir = os.path.isdir(trace.files_path) and not os.path.islink(trace.files_path)
    files = len(os.listdir(trace.files_path)) if real_dir else 0
    lines = [
        f"trace:        {_shown(trace.path)}",
        f"program:      {_shown(h.program)}",
        f"arguments:    {' '.join(map(_shown, h.argv))}",
        f"arch:         x86-64 (ELF machine {h.machine})" if h.machine == 62 else f"arch: ELF machine {h.machine}",
        f"linking:      {'dynamic (' + _shown(h.interpreter) + ')' if h.interpreter else 'static'}",
        f"recorded:     {_shown(str(h.extra.get('recorded_at', '?')))} in {_shown(h.cwd)}",
        f"log version:  {contents.version}",
        f"instructions: {last:,}",
        f"events:       {len(contents.events):,}",
    ]
    for kind in EventKind:
        if kinds.get(kind):
            lines.append(f"  {kind.name.lower():<12}{kinds[kind]:>10,}")
    if shutdown is not None:
        lines.append(f"ended:        {shutdown.describe()} (exit status {shutdown.exit_status()})")
    state = "complete" if contents.complete else "TRUNCATED (the recording was killed)"
    lines.append(f"state:        {state}")
    lines.append(f"captured:     {files} files")
    lines.append(f"size:         {trace.size_on_disk():,} bytes (log {contents.size:,})")
    return "\n".join(lines)


def _shown(text: str) -> str:
    """A string from a trace, safe for a terminal: control characters escaped (a trace may be a stranger's)."""
    return text if text.isprintable() else repr(text)[1:-1]
