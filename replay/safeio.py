"""Reading files out of a trace, which may come from a stranger.

Every name and size a trace holds is untrusted: a FIFO in place of the log
would block a reader forever, a symlink to /dev/zero would eat memory, a
digest like `../../etc/shadow` would escape the trace.  The helpers here open
only regular files, never through a symlink in the last component, never
blocking, and refuse sizes over a bound before reading a byte.
"""

from __future__ import annotations

import os
import re
import stat

from .errors import LogFormatError

_DIGEST = re.compile(r"[0-9a-f]{64}\Z")
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def is_digest(value: object) -> bool:
    """A SHA-256 hex digest as ttdbg writes it: 64 lowercase hex characters."""
    return isinstance(value, str) and _DIGEST.match(value) is not None


def open_dir(name: str, *, dir_fd: int | None = None, follow: bool = True) -> int:
    """A directory fd (O_NOFOLLOW unless `follow`); OSError as the caller's to map."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    return os.open(name, flags, dir_fd=dir_fd)


def open_regular(name: str, what: str, *, dir_fd: int | None = None) -> int:
    """A read-only fd of regular file `name` (relative to `dir_fd` if given), never
    through a symlink, never blocking.

    Raises FileNotFoundError when it does not exist (the caller says what is
    missing) and LogFormatError for anything that is not a regular file.
    """
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LogFormatError(f"{what}: cannot open: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LogFormatError(f"{what}: not a regular file")
    return fd


def read_regular(name: str, what: str, max_size: int, *, dir_fd: int | None = None) -> bytes:
    """The whole content of regular file `name` (relative to `dir_fd` if given).

    Raises FileNotFoundError when it does not exist (the caller says what is
    missing) and LogFormatError for anything that is not a regular file of at
    most `max_size` bytes.
    """
    fd = open_regular(name, what, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if st.st_size > max_size:
            raise LogFormatError(f"{what}: too large ({st.st_size:,} bytes, at most {max_size:,})")
        try:
            data = _read_exactly(fd, st.st_size)
        except MemoryError:
            raise LogFormatError(f"{what}: too large to load ({st.st_size:,} bytes)") from None
        except OSError as exc:
            raise LogFormatError(f"{what}: cannot read: {exc.strerror}") from None
        if len(data) != st.st_size:
            raise LogFormatError(f"{what}: changed size while being read")
        return data
    finally:
        os.close(fd)


def _read_exactly(fd: int, size: int) -> bytes:
    """`size` bytes, plus one more if the file grew (so the caller sees the change).

    One read() fills one buffer for files up to 1 GiB: no second copy of a large log.
    """
    chunks = []
    left = size + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 30))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
