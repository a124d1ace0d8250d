"""A trace on disk: a directory holding the event log and captured files.

    <trace>/events.log        the replay log (eventlog.py)
    <trace>/files/<sha256>    every file the guest read or mapped, by content

Traces without an explicit path go under $TTDBG_TRACE_DIR (default
~/.local/share/ttdbg) as <program>-<n>, with a `latest-trace` symlink, like
rr's.  Nothing here ever overwrites an existing trace unless told to, and
then only a directory whose log has a ttdbg log's magic and version.

A trace holds whatever the program read, and its header the recording's
environment: directories are made 0700 and files 0600 (less a stricter
umask).  A recording holds an flock on its trace directory, so a second
recording into the same directory fails instead of destroying the first.
A trace opened for reading may come from a stranger: captured files are
opened by validated digest, inside `files/`, regular files only (safeio.py).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
from dataclasses import dataclass

from .errors import DiskFullError, LogFormatError, TraceBusyError, TraceError
from .eventlog import looks_like_log
from .safeio import is_digest, open_dir, read_regular

LOG_NAME = "events.log"
FILES_DIR = "files"
LATEST = "latest-trace"
DIR_MODE = 0o700
FILE_MODE = 0o600
MAX_CAPTURED = 1 << 36          # one captured file (64 GiB): refused before reading past this
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_held_locks: dict[str, int] = {}    # trace path -> directory fd holding its flock


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
        """Keep `content` under its SHA-256; returns the hex digest.

        A full device raises DiskFullError (icount unknown here) and leaves no
        temporary file behind; other OSErrors go to the caller.
        """
        digest = hashlib.sha256(content).hexdigest()
        dest = os.path.join(self.files_path, digest)
        if os.path.exists(dest):
            return digest
        tmp = dest + ".tmp"
        try:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
            try:
                view = memoryview(content)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, dest)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if exc.errno in _NO_SPACE:
                raise DiskFullError(device_of(self.path), None) from None
            raise
        return digest

    def load_file(self, digest: str) -> bytes:
        """A captured file's content, checked against its digest.

        Only `files/<digest>` itself is opened: `digest` must be 64 lowercase
        hex characters, `files` a real directory of the trace and the file a
        regular one (no FIFO, device or symlink).
        """
        if not is_digest(digest):
            raise LogFormatError(f"{self.path}: corrupt trace (captured file name {digest[:70]!r} is not a digest)")
        what = f"{self.path}: captured file {digest[:16]}"
        try:
            top = open_dir(self.path)
            try:
                files = open_dir(FILES_DIR, dir_fd=top, follow=False)
            finally:
                os.close(top)
            try:
                data = read_regular(digest, what, MAX_CAPTURED, dir_fd=files)
            finally:
                os.close(files)
        except FileNotFoundError:
            raise LogFormatError(f"{what} is missing from the trace") from None
        except OSError as exc:
            raise LogFormatError(f"{what}: cannot open: {exc.strerror}") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise LogFormatError(f"{what} is corrupt")
        return data

    def size_on_disk(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass
        return total

    def release(self) -> None:
        """Drop the recording lock on this trace (create_trace took it); idempotent."""
        _unlock(self.path)


def device_of(path: str) -> str:
    """The filesystem holding `path`, for messages: "SOURCE (MOUNTPOINT)"."""
    try:
        dev = os.stat(path).st_dev
        best = ("", "")
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 10 or fields[2] != f"{os.major(dev)}:{os.minor(dev)}":
                    continue
                mount = fields[4].replace("\\040", " ")
                source = fields[fields.index("-") + 2] if "-" in fields else "?"
                if len(mount) >= len(best[0]) and (os.path.abspath(path) + "/").startswith(mount.rstrip("/") + "/"):
                    best = (mount, source)
        if best[0]:
            return f"{best[1]} ({best[0]})"
    except (OSError, ValueError, IndexError):
        pass
    return "the device"


def create_trace(path: str | None, program: str, force: bool = False) -> TraceDir:
    """Make a new, empty trace directory (explicit or the next default name), locked.

    The lock (an flock on the directory) lasts until `trace.release()` or the
    process ends.  `force` replaces an existing trace, and only a trace.
    """
    try:
        if path is None:
            root = trace_root()
            _makedirs(root)
            base = os.path.basename(program)
            n = 0
            while True:
                path = os.path.join(root, f"{base}-{n}")
                try:
                    os.mkdir(path, DIR_MODE)
                    break
                except FileExistsError:
                    n += 1
            _lock(path)
        elif os.path.lexists(path):
            if not force:
                raise TraceError(f"{path} already exists; use --force to replace it")
            _replace(path)
        else:
            parent = os.path.dirname(os.path.abspath(path))
            _makedirs(parent)
            try:
                os.mkdir(path, DIR_MODE)
            except FileExistsError:
                raise TraceError(f"{path} already exists; use --force to replace it") from None
            _lock(path)
        try:
            os.mkdir(os.path.join(path, FILES_DIR), DIR_MODE)
        except BaseException:
            _unlock(path)
            raise
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise DiskFullError(device_of(os.path.dirname(os.path.abspath(path or ".")) or "/"), None) from None
        raise TraceError(f"cannot create trace {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK):
        raise TraceError(f"cannot write to trace {path}")
    return TraceDir(os.path.abspath(path))


def _makedirs(directory: str) -> None:
    try:
        os.makedirs(directory, mode=DIR_MODE, exist_ok=True)
    except OSError as exc:
        raise TraceError(f"cannot create trace directory {directory}: {exc.strerror}") from None


def _lock(path: str) -> None:
    """Take the recording lock on directory `path`, or say who holds it."""
    if os.path.abspath(path) in _held_locks:
        return                                  # this process holds it already (an unreleased trace)
    fd = open_dir(path, follow=False)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise TraceBusyError(f"{path} is being recorded into by another ttdbg; not touching it") from None
    except OSError:
        os.close(fd)
        raise
    _held_locks[os.path.abspath(path)] = fd


def _replace(path: str) -> None:
    """Empty the existing trace at `path` under its lock, for --force."""
    if os.path.islink(path) or not os.path.isdir(path):
        raise TraceError(f"{path} exists and is not a trace directory; not replacing it")
    _lock(path)
    try:
        entries = os.listdir(path)
        if entries and not looks_like_log(os.path.join(path, LOG_NAME)):
            raise TraceError(f"{path} is not a ttdbg trace (no ttdbg event log); not replacing it")
        for name in entries:
            full = os.path.join(path, name)
            try:
                if os.path.isdir(full) and not os.path.islink(full):
                    shutil.rmtree(full)
                else:
                    os.unlink(full)
            except OSError as exc:
                raise TraceError(f"cannot replace {path}: {exc.strerror}: "
                                 f"{exc.filename or full}") from None
        os.chmod(path, DIR_MODE & ~_umask())
    except BaseException:
        _unlock(path)
        raise


def _unlock(path: str) -> None:
    fd = _held_locks.pop(os.path.abspath(path), None)
    if fd is not None:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


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
    if not os.path.lexists(os.path.join(path, LOG_NAME)):
        raise TraceError(f"{path}: not a ttdbg trace (no {LOG_NAME})")
    return TraceDir(os.path.abspath(path))
