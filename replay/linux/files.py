"""Open files of the guest: the fd table and the open-file descriptions.

An OpenFile is shared by every fd that dup() made from the same open, like
the kernel's struct file.  Its `kind` says where its bytes come from:
captured content (deterministic, no events), an in-guest pipe
(deterministic), or the host (every read/write goes through the recorder's
log).  Host file descriptors themselves live in the recorder only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..events import FileKind

if TYPE_CHECKING:
    from .kernel import LinuxKernel

O_ACCMODE = 0o3
O_RDONLY, O_WRONLY, O_RDWR = 0, 1, 2
O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND = 0o100, 0o200, 0o400, 0o1000, 0o2000
O_NONBLOCK = 0o4000
O_DIRECTORY = 0o200000
O_CLOEXEC = 0o2000000
O_PATH = 0o10000000


PIPE_CAPACITY = 65536     # Linux's default: a write to a pipe holding this much waits


@dataclass
class Pipe:
    """An in-guest pipe: written and read by the guest alone, so deterministic."""

    buffer: bytearray = field(default_factory=bytearray)
    readers: int = 0
    writers: int = 0
    data_wakes: int = 0      # wakeups of its readers (a write, the last writer gone): EPOLLET edges
    room_wakes: int = 0      # wakeups of its writers (a read, the last reader gone)


class KernelObject(Protocol):
    """What an eventfd, timerfd or epoll file is made of: state of the kernel
    alone (no host file), read, written and polled by these methods."""

    def read(self, k: LinuxKernel, f: OpenFile, count: int) -> tuple[int, bytes]: ...
    def write(self, k: LinuxKernel, f: OpenFile, data: bytes) -> int: ...
    def poll(self, k: LinuxKernel) -> int:
        """Its readiness now (POLLIN, POLLOUT...)."""
        ...


@dataclass(frozen=True)
class SocketInfo:
    """What socket() was asked for: the address family, type and protocol."""

    domain: int
    type: int
    protocol: int


@dataclass(eq=False)
class OpenFile:
    handle: int                   # a deterministic id (recorder maps it to a host fd)
    kind: FileKind
    path: str
    flags: int
    content: bytes | None = None  # CAPTURED
    pos: int = 0
    std_stream: int | None = None  # 0, 1, 2 for the initial stdin/stdout/stderr
    pipe: Pipe | None = None
    pipe_end: str = ""            # "r" or "w"
    refs: int = 0
    synthetic: bool = False       # content made by the kernel (/proc/self/maps)
    socket: SocketInfo | None = None   # a host socket (recorder maps handle -> host socket)
    anon: KernelObject | None = None   # an eventfd, timerfd or epoll instance
    listing: tuple[tuple[bytes, int], ...] | None = None   # a directory the kernel made: (name, d_type)
    peer: OpenFile | None = None       # a socketpair's other end (SCM_RIGHTS between tasks: sys_sockets.py)
    rights: list[list[OpenFile]] = field(default_factory=list)   # open files sent to this end, not yet received
    wakes: int = 0                     # the guest's reads/writes of this host file or its peer: EPOLLET edges

    @property
    def readable(self) -> bool:
        return (self.flags & O_ACCMODE) in (O_RDONLY, O_RDWR)

    @property
    def writable(self) -> bool:
        return (self.flags & O_ACCMODE) in (O_WRONLY, O_RDWR)

    @property
    def is_directory(self) -> bool:
        return self.kind == FileKind.DIRECTORY


@dataclass
class FdEntry:
    file: OpenFile
    cloexec: bool = False


class FdLimitReached(Exception):
    """No free descriptor below the process's RLIMIT_NOFILE: the call fails with EMFILE."""


class FdTable:
    """Guest file descriptors -> open files; lowest free number first."""

    def __init__(self) -> None:
        self._fds: dict[int, FdEntry] = {}
        self._next_handle = 0
        self.limit: int | None = None   # RLIMIT_NOFILE's soft limit once the guest set one

    def new_handle(self) -> int:
        self._next_handle += 1
        return self._next_handle

    def get(self, fd: int) -> OpenFile | None:
        entry = self._fds.get(fd)
        return entry.file if entry else None

    def entry(self, fd: int) -> FdEntry | None:
        return self._fds.get(fd)

    def lowest_free(self, start: int = 0) -> int:
        fd = start
        while fd in self._fds:
            fd += 1
        if self.limit is not None and fd >= self.limit:
            raise FdLimitReached
        return fd

    def install(self, fd: int, file: OpenFile, cloexec: bool = False) -> OpenFile | None:
        """Put `file` at `fd`; returns the open file that lost its last fd, if any."""
        dropped = self.remove(fd)
        file.refs += 1
        if file.pipe is not None and file.refs == 1:
            pass
        self._fds[fd] = FdEntry(file, cloexec)
        return dropped

    def remove(self, fd: int) -> OpenFile | None:
        """Close `fd`; returns its open file when no other fd refers to it."""
        entry = self._fds.pop(fd, None)
        if entry is None:
            return None
        entry.file.refs -= 1
        return entry.file if entry.file.refs == 0 else None

    def items(self) -> list[tuple[int, OpenFile]]:
        return [(fd, e.file) for fd, e in sorted(self._fds.items())]


def woke(f: OpenFile) -> None:
    """The guest read or wrote `f` (a host or kernel-object file): a wakeup of its waiters and of its
    socketpair peer's (what an edge-triggered epoll entry reports again)."""
    f.wakes += 1
    if f.peer is not None:
        f.peer.wakes += 1
