"""`ttdbg replay` without -a: like `rr replay`, gdb already connected.

The stub runs in a thread of this process on a free loopback port; gdb
runs in the foreground, reading symbols from the trace's own captured files
(see sysroot.py).  While gdb runs, this process ignores SIGINT (the
terminal sends Ctrl-C to both): gdb turns it into the protocol's interrupt.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from replay import ReplayError, TraceDir

from .gdb_program import default_gdb
from .serve import make_server
from .sysroot import build_sysroot

# gdb commands that wrap the monitor commands which move in time, so that gdb
# rereads the registers and shows where it now is (as rr's `seek` commands do).
# `sharedlibrary` reads the symbols of libraries the jump passed the loading of:
# gdb lists them from the dynamic linker's map but does not read them by itself.
GDB_COMMANDS = """\
define when
  monitor when
end
document when
Print the current instruction count of the replay and its total.
end
define goto
  monitor goto $arg0
  maintenance flush register-cache
  sharedlibrary
  frame
end
document goto
Go to an instruction count: N, +N, -N, P% (quoted if needed), start, end, or #N (hit N of `monitor query`).
end
define restart-checkpoint
  monitor restart $arg0
  maintenance flush register-cache
  sharedlibrary
  frame
end
document restart-checkpoint
Return to a position saved with `monitor checkpoint NAME`.
end
"""


def _gdb_word(path: str) -> str:
    """`path` as one argument of a gdb command such as `file` (libiberty's buildargv quoting)."""
    return "".join("\\" + c if c in " \t\\'\"" else c for c in path)


def replay_with_gdb(trace: TraceDir, gdb: str | None = None, gdb_args: list[str] | None = None,
                    pid: int | None = None) -> int:
    server, target = make_server(trace, "127.0.0.1", 0, once=True, pid=pid)
    gdb = gdb or default_gdb(target.timeline.arch)
    gdb_path = shutil.which(gdb)
    if gdb_path is None:
        server.shutdown()
        raise ReplayError(f"cannot find gdb ({gdb!r}); install it, pass --gdb PATH, or use `ttdbg replay -a`")
    host, port = server.address
    thread = threading.Thread(target=server.serve_one, name="ttdbg-stub", daemon=True)
    # The sysroot (whose paths come from the trace) and our own command file
    # live side by side, so that no captured path can stand in for the latter.
    workdir = tempfile.mkdtemp(prefix="ttdbg-gdb-")
    try:
        sysroot = os.path.join(workdir, "sysroot")
        os.mkdir(sysroot)
        program = build_sysroot(target.session, sysroot)
        commands = os.path.join(workdir, "ttdbg-commands.gdb")
        with open(commands, "x") as f:
            f.write(GDB_COMMANDS)
        argv = [gdb_path, "-q", "-ex", f"set sysroot {sysroot}", "-ex", f"file {_gdb_word(program)}",
                "-x", commands, "-ex", f"target remote {host}:{port}", *(gdb_args or [])]
        thread.start()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            status = subprocess.call(argv, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        finally:
            signal.signal(signal.SIGINT, previous)
    finally:
        server.shutdown()
        if thread.is_alive():
            thread.join(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)
    sys.stdout.flush()
    return status
