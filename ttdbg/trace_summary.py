"""The summary of a trace that `ttdbg info` prints (and the REPL's `info trace`).

Its own module so that both front ends reach it without the REPL importing
the command line.
"""

from __future__ import annotations

from collections import Counter

from replay import EventKind, ProcessInfo, Storage, TraceDir, list_processes, read_log, trace_storage


def trace_info(trace: TraceDir) -> str:
    """The `ttdbg info` summary (also the REPL's `info trace`)."""
    contents = read_log(trace.log_path)
    h = contents.header
    kinds = Counter(e.kind for e in contents.events)
    last = contents.events[-1].icount if contents.events else 0
    shutdown = next((e for e in reversed(contents.events) if e.kind == EventKind.SHUTDOWN), None)
    storage = trace_storage(trace, contents)
    lines = [
        f"trace:        {_shown(trace.path)}",
        f"program:      {_shown(h.program)}",
        f"arguments:    {' '.join(map(_shown, h.argv))}",
        f"arch:         {h.arch} (ELF machine {h.machine})",
        *([f"board:        {_shown(str(h.extra['board']))} (RAM {_shown(str(h.extra.get('ram')))} bytes, "
           f"clock {_shown(str(h.extra.get('clock', 'virtual')))})"]
          if "board" in h.extra else []),
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
    processes = list_processes(contents)
    if len(processes) > 1:
        lines.append(f"processes:    {len(processes)}")
        lines += ["  " + line for line in process_tree(processes)]
    state = "complete" if contents.complete else "TRUNCATED (the recording was killed)"
    lines.append(f"state:        {state}")
    files = storage.own + storage.shared + storage.referred + storage.missing
    lines.append(f"captured:     {files} files")
    lines.append(f"packed:       {packing(storage)}")
    shared = f", {storage.shared_bytes:,} of them shared" if storage.shared else ""
    lines.append(f"size:         {trace.size_on_disk():,} bytes (log {contents.size:,}{shared})")
    return "\n".join(lines)


def packing(storage: Storage) -> str:
    """The `packed:` line: is the trace self-contained, and if not, why."""
    if storage.packed:
        return "yes (every captured file is the trace's own)"
    why = []
    if storage.shared:
        why.append(f"{storage.shared} files shared by hard link (the file store {_shown(storage.store)})")
    if storage.referred:
        why.append(f"{storage.referred} files only in {_shown(storage.referred_store or '?')}")
    if storage.missing:
        why.append(f"{storage.missing} files MISSING")
    return f"no ({'; '.join(why)}; `ttdbg pack` makes it self-contained)"


def process_listing(processes: tuple[ProcessInfo, ...]) -> str:
    """`ttdbg ps`: one line a process, as `rr ps` prints them."""
    lines = ["PID\tPPID\tEXIT\tCMD"]
    for p in processes:
        status = "-" if p.exit_status is None else str(p.exit_status)
        lines.append(f"{p.pid}\t{p.ppid}\t{status}\t{_shown(p.cmd)}")
    return "\n".join(lines)


def process_tree(processes: tuple[ProcessInfo, ...]) -> list[str]:
    """The processes as a tree (children indented under their parent), for `ttdbg info`."""
    pids = {p.pid for p in processes}
    children: dict[int, list[ProcessInfo]] = {}
    roots = []
    for p in processes:
        if p.ppid in pids and p.ppid != p.pid:
            children.setdefault(p.ppid, []).append(p)
        else:
            roots.append(p)
    lines: list[str] = []

    def walk(p: ProcessInfo, depth: int) -> None:
        status = "running at the end" if p.exit_status is None else f"exit {p.exit_status}"
        lines.append(f"{'  ' * depth}{p.pid} {_shown(p.cmd)} ({status})")
        for child in children.get(p.pid, []):
            walk(child, depth + 1)
    for root in roots:
        walk(root, 0)
    return lines


def _shown(text: str) -> str:
    """A string from a trace, safe for a terminal: control characters escaped (a trace may be a stranger's)."""
    return text if text.isprintable() else repr(text)[1:-1]
