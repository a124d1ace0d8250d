"""`ttdbg replay` without -a: like `rr replay`, gdb already connected.

The stub runs in a thread of this process on a free loopback port; gdb
runs in the foreground, reading symbols from the trace's own captured files
(see sysroot.py).  While gdb runs, this process ignores SIGINT (the
terminal sends Ctrl-C to both): gdb turns it into the protocol's interrupt.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from replay.errors import ReplayError
from replay.trace import TraceDir

from .serve import make_server
from .sysroot import build_sysroot


def replay_with_gdb(trace: TraceDir, gdb: str = "gdb", gdb_args: list[str] | None = None) -> int:
    gdb_path = shutil.which(gdb)
    if gdb_path is None:
        raise ReplayError(f"cannot find gdb ({gdb!r}); install it, pass --gdb PATH, or use `ttdbg replay -a`")
    server, target = make_server(trace, "127.0.0.1", 0, once=True)
    host, port = server.address
    thread = threading.Thread(target=server.serve_one, name="ttdbg-stub", daemon=True)
    thread.start()
    sysroot = tempfile.mkdtemp(prefix="ttdbg-sysroot-")
    program = build_sysroot(target.session, sysroot)
    argv = [gdb_path, "-q", "-ex", f"set sysroot {sysroot}", "-ex", f"file {program}",
            "-ex", f"target remote {host}:{port}", *(gdb_args or [])]
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        status = subprocess.call(argv, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    finally:
        signal.signal(signal.SIGINT, previous)
        server.shutdown()
        thread.join(timeout=5)
        shutil.rmtree(sysroot, ignore_errors=True)
    sys.stdout.flush()
    return status
