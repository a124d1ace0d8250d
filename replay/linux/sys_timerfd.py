"""timerfd_create, timerfd_settime and timerfd_gettime: timers in the kernel,
set and read against the guest's clocks.

A timer is an expiry time and an interval on one clock.  Whether it has
expired is decided by reading that clock (a CLOCK event, like clock_gettime),
so replay decides the same; a blocking read of a timer not yet expired
sleeps until its expiry while recording (HostIO.sleep: none on replay) and
reads the clock again.
"""

from __future__ import annotations

import errno
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..events import ClockSource, FileKind
from .abi import Args, s32, wait_forever
from .files import O_CLOEXEC, O_NONBLOCK, O_RDWR, OpenFile
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME = 0, 1, 7
CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM = 8, 9
TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET = 1, 2
ITIMERSPEC = struct.Struct("<qqqq")     # it_interval, it_value (timespecs)
NS = 1_000_000_000
POLLIN = 0x1


@dataclass
class TimerFd:
    clock_id: int
    expiry: int = 0        # ns on its clock; 0: disarmed
    interval: int = 0
    ticks: int = 0         # expirations not read yet
    now: int = 0           # the clock at the last look

    def look(self, k: LinuxKernel) -> None:
        """Read the clock (logged) and count the expirations up to now."""
        self.now = k.clock(ClockSource.CLOCK_GETTIME, self.clock_id)
        if self.expiry and self.now >= self.expiry:
            if self.interval:
                n = 1 + (self.now - self.expiry) // self.interval
                self.expiry += n * self.interval
            else:
                n, self.expiry = 1, 0
            self.ticks += n

    def remaining(self) -> int | None:
        """ns from the last look to the next expiry; None when disarmed."""
        return max(0, self.expiry - self.now) if self.expiry else None

    def read(self, k: LinuxKernel, f: OpenFile, count: int) -> tuple[int, bytes]:
        if count < 8:
            return -errno.EINVAL, b""
        while True:
            self.look(k)
            if self.ticks:
                value, self.ticks = self.ticks, 0
                return 8, struct.pack("<Q", value)
            if f.flags & O_NONBLOCK:
                return -errno.EAGAIN, b""
            left = self.remaining()
            if left is None:
                return wait_forever(k, N["read"]), b""
            k.host.sleep(left / NS)

    def write(self, k: LinuxKernel, f: OpenFile, data: bytes) -> int:
        return -errno.EINVAL

    def poll(self, k: LinuxKernel) -> int:
        self.look(k)
        return POLLIN if self.ticks else 0


def sys_timerfd_create(k: LinuxKernel, a: Args) -> int:
    clock_id, flags = s32(a[0]), s32(a[1])
    if clock_id not in (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM,
                        CLOCK_BOOTTIME_ALARM):
        return -errno.EINVAL
    if flags & ~(O_NONBLOCK | O_CLOEXEC):
        return -errno.EINVAL
    if clock_id in (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM):
        k.warn_once("timerfd-alarm", "timerfd alarm clocks are not supported; returning -ENOSYS")
        return -errno.ENOSYS
    f = OpenFile(k.fds.new_handle(), FileKind.CHAR, "anon_inode:[timerfd]", O_RDWR | (flags & O_NONBLOCK),
                 anon=TimerFd(clock_id))
    fd = k.fds.lowest_free()
    k.fds.install(fd, f, bool(flags & O_CLOEXEC))
    return fd


def _timer(k: LinuxKernel, fd: int) -> TimerFd | int:
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    return f.anon if isinstance(f.anon, TimerFd) else -errno.EINVAL


def _current(t: TimerFd) -> bytes:
    left = t.remaining()
    left = 0 if left is None else max(left, 1)
    return ITIMERSPEC.pack(t.interval // NS, t.interval % NS, left // NS, left % NS)


def sys_timerfd_settime(k: LinuxKernel, a: Args) -> int:
    t = _timer(k, s32(a[0]))
    if isinstance(t, int):
        return t
    flags, new_ptr, old_ptr = s32(a[1]), a[2], a[3]
    if flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET):
        return -errno.EINVAL
    if not k.can_read(new_ptr, ITIMERSPEC.size) or (old_ptr and not k.can_write(old_ptr, ITIMERSPEC.size)):
        return -errno.EFAULT
    isec, insec, vsec, vnsec = ITIMERSPEC.unpack(k.read(new_ptr, ITIMERSPEC.size))
    if min(isec, vsec) < 0 or not (0 <= insec < NS and 0 <= vnsec < NS):
        return -errno.EINVAL
    t.look(k)
    if old_ptr:
        k.write(old_ptr, _current(t))
    value = vsec * NS + vnsec
    t.interval = isec * NS + insec
    t.ticks = 0
    if value == 0:
        t.expiry = 0
    else:
        t.expiry = max(value, 1) if flags & TFD_TIMER_ABSTIME else t.now + value
    return 0


def sys_timerfd_gettime(k: LinuxKernel, a: Args) -> int:
    t = _timer(k, s32(a[0]))
    if isinstance(t, int):
        return t
    if not k.can_write(a[1], ITIMERSPEC.size):
        return -errno.EFAULT
    t.look(k)
    k.write(a[1], _current(t))
    return 0
