"""alarm, setitimer and getitimer: the real-time interval timer (itimer.py),
set and read against logged CLOCK_MONOTONIC reads; and the sleep it may cut
short (`sleep`), which nanosleep, clock_nanosleep and pause use.

ITIMER_VIRTUAL and ITIMER_PROF (CPU-time timers) are refused with ENOSYS and
the one-line warning.
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from ..events import ClockSource
from .abi import Args, s32, wait_forever
from .itimer import CLOCK_MONOTONIC, NS, IntervalTimer

if TYPE_CHECKING:
    from .kernel import LinuxKernel

ITIMER_REAL = 0
ITIMERVAL = struct.Struct("<qqqq")      # it_interval, it_value (timevals)


def _now(k: LinuxKernel) -> int:
    return k.clock(ClockSource.CLOCK_GETTIME, CLOCK_MONOTONIC)


def sleep(k: LinuxKernel, sysno: int, ns: int | None) -> int | None:
    """Sleep `ns` (None: forever) as a system call does, cut short by the
    interval timer when SIGALRM's handler interrupts it: None when the sleep ran
    out, else the ns it had left (the caller returns EINTR).  The guest's clock
    is read (logged) only when a timer is armed."""
    if k.state.itimer is None:
        if ns is None:
            return wait_forever(k, sysno)
        k.host.sleep(ns / NS)
        return None
    now = _now(k)
    deadline = None if ns is None else now + ns
    while True:
        t = k.state.itimer
        if t is None or (deadline is not None and t.expiry >= deadline):
            if deadline is None:
                return wait_forever(k, sysno)
            k.host.sleep(max(0, deadline - now) / NS)
            return None
        k.host.sleep(max(0, t.expiry - now) / NS)
        now = max(now, t.expiry)
        if k.timer_fires_in_syscall():
            return 0 if deadline is None else deadline - now


def _remaining(k: LinuxKernel, now: int) -> tuple[int, int]:
    """(value, interval) of the timer in ns; (0, 0) when disarmed."""
    t = k.state.itimer
    if t is None:
        return 0, 0
    return max(1000, t.expiry - now), t.interval


def _arm(k: LinuxKernel, now: int, value: int, interval: int) -> None:
    k.state.itimer = IntervalTimer(now + value, interval) if value else None
    if value:
        k.end_slice()       # the next slice is a short one, so the expiry is noticed in time


def sys_alarm(k: LinuxKernel, a: Args) -> int:
    seconds = a[0] & 0xFFFFFFFF
    now = _now(k)
    left, _interval = _remaining(k, now)
    _arm(k, now, seconds * NS, 0)
    if not left:
        return 0
    secs, rest = divmod(left, NS)
    return max(1, secs + (1 if rest >= NS // 2 else 0))


def _itimerval(value: int, interval: int) -> bytes:
    return ITIMERVAL.pack(interval // NS, interval % NS // 1000, value // NS, value % NS // 1000)


def _which(k: LinuxKernel, which: int) -> int:
    if which == ITIMER_REAL:
        return 0
    if which in (1, 2):
        k.warn_once(f"itimer{which}", "CPU-time interval timers (ITIMER_VIRTUAL, ITIMER_PROF) are not "
                    "supported; returning -ENOSYS")
        return -errno.ENOSYS
    return -errno.EINVAL


def sys_setitimer(k: LinuxKernel, a: Args) -> int:
    which, new_ptr, old_ptr = s32(a[0]), a[1], a[2]
    if (bad := _which(k, which)) < 0:
        return bad
    if new_ptr and not k.can_read(new_ptr, ITIMERVAL.size):
        return -errno.EFAULT
    if old_ptr and not k.can_write(old_ptr, ITIMERVAL.size):
        return -errno.EFAULT
    isec, iusec, vsec, vusec = ITIMERVAL.unpack(k.read(new_ptr, ITIMERVAL.size)) if new_ptr else (0, 0, 0, 0)
    if not (0 <= iusec < 1_000_000 and 0 <= vusec < 1_000_000) or min(isec, vsec) < 0:
        return -errno.EINVAL
    now = _now(k)
    if old_ptr:
        k.write(old_ptr, _itimerval(*_remaining(k, now)))
    _arm(k, now, vsec * NS + vusec * 1000, isec * NS + iusec * 1000)
    return 0


def sys_getitimer(k: LinuxKernel, a: Args) -> int:
    which, cur_ptr = s32(a[0]), a[1]
    if (bad := _which(k, which)) < 0:
        return bad
    if not k.can_write(cur_ptr, ITIMERVAL.size):
        return -errno.EFAULT
    k.write(cur_ptr, _itimerval(*_remaining(k, _now(k))))
    return 0
