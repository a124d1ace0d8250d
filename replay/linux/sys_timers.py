"""alarm, setitimer and getitimer: the real-time interval timer (itimer.py),
set and read against logged CLOCK_MONOTONIC reads; POSIX timers (timer_create
and its family), the same with a signal (and thread) of their own; and the
sleep a timer may cut short (`sleep`), which nanosleep, clock_nanosleep, pause
and rt_sigsuspend use.

ITIMER_VIRTUAL and ITIMER_PROF (CPU-time timers) are refused with ENOSYS and
the one-line warning.
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from ..events import ClockSource
from .abi import Args, s32, wait_forever
from .itimer import CLOCK_MONOTONIC, NS, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID, IntervalTimer, PosixTimer
from .signals import SIGALRM

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
    if k.next_timer() is None:
        if ns is None:
            return wait_forever(k, sysno)
        k.host.sleep(ns / NS)
        return None
    now = _now(k)
    deadline = None if ns is None else now + ns
    while True:
        t = k.next_timer()
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


# -- POSIX timers: timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete ----
CLOCK_REALTIME, CLOCK_BOOTTIME = 0, 7
TIMER_ABSTIME = 1
ITIMERSPEC = struct.Struct("<qqqq")     # it_interval, it_value (timespecs)
SIGEVENT = struct.Struct("<Qii i")      # sigev_value, sigev_signo, sigev_notify, sigev_notify_thread_id
TIMER_MAX = 1024                        # timers a process may have (more: EAGAIN)


def sys_timer_create(k: LinuxKernel, a: Args) -> int:
    """A timer on CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME (kept on CLOCK_MONOTONIC:
    a later change of the wall clock does not move it); CPU-time clocks are refused
    with ENOSYS and the one-line warning.  Ids are 0, 1, 2... as Linux gives them."""
    clock, sev_ptr, id_ptr = s32(a[0]), a[1], a[2]
    if clock not in (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME):
        if clock in (2, 3) or clock < 0 or clock in (8, 9, 11):
            k.warn_once("timer_create-clock", f"timer_create on clock {clock} (CPU time, alarm or TAI clocks) "
                        "is not supported; returning -ENOSYS")
            return -errno.ENOSYS
        return -errno.EINVAL
    if not k.can_write(id_ptr, 4):
        return -errno.EFAULT
    timer_id = next(i for i in range(TIMER_MAX + 1) if i not in k.state.timers)
    if timer_id == TIMER_MAX:
        return -errno.EAGAIN
    if sev_ptr:
        if not k.can_read(sev_ptr, SIGEVENT.size):
            return -errno.EFAULT
        value, signo, notify, tid = SIGEVENT.unpack(k.read(sev_ptr, SIGEVENT.size))
        if notify not in (SIGEV_SIGNAL, SIGEV_NONE, SIGEV_SIGNAL | SIGEV_THREAD_ID):
            return -errno.EINVAL
        if notify != SIGEV_NONE and not 1 <= signo <= 64:
            return -errno.EINVAL
        if notify & SIGEV_THREAD_ID:
            t = k.state.threads.get(tid)
            if t is None or t.exited:
                return -errno.EINVAL
        if notify == SIGEV_NONE:
            signo = 0
    else:
        value, signo, notify, tid = timer_id, SIGALRM, SIGEV_SIGNAL, 0
    k.state.timers[timer_id] = PosixTimer(clock, signo, notify, tid, value)
    k.write(id_ptr, struct.pack("<i", timer_id))
    return 0


def _timer(k: LinuxKernel, timer_id: int) -> PosixTimer | None:
    return k.state.timers.get(s32(timer_id))


def _itimerspec(value: int, interval: int) -> bytes:
    return ITIMERSPEC.pack(interval // NS, interval % NS, value // NS, value % NS)


def _timer_left(p: PosixTimer, now: int) -> tuple[int, int]:
    if p.armed is None:
        return 0, 0
    expiry, interval = p.armed.expiry, p.armed.interval
    if not p.signo and expiry <= now:        # SIGEV_NONE: it expires silently
        if not interval:
            return 0, 0
        expiry += ((now - expiry) // interval + 1) * interval
    return max(1, expiry - now), interval


def sys_timer_settime(k: LinuxKernel, a: Args) -> int:
    p, flags, new_ptr, old_ptr = _timer(k, a[0]), s32(a[1]), a[2], a[3]
    if p is None:
        return -errno.EINVAL
    if not k.can_read(new_ptr, ITIMERSPEC.size) or (old_ptr and not k.can_write(old_ptr, ITIMERSPEC.size)):
        return -errno.EFAULT
    isec, insec, vsec, vnsec = ITIMERSPEC.unpack(k.read(new_ptr, ITIMERSPEC.size))
    if not (0 <= insec < NS and 0 <= vnsec < NS) or min(isec, vsec) < 0:
        return -errno.EINVAL
    now = _now(k)
    if old_ptr:
        k.write(old_ptr, _itimerspec(*_timer_left(p, now)))
    value, interval = vsec * NS + vnsec, isec * NS + insec
    if not value:
        p.armed = None
        return 0
    if flags & TIMER_ABSTIME:
        base = k.clock(ClockSource.CLOCK_GETTIME, CLOCK_REALTIME) if p.clock == CLOCK_REALTIME else now
        value = max(0, value - base)
    p.armed = IntervalTimer(now + value, interval)
    k.end_slice()           # the next slice is a short one, so the expiry is noticed in time
    return 0


def sys_timer_gettime(k: LinuxKernel, a: Args) -> int:
    p, cur_ptr = _timer(k, a[0]), a[1]
    if p is None:
        return -errno.EINVAL
    if not k.can_write(cur_ptr, ITIMERSPEC.size):
        return -errno.EFAULT
    k.write(cur_ptr, _itimerspec(*_timer_left(p, _now(k) if p.armed is not None else 0)))
    return 0


def sys_timer_getoverrun(k: LinuxKernel, a: Args) -> int:
    """Always 0: every expiry is delivered (one signal each, at logged counts), none is merged."""
    return 0 if _timer(k, a[0]) is not None else -errno.EINVAL


def sys_timer_delete(k: LinuxKernel, a: Args) -> int:
    return 0 if k.state.timers.pop(s32(a[0]), None) is not None else -errno.EINVAL
