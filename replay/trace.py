"""A trace on disk: a directory holding the event log and captured files.

    <trace>/events.log        the replay log (eventlog.py)
    <trace>/files/<sha256>    every file the guest read or mapped, by content:
                              a hard link to the shared file store beside the
                              trace (file_store.py), or the trace's own copy
                              (packed, or when the store is not ours)
    <trace>/store             only when the filesystem refused hard links: the
                              store holding the files missing from files/

Traces without an explicit path go under $TTDBG_TRACE_DIR (default
~/.local/share/ttdbg) as <program>-<n>, with a `latest-trace` symlink, like
rr's.  Nothing here ever overwrites an existing trace unless told to, and
then only a directory whose log has a ttdbg log's magic and version.

A trace holds whatever the program read, and its header the recording's
environment: directories are made 0700 and files 0600 (less a stricter
umask).  A recording holds an flock on its trace directory, so a second
recording into the same directory fails instead of destroying the first.
A trace opened for reading may come from a stranger: captured files are
opened by validated digest, inside `files/` (or the store's sha256/xx/),
regular files only (safeio.py), and checked against their digest on every read.
`pack` makes a trace self-contained, as `rr pack` does.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import DiskFullError, LogFormatError, TraceBusyError, TraceError
from .eventlog import looks_like_log
from .file_store import entry_place, holds, open_bucket, remove_empty, store_beside
from .safeio import is_digest, open_dir, open_regular, read_regular

log = logging.getLogger(__name__)

LOG_NAME = "events.log"
FILES_DIR = "files"
STORE_REF = "store"                # the file store this trace refers to, when hard links were refused
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
class Storage:
    """How a trace holds its captured files (`ttdbg info`)."""
    own: int                # files of its own (one link)
    shared: int             # hard links shared with the file store (and other traces)
    referred: int           # only in the store the trace refers to (no hard links there)
    missing: int            # nowhere to be found
    shared_bytes: int       # the size of the shared files
    store: str              # the store beside the trace
    referred_store: str | None

    @property
    def packed(self) -> bool:
        """Self-contained: every captured file is the trace's own."""
        return not (self.shared or self.referred or self.missing)


