"""A private sysroot for gdb, made of the files captured in a trace.

`ttdbg replay` points gdb's `sysroot` at a temporary directory in which each
captured path (the program, ld.so, libc, ...) is a symbolic link to its
content in the trace.  gdb then reads symbols locally, fast, and from the
very files the recording used, rather than over the remote protocol or from
whatever the host has now.

Every path and digest here comes from the trace, so it is data from a
stranger (the trace may have been crafted): nothing may be created outside
`root`.  The policy:

- the debugged program's path (the header's, or the one a process chosen with
  `-p` exec'd) must be what `ttdbg record` writes, a normalised
  absolute path without control characters; anything else refuses the trace
  (`SysrootError`, one line, exit status 65), since gdb needs that file;
- a captured file's path (from `FILE_OPEN` events, i.e. whatever the guest
  passed to open()) is normalised lexically under `root`; one that is
  relative, has control characters, a digest that is not a SHA-256, or would
  go through something that is not a directory of our own making is skipped
  with a warning - gdb then simply does not find that file locally.

Directories are made one component at a time, and an existing component
that is a symbolic link (one of our own links, made for an earlier path) is
never followed.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import stat

from replay import LogFormatError

from .session import DebugSession

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_sha256(digest: str) -> bool:
    """True for the only digests a trace may name: 64 lowercase hex digits (no path)."""
    return _SHA256.fullmatch(digest) is not None


class SysrootError(LogFormatError):
    """The trace names its program with a path that cannot be trusted."""


def _confined(path: str) -> list[str] | None:
    """The components of absolute `path` normalised under a root, or None if unusable."""
    if not path.startswith("/") or _CONTROL.search(path):
        return None
    parts = [p for p in posixpath.normpath(path).split("/") if p not in ("", ".", "..")]
    return parts or None


def _make_dirs(root: str, parts: list[str]) -> str | None:
    """Create root/parts[0]/.../parts[-2] without following links; the parent path, or None."""
    here = root
    for name in parts[:-1]:
        here = os.path.join(here, name)
        try:
            os.mkdir(here, 0o755)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(here).st_mode):   # a link or file: never go through it
                return None
    return here


def _link(root: str, path: str, target: str) -> str | None:
    """Link root+path to target; the link's path, or None (with a warning) if refused."""
    parts = _confined(path)
    parent = _make_dirs(root, parts) if parts else None
    if parent is None:
        log.warning("not giving gdb the captured file %r: its path cannot be placed in the sysroot", path)
        return None
    link = os.path.join(parent, parts[-1])  # type: ignore[index]
    if not os.path.lexists(link):
        os.symlink(target, link)
    return link


def build_sysroot(session: DebugSession, root: str) -> str:
    """Populate `root` (an empty directory); returns the path of the program inside it
    (the debugged process's program where the session stands: `-p` may choose a
    process that runs another program than the recorded one)."""
    program = session.program
    captured = session.files.get(program)
    if (not program.startswith("/") or _CONTROL.search(program) or posixpath.normpath(program) != program
            or captured is None or not is_sha256(captured.sha256)):
        raise SysrootError(f"{session.trace.path}: the trace names its program {program!r} "
                           "(not a normalised absolute path with a SHA-256 digest): refusing to use it")
    link: str | None = None
    # The program first, so that no other entry can take its place.
    for path, captured in sorted(session.files.items(), key=lambda item: item[0] != program):
        if not is_sha256(captured.sha256):
            log.warning("not giving gdb the captured file %r: its digest is not a SHA-256", path)
            continue
        if not path.startswith("/"):
            continue                        # relative to the guest's cwd: gdb never asks for it
        made = _link(root, path, session.trace.captured_path(captured.sha256))
        if path == program:
            link = made
    if link is None:
        raise SysrootError(f"{session.trace.path}: cannot place the program {program!r} in gdb's sysroot")
    return link
