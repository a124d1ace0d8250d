"""A private sysroot for gdb, made of the files captured in a trace.

`ttdbg replay` points gdb's `sysroot` at a temporary directory in which each
captured path (the program, ld.so, libc, ...) is a symbolic link to its
content in the trace.  gdb then reads symbols locally, fast, and from the
very files the recording used, rather than over the remote protocol or from
whatever the host has now.
"""

from __future__ import annotations

import os

from .session import DebugSession


def build_sysroot(session: DebugSession, root: str) -> str:
    """Populate `root`; returns the path of the program inside it."""
    for path, captured in session.files.items():
        if not path.startswith("/"):
            continue
        link = os.path.join(root, path.lstrip("/"))
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.lexists(link):
            os.symlink(os.path.join(session.trace.files_path, captured.sha256), link)
    return os.path.join(root, session.program.lstrip("/"))
