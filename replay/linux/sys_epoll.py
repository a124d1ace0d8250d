"""epoll_create/epoll_create1, epoll_ctl, epoll_wait/epoll_pwait/epoll_pwait2.

The interest list is kernel state.  At each wait the readiness of the guest's
own files (pipes, eventfds, timerfds, captured files) is decided here, timers
by reading their clocks (CLOCK events); the readiness of host files (sockets,
terminals, outside pipes) is asked of the host while recording, waiting with
the real timeout (Ctrl-C ends the wait), and that answer is one SYSCALL
event, so the replay gets it without waiting.  A wait is cut at the next
expiry of a timerfd in the set, then the timers are read again.

An edge-triggered entry (EPOLLET) is reported once per edge: when a bit of
its readiness is new since the last look, or when its file was woken since
its last report (a pipe written, or read for its writer, or an end closed; an
eventfd or host file read or written by the guest, a socketpair's peer too).
While nothing is new its ready bits are not waited for (a host poll asks
only for the others), so a wait blocks until the next edge.  All of it is
kernel state and the logged host answers, so the replay decides the same.
"""

from __future__ import annotations

import errno
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..events import ClockSource, FileKind
from . import sys_timers
from .abi import EWAIT, Args, s32
from .files import O_CLOEXEC, O_RDWR, OpenFile
from .itimer import CLOCK_MONOTONIC
from .sys_poll import block_poll, local_revents, may_block, resumed_timeout
from .sys_signalfd import SignalFd
from .sys_signals import with_wait_mask
from .sys_timerfd import TimerFd
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from ..hostio import Waiter, Writes
    from .kernel import LinuxKernel

EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3
EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP = 0x1, 0x4, 0x8, 0x10
EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT, EPOLLET = 1 << 28, 1 << 29, 1 << 30, 1 << 31
_FLAGS = EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | EPOLLET
EVENT = struct.Struct("<IQ")            # struct epoll_event is packed on x86-64
MAX_EVENTS = 0x7FFFFFFF // EVENT.size
TASK_SIZE = 0x7FFFFFFFF000              # the end of user addresses
REVENTS = struct.Struct("<H")


@dataclass
class Interest:
    file: OpenFile
    events: int
    data: int
    armed: bool = True      # EPOLLONESHOT entries disarm once reported
    seen: int = 0           # EPOLLET: the ready bits at the last look (lowered as they fall)
    mark: int = -1          # EPOLLET: the file's wakeups when last reported


def _wakes(f: OpenFile) -> int:
    """How often the file's waiters were woken (the edges of an EPOLLET entry)."""
    if f.pipe is not None:
        return f.pipe.data_wakes if f.pipe_end == "r" else f.pipe.room_wakes
    return f.wakes


def _stale(e: Interest) -> int:
    """The ready bits an EPOLLET entry reported and no edge renewed since (0 for level-triggered)."""
    if not e.events & EPOLLET or _wakes(e.file) != e.mark:
        return 0
    return e.seen


@dataclass
class Epoll:
    interest: dict[int, Interest] = field(default_factory=dict)

    def read(self, k: LinuxKernel, f: OpenFile, count: int) -> tuple[int, bytes]:
        return -errno.EINVAL, b""

    def write(self, k: LinuxKernel, f: OpenFile, data: bytes) -> int:
        return -errno.EINVAL

    def poll(self, k: LinuxKernel) -> int:
        """Readable when one of its guest files is ready (host files are not asked here)."""
        for e in self.live():
            r = local_revents(k, e.file, e.events & ~_FLAGS)
            if r and e.armed and r & ~_stale(e):
                return EPOLLIN
        return 0

    def live(self) -> list[Interest]:
        """The entries whose file is still open (closing its last fd removes it, as on Linux)."""
        for fd in [fd for fd, e in self.interest.items() if e.file.refs == 0]:
            del self.interest[fd]
        return list(self.interest.values())


def _create(k: LinuxKernel, flags: int) -> int:
    if flags & ~O_CLOEXEC:
        return -errno.EINVAL
    f = OpenFile(k.fds.new_handle(), FileKind.CHAR, "anon_inode:[eventpoll]", O_RDWR, anon=Epoll())
    fd = k.fds.lowest_free()
    k.fds.install(fd, f, bool(flags & O_CLOEXEC))
    return fd


def sys_epoll_create1(k: LinuxKernel, a: Args) -> int:
    return _create(k, s32(a[0]))


def sys_epoll_create(k: LinuxKernel, a: Args) -> int:
    return _create(k, 0) if s32(a[0]) > 0 else -errno.EINVAL


