"""The shared store of captured files: one copy per content, beside the traces.

    <dir>/.ttdbg-files/sha256/<first 2 hex digits>/<other 62 hex digits>

<dir> is the directory holding the trace ($TTDBG_TRACE_DIR for the default
traces, the parent of `-o DIR` otherwise).  A recording stores each captured
file here once and hard-links it into its own `files/<sha256>`, so ten traces
of one program hold one copy of its libraries, and every trace still opens on
its own: deleting a trace, or the whole store, never breaks another trace.
Where the filesystem refuses the link, the trace refers to the store instead
(trace.py: its `store` file) and `ttdbg pack` copies the files in.

The store is used only when it is ours: a real directory (no symlink) owned
by this user and writable by nobody else, created 0700, files 0600.  An entry
found there is checked byte for byte before a trace keeps a link to it, and
every read of a captured file checks its SHA-256 (trace.py), so a damaged or
swapped store file is refused, never trusted.
"""

from __future__ import annotations

import errno
import os
import stat

from .safeio import open_dir

STORE_NAME = ".ttdbg-files"
ALGORITHM = "sha256"
DIR_MODE = 0o700
FILE_MODE = 0o600
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def store_beside(trace_path: str) -> str:
    """The store a trace at `trace_path` shares its files through."""
    return os.path.join(os.path.dirname(os.path.abspath(trace_path)), STORE_NAME)


def entry_place(digest: str) -> tuple[tuple[str, str], str]:
    """(subdirectories, name) of a digest's entry inside a store."""
    return (ALGORITHM, digest[:2]), digest[2:]


def open_bucket(store: str, digest: str) -> int | None:
    """The fd of the directory `digest`'s entry lives in (`<store>/sha256/<xx>`,
    made as needed), or None when the store is not ours to use (the caller then
    keeps a private copy).  Never follows a symlink below the store's parent; a
    store made by another user, or writable by others, is left alone.  A full
    device raises its OSError (ENOSPC, EDQUOT)."""
    try:
        fd = open_dir(os.path.dirname(store))
    except OSError:
        return None
    for name in (os.path.basename(store), ALGORITHM, digest[:2]):
        try:
            sub = _own_subdir(fd, name)
        finally:
            os.close(fd)
        if sub is None:
            return None
        fd = sub
    return fd


def _own_subdir(dir_fd: int, name: str) -> int | None:
    try:
        os.mkdir(name, DIR_MODE, dir_fd=dir_fd)
    except FileExistsError:
        pass
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise
        return None
    try:
        fd = open_dir(name, dir_fd=dir_fd, follow=False)
    except OSError:
        return None
    st = os.fstat(fd)
    if st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        os.close(fd)
        return None
    return fd


def remove_empty(store: str, digest: str) -> None:
    """Remove the store's directories for `digest` if a failed write left them empty."""
    for path in (os.path.join(store, ALGORITHM, digest[:2]), os.path.join(store, ALGORITHM), store):
        try:
            os.rmdir(path)
        except OSError:
            return


def holds(fd: int, content: bytes) -> bool:
    """Does open file `fd` hold exactly `content`, as a regular file of ours?"""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_size != len(content):
        return False
    view = memoryview(content)
    offset = 0
    while offset < len(content):
        chunk = os.pread(fd, min(1 << 24, len(content) - offset), offset)
        if not chunk or chunk != view[offset:offset + len(chunk)]:
            return False
        offset += len(chunk)
    return os.pread(fd, 1, offset) == b""
