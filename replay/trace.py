"""A trace on disk: a directory holding the event log and captured files.

    <trace>/events.log        the replay log (eventlog.py)
    <trace>/files/<sha256>    every file the guest read or mapped, by content

Traces without an explicit path go under $TTDBG_TRACE_DIR (default
~/.local/share/ttdbg) as <program>-<n>, with a `latest-trace` symlink, like
rr's.  Nothing here ever overwrites an existing trace unless told to.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass

from .errors import LogFormatError, TraceError

LOG_NAME = "events.log"
FILES_DIR = "files"
LATEST = "latest-trace"


def trace_root() -> str:
    root = os.environ.get("TTDBG_TRACE_DIR")
    if root:
        return root
    return os.path.join(os.path.expanduser("~"), ".local", "share", "ttdbg")


@dataclass(frozen=True)
class TraceDir:
    path: str

    @property
    def log_path(self) -> str:
        return os.path.join(self.path, LOG_NAME)

    @property
    def files_path(self) -> str:
        return os.path.join(self.path, FILES_DIR)

    def store_file(self, content: bytes) -> str:
        """Keep `content` under its SHA-256; returns the hex digest."""
        digest = hashlib.sha256(content).hexdigest()
        dest = os.path.join(self.files_path, digest)
        if not os.path.exists(dest):
            tmp = dest + ".tmp"
            with open(tmp, "wb") as f:
                f.write(content)
            os.replace(tmp, dest)
        return digest

    def load_file(self, digest: str) -> bytes:
        try:
            with open(os.path.join(self.files_path, digest), "rb") as f:
                data = f.read()
        except OSError:
            raise LogFormatError(f"{self.path}: captured file {digest[:16]} is missing from the trace") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise LogFormatError(f"{self.path}: captured file {digest[:16]} is corrupt")
        return data

    def size_on_disk(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.path):
            for name in files:
                try:
                    total += os.path.getsize(os.path.join(dirpath, name))
                except OSError:
                    pass
        return total


def create_trace(path: str | None, program: str, force: bool = False) -> TraceDir:
    """Make a new, empty trace directory (explicit or the next default name)."""
    if path is None:
        root = trace_root()
        try:
            os.makedirs(root, exist_ok=True)
        except OSError as exc:
            raise TraceError(f"cannot create trace directory {root}: {exc.strerror}") from None
        base = os.path.basename(program)
        n = 0
        while os.path.lexists(os.path.join(root, f"{base}-{n}")):
            n += 1
        path = os.path.join(root, f"{base}-{n}")
    elif os.path.lexists(path):
        if not force:
            raise TraceError(f"{path} already exists; use --force to replace it")
        if os.path.isdir(path) and not os.path.islink(path):
            if os.listdir(path) and not os.path.exists(os.path.join(path, LOG_NAME)):
                raise TraceError(f"{path} is a non-empty directory that is not a trace; not replacing it")
            shutil.rmtree(path)
        else:
            raise TraceError(f"{path} exists and is not a trace directory")
    try:
        os.makedirs(os.path.join(path, FILES_DIR))
    except OSError as exc:
        raise TraceError(f"cannot create trace {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK):
        raise TraceError(f"cannot write to trace {path}")
    return TraceDir(os.path.abspath(path))


def mark_latest(trace: TraceDir) -> None:
    """Point the `latest-trace` link of the default root at `trace`."""
    root = trace_root()
    if os.path.dirname(trace.path) != os.path.abspath(root):
        return
    link = os.path.join(root, LATEST)
    tmp = link + ".tmp"
    try:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.path.basename(trace.path), tmp)
        os.replace(tmp, link)
    except OSError:
        pass


def open_trace(path: str | None) -> TraceDir:
    """An existing trace: the given path, or the latest one."""
    if path is None:
        link = os.path.join(trace_root(), LATEST)
        if not os.path.exists(link):
            raise TraceError(f"no trace given and no latest trace in {trace_root()}")
        path = os.path.realpath(link)
    if not os.path.exists(path):
        raise TraceError(f"{path}: no such trace")
    if not os.path.isdir(path):
        raise TraceError(f"{path}: not a trace directory")
    if not os.path.exists(os.path.join(path, LOG_NAME)):
        raise TraceError(f"{path}: not a ttdbg trace (no {LOG_NAME})")
    return TraceDir(os.path.abspath(path))