@dataclass(frozen=True)
class TraceDir:
    path: str

    @property
    def log_path(self) -> str:
        return os.path.join(self.path, LOG_NAME)

    @property
    def files_path(self) -> str:
        return os.path.join(self.path, FILES_DIR)

    @property
    def store_ref_path(self) -> str:
        return os.path.join(self.path, STORE_REF)

    def open_member(self, subdir: str, name: str, what: str) -> int:
        """A read-only fd of regular file `<trace>/<subdir>/<name>` (see open_under)."""
        return open_under(self.path, (subdir,), name, what)

    def read_member(self, subdir: str, name: str, what: str, max_size: int) -> bytes:
        """The content of regular file `<trace>/<subdir>/<name>` (see read_under)."""
        return read_under(self.path, (subdir,), name, what, max_size)

    def store_file(self, content: bytes) -> str:
        """Keep `content` under its SHA-256; returns the hex digest.

        The content goes to the shared store beside the trace (file_store.py)
        once, and is hard-linked into `files/<digest>`; where the store is not
        ours, a private copy; where the link is refused, a reference to the store.
        A full device raises DiskFullError (icount unknown here) and leaves no
        temporary file behind; other OSErrors go to the caller.
        """
        digest = hashlib.sha256(content).hexdigest()
        if os.path.lexists(os.path.join(self.files_path, digest)):
            return digest
        store = store_beside(self.path)
        try:
            bucket = open_bucket(store, digest)
            if bucket is None:
                self._write_private(digest, content)
                return digest
            try:
                if not self._share(store, bucket, digest, content):
                    self._write_private(digest, content)
            finally:
                os.close(bucket)
        except OSError as exc:
            if exc.errno in _NO_SPACE:
                remove_empty(store, digest)
                raise DiskFullError(device_of(self.path), None) from None
            raise
        return digest

    def _write_private(self, digest: str, content: bytes) -> None:
        """`files/<digest>` as a file of this trace's own (replacing a link)."""
        files = open_dir(self.files_path, follow=False)
        try:
            _write_new(files, digest, content)
        finally:
            os.close(files)

    def _share(self, store: str, bucket: int, digest: str, content: bytes) -> bool:
        """Link the store's entry for `digest` into `files/` (writing the entry if
        it is missing, rewriting it if it is damaged); False: keep a private copy."""
        _subdirs, name = entry_place(digest)
        tmp = f".{digest}.{os.getpid()}.link"
        files = open_dir(self.files_path, follow=False)
        try:
            for attempt in range(2):
                fresh = attempt > 0 or not _lexists(name, bucket)
                if fresh:
                    _write_new(bucket, name, content)
                _unlink_quietly(tmp, files)
                try:
                    os.link(name, tmp, src_dir_fd=bucket, dst_dir_fd=files, follow_symlinks=False)
                except FileNotFoundError:
                    continue                    # removed meanwhile: write it again
                except OSError as exc:
                    if exc.errno in _NO_SPACE:
                        raise
                    if not fresh and not _holds(bucket, name, content):
                        _write_new(bucket, name, content)       # damaged: the reference needs a good one
                    self._refer(store)          # no hard links here: a reference to the store
                    return True
                if fresh or _holds(files, tmp, content):
                    os.replace(tmp, digest, src_dir_fd=files, dst_dir_fd=files)
                    return True
                _unlink_quietly(tmp, files)
                log.warning("the file store %s held a damaged copy of %s; writing it again", store, digest[:16])
            return False
        finally:
            _unlink_quietly(tmp, files)
            os.close(files)

    def _refer(self, store: str) -> None:
        """Note that this trace finds some captured files in `store` only."""
        if os.path.lexists(self.store_ref_path):
            return
        top = open_dir(self.path)
        try:
            _write_new(top, STORE_REF, os.fsencode(store) + b"\n")
        finally:
            os.close(top)

    def referred_store(self) -> str | None:
        """The store this trace refers to for files it does not hold (None: none)."""
        try:
            data = read_under(self.path, (), STORE_REF, f"{self.path}: {STORE_REF}", 4096)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LogFormatError(f"{self.path}: {STORE_REF}: cannot open: {exc.strerror}") from None
        path = os.fsdecode(data.rstrip(b"\n"))
        if not path.startswith("/") or "\0" in path or "\n" in path:
            raise LogFormatError(f"{self.path}: corrupt trace ({STORE_REF} does not name a directory)")
        return path

    def load_file(self, digest: str) -> bytes:
        """A captured file's content, checked against its digest.

        Only `files/<digest>` itself is opened (or, for a trace that refers to
        a store, that store's entry): `digest` must be 64 lowercase hex
        characters, every directory on the way a real one and the file a
        regular one (no FIFO, device or symlink).
        """
        if not is_digest(digest):
            raise LogFormatError(f"{self.path}: corrupt trace (captured file name {digest[:70]!r} is not a digest)")
        what = f"{self.path}: captured file {digest[:16]}"
        store = None
        try:
            try:
                data = self.read_member(FILES_DIR, digest, what, MAX_CAPTURED)
            except FileNotFoundError:
                store = self.referred_store()
                if store is None:
                    raise
                subdirs, name = entry_place(digest)
                data = read_under(store, subdirs, name, f"{what} (in the file store {store})", MAX_CAPTURED)
        except FileNotFoundError:
            where = f" and from the file store {store} it refers to" if store else ""
            raise LogFormatError(f"{what} is missing from the trace{where}") from None
        except OSError as exc:
            raise LogFormatError(f"{what}: cannot open: {exc.strerror}") from None
        if hashlib.sha256(data).hexdigest() != digest:
            note = self._shared_note(digest, store)
            raise LogFormatError(f"{what} is corrupt (its content does not match its SHA-256{note}); refusing it")
        return data

    def _shared_note(self, digest: str, store: str | None) -> str:
        if store is not None:
            return f"; it was read from the file store {store}"
        try:
            if os.stat(os.path.join(self.files_path, digest), follow_symlinks=False).st_nlink > 1:
                return f"; it is shared by hard link with the file store {store_beside(self.path)}"
        except OSError:
            pass
        return ""

    def captured_path(self, digest: str) -> str:
        """Where a captured file lies: in the trace, or in the store it refers to."""
        mine = os.path.join(self.files_path, digest)
        if os.path.lexists(mine) or not is_digest(digest):
            return mine
        store = self.referred_store()
        if store is None:
            return mine
        subdirs, name = entry_place(digest)
        return os.path.join(store, *subdirs, name)

    def storage(self, digests: Iterable[str]) -> Storage:
        """How the trace holds the captured files `digests` (see Storage)."""
        own = shared = referred = missing = 0
        shared_bytes = 0
        store = None
        for digest in set(digests):
            try:
                st = os.stat(os.path.join(self.files_path, digest), follow_symlinks=False)
            except OSError:
                st = None
            if st is not None:
                if st.st_nlink > 1:
                    shared += 1
                    shared_bytes += st.st_size
                else:
                    own += 1
                continue
            if store is None:
                try:
                    store = self.referred_store() or ""
                except LogFormatError:
                    store = ""
            subdirs, name = entry_place(digest) if is_digest(digest) else ((), "")
            if store and name and os.path.isfile(os.path.join(store, *subdirs, name)):
                referred += 1
            else:
                missing += 1
        return Storage(own, shared, referred, missing, shared_bytes, store_beside(self.path), store or None)

    def pack(self, digests: Iterable[str]) -> int:
        """Make the trace self-contained: every captured file in `digests` becomes
        a file of the trace's own (each checked against its digest), links to the
        store and the reference to it are gone.  Returns how many files were copied."""
        _lock(self.path)
        try:
            copied = 0
            for digest in sorted(set(digests)):
                try:
                    st = os.stat(os.path.join(self.files_path, digest), follow_symlinks=False)
                    if st.st_nlink == 1 and stat.S_ISREG(st.st_mode):
                        continue
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise TraceError(f"cannot pack {self.path}: {exc.strerror}") from None
                data = self.load_file(digest)
                try:
                    self._write_private(digest, data)
                except OSError as exc:
                    if exc.errno in _NO_SPACE:
                        raise DiskFullError(device_of(self.path), None) from None
                    raise TraceError(f"cannot pack {self.path}: {exc.strerror}") from None
                copied += 1
            try:
                os.unlink(self.store_ref_path)
            except FileNotFoundError:
                pass
            return copied
        finally:
            _unlock(self.path)

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