def _epoll(k: LinuxKernel, epfd: int) -> Epoll | int:
    f = k.fds.get(epfd)
    if f is None:
        return -errno.EBADF
    return f.anon if isinstance(f.anon, Epoll) else -errno.EINVAL


def sys_epoll_ctl(k: LinuxKernel, a: Args) -> int:
    epfd, op, fd, event_ptr = s32(a[0]), s32(a[1]), s32(a[2]), a[3]
    ep = _epoll(k, epfd)
    f = k.fds.get(fd)
    if isinstance(ep, int) and ep == -errno.EBADF or f is None:
        return -errno.EBADF
    if isinstance(ep, int) or fd == epfd:
        return -errno.EINVAL
    if f.kind in (FileKind.CAPTURED, FileKind.HOST, FileKind.DIRECTORY) and f.pipe is None:
        return -errno.EPERM                    # regular files and directories cannot be polled
    events = data = 0
    if op != EPOLL_CTL_DEL:
        if not k.can_read(event_ptr, EVENT.size):
            return -errno.EFAULT
        events, data = EVENT.unpack(k.read(event_ptr, EVENT.size))
    ep.live()
    current = ep.interest.get(fd)
    if current is not None and current.file is not f:
        del ep.interest[fd]                    # the fd now names another file
        current = None
    if op == EPOLL_CTL_ADD:
        if current is not None:
            return -errno.EEXIST
        if isinstance(f.anon, Epoll) and _reaches(f.anon, ep):
            return -errno.ELOOP
        ep.interest[fd] = Interest(f, events, data)
        return 0
    if op in (EPOLL_CTL_DEL, EPOLL_CTL_MOD):
        if current is None:
            return -errno.ENOENT
        if op == EPOLL_CTL_DEL:
            del ep.interest[fd]
        else:
            if events & EPOLLEXCLUSIVE or current.events & EPOLLEXCLUSIVE:
                return -errno.EINVAL
            current.events, current.data, current.armed, current.seen = events, data, True, 0
        return 0
    return -errno.EINVAL


def _reaches(inner: Epoll, target: Epoll) -> bool:
    if inner is target:
        return True
    return any(isinstance(e.file.anon, Epoll) and _reaches(e.file.anon, target) for e in inner.interest.values())


def _host_revents(k: LinuxKernel, sysno: int, epfd: int, entries: list[tuple[Interest, int]], timeout_ms: int,
                  block: bool = False) -> list[int] | None:
    """revents of host files, polled on the host while recording (waiting up to
    timeout_ms; -1 without limit).  The answer is logged as the call's one
    write at address 0: the answer itself, never guest memory.  None when the
    interval timer's SIGALRM cut the wait.  With `block`, a wait blocks the
    thread instead (-EWAIT: kernel.block raises)."""
    def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
        polled = [(hfd, events) for hfd, (_e, events) in zip(hfds, entries) if hfd is not None]
        ready = wait(polled, None if timeout_ms < 0 else timeout_ms)
        revents = [ready.get(hfd, 0) if hfd is not None else 0 for hfd in hfds]
        return sum(1 for r in revents if r), ((0, b"".join(REVENTS.pack(r & 0xFFFF) for r in revents)),), []
    result, writes = k.host_wait_syscall(sysno, [e.file for e, _ in entries], call, (),
                                         k.interrupt_at(), block)
    if result == -EWAIT:
        _block(k, epfd, entries, timeout_ms)
    if k.interrupted(result):
        return None
    raw = writes[0][1] if writes else bytes(REVENTS.size * len(entries))
    return [REVENTS.unpack_from(raw, i * REVENTS.size)[0] for i in range(len(entries))]


def _block(k: LinuxKernel, epfd: int, host: list[tuple[Interest, int]], timeout_ms: int) -> None:
    """Nothing is ready and other threads may run: this one waits for the
    epoll's own readiness (its guest files, edges counted: Epoll.poll), one of
    its host files (the poll events asked) or the timeout (the call is made again then)."""
    fds = {id(f): fd for fd, f in k.fds.items()}
    block_poll(k, [(epfd, EPOLLIN)] + [(fds[id(e.file)], events) for e, events in host if id(e.file) in fds],
               timeout_ms)


