"""The processes of a trace, read from its log (for `ttdbg ps` and `ttdbg info`).

The recorded program is the first process (the trace header's pid, argv and
parent); its exit status is the log's SHUTDOWN.
"""

from __future__ import annotations

from .eventlog import LogContents
from .events import Shutdown, ShutdownReason
from .linux.tasks import ProcessInfo


def list_processes(contents: LogContents) -> tuple[ProcessInfo, ...]:
    """Every process of the trace, in the order they started."""
    header = contents.header
    status = None
    for ev in contents.events:
        if isinstance(ev, Shutdown) and ev.reason in (ShutdownReason.EXIT, ShutdownReason.SIGNAL):
            status = ev.exit_status()
    ppid = header.extra.get("ppid", 0)
    return (ProcessInfo(header.pid, ppid if isinstance(ppid, int) else 0, status, tuple(header.argv)),)