def open_under(root: str, subdirs: tuple[str, ...], name: str, what: str) -> int:
    """A read-only fd of regular file `root/<subdirs...>/name`: every directory
    below `root` a real one (never a symlink), the file regular, opened without
    following a symlink or blocking (safeio.open_regular).  FileNotFoundError when
    something on the way is missing, LogFormatError for a file that is not
    regular, other OSErrors (a symlinked directory: ELOOP) for the caller to map."""
    fd = _open_subdir(root, subdirs)
    try:
        return open_regular(name, what, dir_fd=fd)
    finally:
        os.close(fd)


def read_under(root: str, subdirs: tuple[str, ...], name: str, what: str, max_size: int) -> bytes:
    """The content of regular file `root/<subdirs...>/name` (as open_under),
    at most `max_size` bytes (safeio.read_regular)."""
    fd = _open_subdir(root, subdirs)
    try:
        return read_regular(name, what, max_size, dir_fd=fd)
    finally:
        os.close(fd)


def _open_subdir(root: str, subdirs: tuple[str, ...]) -> int:
    """An fd of directory `root/<subdirs...>`, every one below `root` a real directory
    (opened without following a symlink)."""
    fd = open_dir(root)
    try:
        for sub in subdirs:
            inner = open_dir(sub, dir_fd=fd, follow=False)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_new(dir_fd: int, name: str, content: bytes) -> None:
    """Write `name` in `dir_fd` whole, through a temporary file renamed over it
    (FILE_MODE); the temporary file is removed on any failure."""
    tmp = f".{name}.{os.getpid()}.tmp"
    _unlink_quietly(tmp, dir_fd)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE,
                     dir_fd=dir_fd)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink_quietly(tmp, dir_fd)
        raise


def _unlink_quietly(name: str, dir_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


def _lexists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _holds(dir_fd: int, name: str, content: bytes) -> bool:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        return holds(fd, content)
    finally:
        os.close(fd)


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
