"""poll, ppoll, select and pselect6: readiness of guest files.

In-guest pipes, captured files and directories are answered
deterministically; terminals, outside pipes and host files are polled on
the host while recording (with the real timeout) and the whole answer is
logged, so the replay gets the same revents without waiting.  While other
threads can run, a call with nothing ready waits in its thread (block_poll):
made again when one of its files is ready (a pipe with data or room, host
input) or its timeout passes.
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from ..events import ClockSource, FileKind
from .abi import EWAIT, Args, s32, s64
from .files import PIPE_CAPACITY, OpenFile
from .itimer import CLOCK_MONOTONIC
from .structs import TIMESPEC
from .sys_eventfd import EventFd
from .sys_signals import with_wait_mask
from .sysnames import SYSCALL_NUMBERS as N
from .tasks import Wait, WaitKind

if TYPE_CHECKING:
    from ..hostio import Waiter
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


def watchable(f: OpenFile | None) -> bool:
    """A file a blocked thread's wait can watch without reading a clock (the
    scheduler asks it while recording only): not a timerfd, nor an epoll (it may hold one)."""
    return f is None or f.anon is None or isinstance(f.anon, EventFd)


def may_block(k: LinuxKernel, files: list[OpenFile | None], timeout_ms: int) -> bool:
    """Whether a wait waits as a blocked thread (tasks.py: other threads run
    meanwhile) rather than on the host while nothing else runs."""
    return timeout_ms != 0 and k.can_block() and all(watchable(f) for f in files)


def block_poll(k: LinuxKernel, fds: list[tuple[int, int]], timeout_ms: int) -> None:
    """The thread waits for one of `fds` (fd, poll events), until the timeout if
    any (a logged clock read); the call is made again when it ends (resumed_timeout)."""
    deadline = None if timeout_ms < 0 else \
        k.clock(ClockSource.CLOCK_GETTIME, CLOCK_MONOTONIC) + timeout_ms * 1_000_000
    k.block(Wait(WaitKind.POLL, fds=tuple(fds), deadline=deadline, clock=CLOCK_MONOTONIC))


def resumed_timeout(k: LinuxKernel, timeout_ms: int) -> int:
    """The timeout of a poll-like call: the time left of it (a logged clock read)
    when the call is made again after its thread waited (block_poll)."""
    deadline = k.thread.resume_deadline
    if deadline is None:
        return timeout_ms
    k.thread.resume_deadline = None
    left = deadline - k.clock(ClockSource.CLOCK_GETTIME, CLOCK_MONOTONIC)
    return max(0, -(-left // 1_000_000))


def local_revents(k: LinuxKernel, f: OpenFile | None, events: int) -> int | None:
    """revents for a file the guest alone decides (an eventfd, timerfd or epoll
    asked through its poll(), a timer reading its clock), None for a host file."""
    if f is not None and f.anon is not None:
        return f.anon.poll(k) & (events | POLLERR | POLLHUP)
    return _local_revents(f, events)


def _revents(entries: list[tuple[int, int]], local: list[int | None], hfds: list[int | None],
             timeout_ms: int, wait: Waiter) -> list[int]:
    """revents for (fd, events) pairs from the local answers (None: a host
    file), then a host poll (record only) through HostIO's Waiter, which Ctrl-C
    interrupts."""
    revents: list[int | None] = list(local)
    polled: list[tuple[int, int]] = []
    for (_fd, events), r, hfd in zip(entries, local, hfds):
        if r is None and hfd is not None:
            polled.append((hfd, events & 0xFFFF))
    timeout = 0 if any(r for r in revents if r) else (timeout_ms if timeout_ms >= 0 else None)
    if polled:
        ready = wait(polled, timeout)
    else:
        ready = {}
        if timeout != 0:
            wait([], timeout)
    out = []
    for r, hfd in zip(revents, hfds):
        if r is None:
            r = ready.get(hfd, 0) if hfd is not None else POLLNVAL
        out.append(r)
    return out


def _poll(k: LinuxKernel, sysno: int, fds_ptr: int, nfds: int, timeout_ms: int) -> int:
    if nfds > 1 << 16:
        return -errno.EINVAL
    size = PollFd.size * nfds
    if not k.can_write(fds_ptr, size):
        return -errno.EFAULT
    raw = k.read(fds_ptr, size)
    entries = [PollFd.unpack_from(raw, i * PollFd.size)[:2] for i in range(nfds)]
    files = [k.fds.get(fd) if fd >= 0 else None for fd, _e in entries]
    timeout_ms = resumed_timeout(k, timeout_ms)
    local = [0 if fd < 0 else local_revents(k, f, events) for (fd, events), f in zip(entries, files)]

    def call(hfds: list[int | None], wait: Waiter):
        out = bytearray(raw)
        revents = _revents(entries, local, hfds, timeout_ms, wait)
        for i, r in enumerate(revents):
            struct.pack_into("<h", out, i * PollFd.size + 6, r)
        return sum(1 for r in revents if r), ((fds_ptr, bytes(out)),), []
    return _host_wait(k, sysno, files, call, [(fd, events & 0xFFFF) for fd, events in entries if fd >= 0],
                      timeout_ms)


def _host_wait(k: LinuxKernel, sysno: int, files: list[OpenFile | None], call, fds: list[tuple[int, int]],
               timeout_ms: int) -> int:
    """The wait on the host (recording) or from the log; the interval timer's
    SIGALRM may cut it (EINTR, never restarted, as Linux's poll and select).
    While other threads may run, a wait blocks this thread instead; the call
    is made again when one of `fds` is ready or the timeout passes."""
    block = may_block(k, files, timeout_ms)
    result, writes = k.host_wait_syscall(sysno, files, call, (), k.interrupt_at(), block)
    if result == -EWAIT:
        block_poll(k, fds, timeout_ms)
    k.apply_writes(writes)
    k.interrupted(result)
    return s64(result)


def sys_poll(k: LinuxKernel, a: Args) -> int:
    return _poll(k, N["poll"], a[0], a[1], s32(a[2]))


def _timespec_ms(k: LinuxKernel, ptr: int, scale: int) -> int:
    """A timeout in ms from a timespec (scale 1) or timeval (scale 1000); -1 if none."""
    if not ptr:
        return -1
    sec, frac = TIMESPEC.unpack(k.read(ptr, 16))
    return sec * 1000 + frac // (1_000_000 // scale)


def sys_ppoll(k: LinuxKernel, a: Args) -> int:
    return with_wait_mask(k, a[3], a[4], lambda: _poll(k, N["ppoll"], a[0], a[1], _timespec_ms(k, a[2], 1)))


# -- select: fd_set bitmaps over the same readiness ---------------------------------
_IN, _OUT, _EX = POLLIN | POLLHUP | POLLERR, POLLOUT | POLLERR, POLLPRI


def _select(k: LinuxKernel, sysno: int, nfds: int, sets: tuple[int, int, int], timeout_ms: int) -> int:
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
    timeout_ms = resumed_timeout(k, timeout_ms)
    local = [local_revents(k, f, events) for (fd, events), f in zip(entries, files)]

    def call(hfds: list[int | None], wait: Waiter):
        result = [0, 0, 0]
        count = 0
        for (fd, events), r in zip(entries, _revents(entries, local, hfds, timeout_ms, wait)):
            for i, (wanted, mask) in enumerate(((POLLIN, _IN), (POLLOUT, _OUT), (POLLPRI, _EX))):
                if events & wanted and r & mask:
                    result[i] |= 1 << fd
                    count += 1
        writes = tuple((ptr, result[i].to_bytes(nbytes, "little")) for i, ptr in enumerate(sets) if ptr)
        return count, writes, []
    return _host_wait(k, sysno, files, call, entries, timeout_ms)


def sys_select(k: LinuxKernel, a: Args) -> int:
    return _select(k, N["select"], s32(a[0]), (a[1], a[2], a[3]), _timespec_ms(k, a[4], 1000))


def sys_pselect6(k: LinuxKernel, a: Args) -> int:
    mask_ptr, size = 0, 8
    if a[5]:                            # {const sigset_t *ss; size_t ss_len}
        if not k.can_read(a[5], 16):
            return -errno.EFAULT
        mask_ptr, size = struct.unpack("<QQ", k.read(a[5], 16))
    return with_wait_mask(k, mask_ptr, size, lambda: _select(k, N["pselect6"], s32(a[0]), (a[1], a[2], a[3]),
                                                              _timespec_ms(k, a[4], 1)))
