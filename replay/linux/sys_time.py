"""Clocks and sleeping: clock_gettime, gettimeofday, time, clock_getres and
the sleeps.

Every reading of a clock is a CLOCK event (HostIO.clock); sleeps really
wait while recording and return at once on replay, and the interval timer's
SIGALRM may cut them short (sys_timers.sleep).
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from ..events import ClockSource
from . import sys_timers
from .abi import Args, s32
from .structs import TIMESPEC, TIMEVAL
from .sysnames import SYSCALL_NUMBERS as N
from .tasks import Wait, WaitKind

if TYPE_CHECKING:
    from .kernel import LinuxKernel

CLOCK_MONOTONIC = 1
VALID_CLOCKS = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11})


def sys_clock_gettime(k: LinuxKernel, a: Args) -> int:
    clock_id, tp = s32(a[0]), a[1]
    if clock_id not in VALID_CLOCKS:
        return -errno.EINVAL
    if not k.can_write(tp, 16):
        return -errno.EFAULT
    ns = k.clock(ClockSource.CLOCK_GETTIME, clock_id)
    k.write(tp, TIMESPEC.pack(ns // 1_000_000_000, ns % 1_000_000_000))
    return 0


def sys_clock_getres(k: LinuxKernel, a: Args) -> int:
    clock_id, res = s32(a[0]), a[1]
    if clock_id not in VALID_CLOCKS:
        return -errno.EINVAL
    if res:
        coarse = clock_id in (5, 6)
        k.write(res, TIMESPEC.pack(0, 4_000_000 if coarse else 1))
    return 0


def sys_gettimeofday(k: LinuxKernel, a: Args) -> int:
    tv, tz = a[0], a[1]
    if tv:
        if not k.can_write(tv, 16):
            return -errno.EFAULT
        ns = k.clock(ClockSource.GETTIMEOFDAY, 0)
        k.write(tv, TIMEVAL.pack(ns // 1_000_000_000, (ns % 1_000_000_000) // 1000))
    if tz:
        k.write(tz, bytes(8))
    return 0


def sys_time(k: LinuxKernel, a: Args) -> int:
    seconds = k.clock(ClockSource.TIME, 0) // 1_000_000_000
    if a[0]:
        if not k.can_write(a[0], 8):
            return -errno.EFAULT
        k.write(a[0], struct.pack("<q", seconds))
    return seconds


def _sleep(k: LinuxKernel, sysno: int, ns: int, rem: int) -> int:
    """Sleep (really while recording, not on replay); the interval timer's
    SIGALRM may cut it short: EINTR, with the time left in `rem` if given."""
    left = sys_timers.sleep(k, sysno, ns)
    if left is None:
        return 0
    if rem and k.can_write(rem, 16):
        k.write(rem, TIMESPEC.pack(left // 1_000_000_000, left % 1_000_000_000))
    return -errno.EINTR


def _sleep_for(k: LinuxKernel, sysno: int, req: int, rem: int) -> int:
    if not k.can_read(req, 16):
        return -errno.EFAULT
    sec, nsec = TIMESPEC.unpack(k.read(req, 16))
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        return -errno.EINVAL
    ns = sec * 1_000_000_000 + nsec
    if len(k.live_threads()) > 1:
        # Other threads run meanwhile: this one waits until its deadline (a logged clock read).
        k.block(Wait(WaitKind.SLEEP, deadline=k.clock(ClockSource.CLOCK_GETTIME, CLOCK_MONOTONIC) + ns))
    return _sleep(k, sysno, ns, rem)


def sys_nanosleep(k: LinuxKernel, a: Args) -> int:
    return _sleep_for(k, N["nanosleep"], a[0], a[1])


def sys_clock_nanosleep(k: LinuxKernel, a: Args) -> int:
    clock_id, flags, req = s32(a[0]), a[1], a[2]
    if clock_id not in VALID_CLOCKS:
        return -errno.EINVAL
    if flags & 1:   # TIMER_ABSTIME: sleep until the given time of that clock
        if not k.can_read(req, 16):
            return -errno.EFAULT
        sec, nsec = TIMESPEC.unpack(k.read(req, 16))
        if len(k.live_threads()) > 1:
            k.block(Wait(WaitKind.SLEEP, deadline=sec * 1_000_000_000 + nsec, clock=clock_id))
        now = k.clock(ClockSource.CLOCK_GETTIME, clock_id)
        return _sleep(k, N["clock_nanosleep"], max(0, sec * 1_000_000_000 + nsec - now), 0)
    return _sleep_for(k, N["clock_nanosleep"], req, a[3])