def _timer_ms(k: LinuxKernel, entries: list[Interest]) -> tuple[int | None, bool]:
    """ms until the first expiry of a timerfd among the entries (after their
    look) or of the interval timer whose blocked SIGALRM a signalfd among them
    reads (the clock read, logged); and whether the interval timer is first."""
    left = [t.remaining() for e in entries if isinstance(t := e.file.anon, TimerFd)]
    ns = min((x for x in left if x is not None), default=None)
    itimer = k.state.itimer
    if itimer is not None and any(isinstance(s := e.file.anon, SignalFd) and s.waits_for_timer(k) for e in entries):
        until = max(0, itimer.expiry - k.clock(ClockSource.CLOCK_GETTIME, CLOCK_MONOTONIC))
        if ns is None or until <= ns:
            return -(-until // 1_000_000), True
    return (None if ns is None else -(-ns // 1_000_000)), False


def _wait(k: LinuxKernel, sysno: int, epfd: int, events_ptr: int, maxevents: int, timeout_ms: int) -> int:
    ep = _epoll(k, epfd)
    if isinstance(ep, int):
        return ep
    if not 0 < maxevents <= MAX_EVENTS:
        return -errno.EINVAL
    if events_ptr + maxevents * EVENT.size > TASK_SIZE:
        return -errno.EFAULT                    # Linux's access_ok; the write itself is checked below
    remaining = resumed_timeout(k, timeout_ms)
    while True:
        entries = [e for e in ep.live() if e.armed]
        revents: dict[int, int] = {}            # the ready bits of each entry looked at
        stale = {id(e): _stale(e) for e in entries}
        host: list[tuple[Interest, int]] = []
        for e in entries:
            r = local_revents(k, e.file, e.events & 0xFFFF)
            if r is None:
                events = ((e.events & 0xFFFF) | EPOLLERR | EPOLLHUP) & ~stale[id(e)]
                if not stale[id(e)] & (EPOLLERR | EPOLLHUP):   # else no host poll can leave them out
                    host.append((e, events))
            else:
                revents[id(e)] = r & (e.events | EPOLLERR | EPOLLHUP)
        news = {i: r for i, r in revents.items() if r & ~stale[i]}
        timer, itimer_first = _timer_ms(k, entries)
        armed = k.state.itimer
        if news:
            wait_ms = 0
        elif timer is not None and (remaining < 0 or timer < remaining):
            wait_ms = timer
        else:
            wait_ms, timer = remaining, None
        block = timer is None and not news and may_block(k, [e.file for e in entries], wait_ms)
        if host:
            answer = _host_revents(k, sysno, epfd, host, wait_ms, block)
            if answer is None:
                return -errno.EINTR
            for (e, _events), r in zip(host, answer):
                revents[id(e)] = r & (e.events | EPOLLERR | EPOLLHUP)
                if revents[id(e)] & ~stale[id(e)]:
                    news[id(e)] = revents[id(e)]
        elif block:
            _block(k, epfd, [], wait_ms)
        elif wait_ms != 0 and sys_timers.sleep(k, sysno, wait_ms * 1_000_000 if wait_ms > 0 else None) is not None:
            return -errno.EINTR                 # the interval timer's SIGALRM cut the wait
        ready = [e for e in entries if news.get(id(e))][:maxevents]
        for e in entries:
            if id(e) in revents:
                e.seen &= revents[id(e)]           # bits that fell are new when they rise again
        if ready:
            out = b"".join(EVENT.pack(revents[id(e)], e.data) for e in ready)
            if not k.can_write(events_ptr, len(out)):
                return -errno.EFAULT
            k.write(events_ptr, out)
            for e in ready:
                if e.events & EPOLLONESHOT:
                    e.armed = False
                e.seen, e.mark = revents[id(e)], _wakes(e.file)
            return len(ready)
        if timer is None:
            return 0                            # the timeout passed
        if itimer_first and armed is not None and k.state.itimer is armed:
            k.timer_fires_in_syscall()          # its SIGALRM is blocked: pending, for the signalfd
        if remaining >= 0:
            remaining = max(0, remaining - wait_ms)


def _timeout_of_timespec(k: LinuxKernel, ptr: int) -> int:
    if not ptr:
        return -1
    sec, nsec = struct.unpack("<qq", k.read(ptr, 16))
    return sec * 1000 + -(-nsec // 1_000_000)


def sys_epoll_wait(k: LinuxKernel, a: Args) -> int:
    return _wait(k, N["epoll_wait"], s32(a[0]), a[1], s32(a[2]), s32(a[3]))


def sys_epoll_pwait(k: LinuxKernel, a: Args) -> int:
    return with_wait_mask(k, a[4], a[5], lambda: _wait(k, N["epoll_pwait"], s32(a[0]), a[1], s32(a[2]), s32(a[3])))


def sys_epoll_pwait2(k: LinuxKernel, a: Args) -> int:
    return with_wait_mask(k, a[4], a[5], lambda: _wait(k, N["epoll_pwait2"], s32(a[0]), a[1], s32(a[2]),
                                                       _timeout_of_timespec(k, a[3])))

