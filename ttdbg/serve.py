"""`ttdbg serve`: serve a trace to gdb over the remote protocol."""

from __future__ import annotations

import logging
from collections.abc import Callable

from gdbstub import GdbServer
from replay import TraceDir

from .gdb_target import ReplayTarget
from .session import DebugSession

log = logging.getLogger(__name__)


def make_server(trace: TraceDir, host: str = "127.0.0.1", port: int = 0,
                once: bool = False) -> tuple[GdbServer, ReplayTarget]:
    """A stub over a new debugging session of `trace`."""
    return serve_session(DebugSession(trace), host, port, once)


def serve_session(session: DebugSession, host: str = "127.0.0.1", port: int = 0,
                  once: bool = False) -> tuple[GdbServer, ReplayTarget]:
    """A stub over an existing session (bound; not yet serving)."""
    target = ReplayTarget(session)
    return GdbServer(target, host=host, port=port, once=once), target


def serve(trace: TraceDir, *, host: str, port: int, once: bool, fresh: bool,
          say: Callable[[str], None]) -> int:
    try:
        server, target = make_server(trace, host, port, once)
    except OSError as exc:
        say(f"cannot listen on {host}:{port}: {exc.strerror}")
        return 69
    bound_host, bound_port = server.address
    say(f"serving {trace.path} ({target.session.timeline.end.icount:,} instructions)")
    say(f"connect with: gdb {target.session.program} -ex 'target remote {bound_host}:{bound_port}'")
    try:
        # One gdb at a time; each finds the replay stopped where the previous one
        # left it (or at instruction 0 with --fresh), with no breakpoints of its own.
        while True:
            target.begin_session(rewind=fresh)
            if not server.serve_one() or once:
                break
    except KeyboardInterrupt:
        say("stopped")
    finally:
        server.shutdown()
    return 0
