"""poll and ppoll: readiness of guest files.

In-guest pipes, captured files and directories are answered
deterministically; terminals, outside pipes and host files are polled on
the host while recording (with the real timeout) and the whole answer is
logged, so the replay gets the same revents without waiting.
"""

from __future__ import annotations

import errno
import select
import struct
from typing import TYPE_CHECKING

from ..events import FileKind
from .files import OpenFile
from .kernel import Args, Handler, s32, s64
from .structs import TIMESPEC
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
POLLRDNORM, POLLWRNORM = 0x40, 0x100
PollFd = struct.Struct("<ihh")


def _local_revents(f: OpenFile | None, events: int) -> int | None:
    """revents for a file the guest alone decides, or None for a host file."""
    if f is None:
        return POLLNVAL
    if f.pipe is not None:
        if f.pipe_end == "r":
            ready = POLLIN if f.pipe.buffer else 0
            return (events & (POLLIN | POLLRDNORM) and ready) | (POLLHUP if f.pipe.writers == 0 else 0)
        return (events & (POLLOUT | POLLWRNORM)) | (POLLERR if f.pipe.readers == 0 else 0)
    if f.kind in (FileKind.CAPTURED, FileKind.DIRECTORY):
        return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
    return None


def _poll(k: "LinuxKernel", sysno: int, fds_ptr: int, nfds: int, timeout_ms: int) -> int:
    if nfds > 1 << 16:
        return -errno.EINVAL
    size = PollFd.size * nfds
    if not k.can_write(fds_ptr, size):
        return -errno.EFAULT
    raw = k.read(fds_ptr, size)
    entries = [PollFd.unpack_from(raw, i * PollFd.size) for i in range(nfds)]
    files = [k.fds.get(fd) if fd >= 0 else None for fd, _e, _r in entries]

    def call(hfds: list[int | None]):
        revents = []
        poller = select.poll()
        waiting = False
        for (fd, events, _r), f, hfd in zip(entries, files, hfds):
            local = 0 if fd < 0 else _local_revents(f, events)
            revents.append(local)
            if local is None and hfd is not None:
                poller.register(hfd, events & 0xFFFF)
                waiting = True
        if any(r for r in revents if r):
            timeout = 0
        else:
            timeout = timeout_ms if timeout_ms >= 0 else None
        ready = dict(poller.poll(timeout)) if waiting else {}
        out = bytearray(raw)
        count = 0
        for i, hfd in enumerate(hfds):
            r = revents[i]
            if r is None:
                r = ready.get(hfd, 0) if hfd is not None else POLLNVAL
            struct.pack_into("<h", out, i * PollFd.size + 6, r)
            count += bool(r)
        return count, ((fds_ptr, bytes(out)),)
    return s64(k.host_files_syscall(sysno, files, call))


def sys_poll(k: "LinuxKernel", a: Args) -> int:
    return _poll(k, N["poll"], a[0], a[1], s32(a[2]))


def sys_ppoll(k: "LinuxKernel", a: Args) -> int:
    timeout = -1
    if a[2]:
        sec, nsec = TIMESPEC.unpack(k.read(a[2], 16))
        timeout = sec * 1000 + nsec // 1_000_000
    return _poll(k, N["ppoll"], a[0], a[1], timeout)


HANDLERS: dict[int, Handler] = {N["poll"]: sys_poll, N["ppoll"]: sys_ppoll}
