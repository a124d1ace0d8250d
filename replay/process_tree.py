"""The processes of a trace, read from its log (for `ttdbg ps` and `ttdbg info`).

The recorded program is the first process (the trace header's pid, argv and
parent).  A recording with several processes logs a PROCESS event when each
starts (fork: it runs its parent's program), execs (its new argv) and ends
(its wait status, as wait4 gives it); without them, the first process's status is the SHUTDOWN's.
"""

from __future__ import annotations

from .eventlog import LogContents
from .events import ProcessChange, ProcessEvent, Shutdown, ShutdownReason
from .linux.tasks import ProcessInfo


def list_processes(contents: LogContents) -> tuple[ProcessInfo, ...]:
    """Every process of the trace, in the order they started."""
    header = contents.header
    ppid = header.extra.get("ppid", 0)
    rows: dict[int, ProcessInfo] = {
        header.pid: ProcessInfo(header.pid, ppid if isinstance(ppid, int) else 0, None, tuple(header.argv))}
    for ev in contents.events:
        if isinstance(ev, ProcessEvent):
            old = rows.get(ev.pid)
            if ev.change == ProcessChange.START:
                parent = rows.get(ev.ppid)
                rows[ev.pid] = ProcessInfo(ev.pid, ev.ppid, None, parent.argv if parent else ())
            elif old is not None and ev.change == ProcessChange.EXEC:
                rows[ev.pid] = ProcessInfo(old.pid, old.ppid, None, ev.argv)
            elif old is not None and ev.change == ProcessChange.EXIT:
                status = 128 + (ev.status & 0x7F) if ev.status & 0x7F else (ev.status >> 8) & 0xFF
                rows[ev.pid] = ProcessInfo(old.pid, old.ppid, status, old.argv)
        elif isinstance(ev, Shutdown) and ev.reason in (ShutdownReason.EXIT, ShutdownReason.SIGNAL):
            first = rows[header.pid]
            if first.exit_status is None:
                rows[header.pid] = ProcessInfo(first.pid, first.ppid, ev.exit_status(), first.argv)
    return tuple(rows.values())
