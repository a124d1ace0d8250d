"""poll, ppoll, select and pselect6: readiness of guest files.

In-guest pipes, captured files and directories are answered
deterministically; terminals, outside pipes and host files are polled on
the host while recording (with the real timeout) and the whole answer is
logged, so the replay gets the same revents without waiting.  A call with
no timeout and nothing ready, while other threads can run, waits in its
thread (as a `read` does): made again when input comes or a pipe changes.
"""

from __future__ import annotations

import errno
import select
import struct
from typing import TYPE_CHECKING

from ..events import FileKind
from .abi import Args, s32, s64
from .files import PIPE_CAPACITY, OpenFile
from .structs import TIMESPEC
from .sysnames import SYSCALL_NUMBERS as N
from .tasks import Wait, WaitKind

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
        room = len(f.pipe.buffer) < PIPE_CAPACITY
        return (events & (POLLOUT | POLLWRNORM) if room else 0) | (POLLERR if f.pipe.readers == 0 else 0)
    if f.kind in (FileKind.CAPTURED, FileKind.DIRECTORY):
        return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
    return None


_INPUT = POLLIN | POLLRDNORM | POLLPRI


def _wait_in_thread(k: LinuxKernel, entries: list[tuple[int, int]], files: list[OpenFile | None],
                    timeout_ms: int, masked: bool) -> None:
    """No timeout, nothing ready and other threads can run: this thread waits (Blocked) for
    input on its host files (terminal, outside pipe) or a change of an in-guest pipe.
    Replay: the host files' `would_block` is the log's (a switch follows at once).
    Not with a signal mask (ppoll, pselect6: `make -j` waits so for SIGCHLD): the mask
    for the wait is not applied yet, so such a call answers at once as before."""
    if timeout_ms >= 0 or masked or k.family is None or k.family.task_count() < 2:
        return
    host_fds = []
    for (fd, events), f in zip(entries, files):
        if fd < 0:
            continue
        local = _local_revents(f, events)
        if local:
            return                                  # ready now
        if local is None:
            if f is None or f.kind != FileKind.CHAR or events & ~_INPUT & 0xFFFF:
                return                              # (a host poll answers at once or waits as before)
            host_fds.append(fd)
    for fd in host_fds:
        f = k.fds.get(fd)
        if f is None or not k.host.would_block(k.icount, f):
            return
    if host_fds:
        k.block(Wait(WaitKind.HOST, address=host_fds[0], fds=tuple(host_fds)))
    k.block(Wait(WaitKind.PIPE))


def _revents(entries: list[tuple[int, int]], files: list[OpenFile | None], hfds: list[int | None],
             timeout_ms: int) -> list[int]:
    """revents for (fd, events) pairs: local answers, then a host poll (record only)."""
    revents: list[int | None] = []
    poller = select.poll()
    waiting = False
    for (fd, events), f, hfd in zip(entries, files, hfds):
        local = 0 if fd < 0 else _local_revents(f, events)
        revents.append(local)
        if local is None and hfd is not None:
            poller.register(hfd, events & 0xFFFF)
            waiting = True
    timeout = 0 if any(r for r in revents if r) else (timeout_ms if timeout_ms >= 0 else None)
    ready = dict(poller.poll(timeout)) if waiting else {}
    out = []
    for r, hfd in zip(revents, hfds):
        if r is None:
            r = ready.get(hfd, 0) if hfd is not None else POLLNVAL
        out.append(r)
    return out


def _poll(k: LinuxKernel, sysno: int, fds_ptr: int, nfds: int, timeout_ms: int, masked: bool = False) -> int:
    if nfds > 1 << 16:
        return -errno.EINVAL
    size = PollFd.size * nfds
    if not k.can_write(fds_ptr, size):
        return -errno.EFAULT
    raw = k.read(fds_ptr, size)
    entries = [PollFd.unpack_from(raw, i * PollFd.size)[:2] for i in range(nfds)]
    files = [k.fds.get(fd) if fd >= 0 else None for fd, _e in entries]
    _wait_in_thread(k, entries, files, timeout_ms, masked)

    def call(hfds: list[int | None]):
        out = bytearray(raw)
        revents = _revents(entries, files, hfds, timeout_ms)
        for i, r in enumerate(revents):
            struct.pack_into("<h", out, i * PollFd.size + 6, r)
        return sum(1 for r in revents if r), ((fds_ptr, bytes(out)),)
    return s64(k.host_files_syscall(sysno, files, call))


def sys_poll(k: LinuxKernel, a: Args) -> int:
    return _poll(k, N["poll"], a[0], a[1], s32(a[2]))


def _timespec_ms(k: LinuxKernel, ptr: int, scale: int) -> int:
    """A timeout in ms from a timespec (scale 1) or timeval (scale 1000); -1 if none."""
    if not ptr:
        return -1
    sec, frac = TIMESPEC.unpack(k.read(ptr, 16))
    return sec * 1000 + frac // (1_000_000 // scale)


def sys_ppoll(k: LinuxKernel, a: Args) -> int:
    return _poll(k, N["ppoll"], a[0], a[1], _timespec_ms(k, a[2], 1), masked=a[3] != 0)


# -- select: fd_set bitmaps over the same readiness ---------------------------------
_IN, _OUT, _EX = POLLIN | POLLHUP | POLLERR, POLLOUT | POLLERR, POLLPRI


def _select(k: LinuxKernel, sysno: int, nfds: int, sets: tuple[int, int, int], timeout_ms: int,
            masked: bool = False) -> int:
    if nfds < 0 or nfds > 1 << 16:
        return -errno.EINVAL
    nbytes = ((nfds + 63) // 64) * 8
    bitmaps = []
    for ptr in sets:
        if ptr and not k.can_write(ptr, nbytes):
            return -errno.EFAULT
        bitmaps.append(int.from_bytes(k.read(ptr, nbytes), "little") if ptr else 0)
    entries: list[tuple[int, int]] = []
    for fd in range(nfds):
        events = ((POLLIN if bitmaps[0] >> fd & 1 else 0) | (POLLOUT if bitmaps[1] >> fd & 1 else 0)
                  | (POLLPRI if bitmaps[2] >> fd & 1 else 0))
        if events:
            if k.fds.get(fd) is None:
                return -errno.EBADF
            entries.append((fd, events))
    files = [k.fds.get(fd) for fd, _e in entries]
    _wait_in_thread(k, entries, files, timeout_ms, masked)

    def call(hfds: list[int | None]):
        result = [0, 0, 0]
        count = 0
        for (fd, events), r in zip(entries, _revents(entries, files, hfds, timeout_ms)):
            for i, (wanted, mask) in enumerate(((POLLIN, _IN), (POLLOUT, _OUT), (POLLPRI, _EX))):
                if events & wanted and r & mask:
                    result[i] |= 1 << fd
                    count += 1
        writes = tuple((ptr, result[i].to_bytes(nbytes, "little")) for i, ptr in enumerate(sets) if ptr)
        return count, writes
    return s64(k.host_files_syscall(sysno, files, call))


def sys_select(k: LinuxKernel, a: Args) -> int:
    return _select(k, N["select"], s32(a[0]), (a[1], a[2], a[3]), _timespec_ms(k, a[4], 1000))


def sys_pselect6(k: LinuxKernel, a: Args) -> int:
    sigmask = a[5] != 0 and k.can_read(a[5], 8) and k.read(a[5], 8) != bytes(8)   # {sigset_t *, size}
    return _select(k, N["pselect6"], s32(a[0]), (a[1], a[2], a[3]), _timespec_ms(k, a[4], 1), masked=sigmask)
