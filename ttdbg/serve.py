"""`ttdbg serve`: serve a trace to gdb over the remote protocol.

For IDEs and scripts: once listening it prints one machine-readable line on
stdout, ``ttdbg-serve port=NNNN`` (the chosen port with ``--port 0``), and SIGTERM
ends it cleanly (the gdb connection is dropped, the port closed, exit status 0).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable

from gdbstub import GdbServer
from replay import TraceDir

from .gdb_program import default_gdb
from .gdb_target import ReplayTarget
from .session import DebugSession

log = logging.getLogger(__name__)

EXIT_UNAVAILABLE = 69
"""The port cannot be listened on (in use, address not available, unknown host)."""


def make_server(trace: TraceDir, host: str = "127.0.0.1", port: int = 0,
                once: bool = False, pid: int | None = None) -> tuple[GdbServer, ReplayTarget]:
    """A stub over a new debugging session of `trace` (of its process `pid`; default the first)."""
    return serve_session(DebugSession(trace, pid=pid), host, port, once)


def serve_session(session: DebugSession, host: str = "127.0.0.1", port: int = 0,
                  once: bool = False) -> tuple[GdbServer, ReplayTarget]:
    """A stub over an existing session (bound; not yet serving)."""
    target = ReplayTarget(session)
    return GdbServer(target, host=host, port=port, once=once), target


def host_port(host: str, port: int) -> str:
    """`host:port`, with an IPv6 address in brackets (as gdb's `target remote` wants it)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    """True if the bound (numeric) address is reachable only from this machine."""
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


def serve(trace: TraceDir, *, host: str, port: int, once: bool, fresh: bool,
          say: Callable[[str], None], pid: int | None = None) -> int:
    session = DebugSession(trace, pid=pid)
    try:
        server, target = serve_session(session, host, port, once)
    except OSError as exc:
        # socket.create_server appends the address to strerror: say it once
        why = exc.strerror if isinstance(exc, socket.gaierror) or not exc.errno else os.strerror(exc.errno)
        say(f"cannot listen on {host_port(host, port)}: {why}")
        return EXIT_UNAVAILABLE
    bound_host, bound_port = server.address
    if not is_loopback(bound_host):
        say(f"warning: listening on {host_port(bound_host, bound_port)}, which is not a loopback address; "
            "the stub has no authentication: anyone who can reach this port can read the whole recording")
    say(f"serving {trace.path} ({target.session.timeline.end.icount:,} instructions)")
    address = host_port(bound_host, bound_port)
    say(f"connect with: {default_gdb(target.timeline.arch)} {target.session.program} -ex 'target remote {address}'")
    print(f"{PORT_LINE}{bound_port}", flush=True)
    terminated = threading.Event()
    previous = _on_sigterm(server, terminated)
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
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if terminated.is_set():
        say("stopped (SIGTERM)")
    return 0


PORT_LINE = "ttdbg-serve port="
"""The start of the line on stdout that gives the listening port (for IDEs and scripts)."""


def _on_sigterm(server: GdbServer, terminated: threading.Event) -> object:
    """Make SIGTERM shut the server down; returns the previous handler (None: not installed).

    The handler only starts a thread: shutdown() takes the server's lock, which the
    main thread, interrupted by the signal, may be holding."""
    def handler(signum: int, frame: object) -> None:
        terminated.set()
        threading.Thread(target=server.shutdown, name="sigterm", daemon=True).start()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:                  # not the main thread (serve called from a test or an IDE)
        return None
