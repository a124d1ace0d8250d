"""The process's timers: the real-time interval timer (ITIMER_REAL: alarm,
setitimer) and POSIX timers (timer_create: sys_timers.py).

Its expiry is a time on CLOCK_MONOTONIC computed from logged clock reads, so
it is the same on replay.  When it expires while the program runs, the
recorder notices between time slices and logs an ASYNC_SIGNAL event at that
instruction count, where the replay delivers SIGALRM again
(LinuxKernel.check_timers); a sleeping call (nanosleep, pause) sleeps until
the expiry and is interrupted there, decided from its clock reads alone.
A POSIX timer is the same thing with its own signal (and, with
SIGEV_THREAD_ID, its own thread); the first of all armed timers to expire
is the one that fires (LinuxKernel.next_timer).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

CLOCK_MONOTONIC = 1
NS = 1_000_000_000


@dataclass(frozen=True)
class IntervalTimer:
    expiry: int       # ns on CLOCK_MONOTONIC
    interval: int     # ns; 0: one shot

    def next(self) -> IntervalTimer | None:
        """The timer after it expired: re-armed one interval later, or disarmed."""
        return replace(self, expiry=self.expiry + self.interval) if self.interval else None


SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID = 0, 1, 4
ITIMER_REAL_ID = -1        # the interval timer among the process's timers (POSIX timer ids are >= 0)


@dataclass
class PosixTimer:
    """One timer_create timer: how it notifies, and its expiry when armed."""

    clock: int                # CLOCK_REALTIME or CLOCK_MONOTONIC (its expiry is kept on CLOCK_MONOTONIC)
    signo: int
    notify: int               # SIGEV_SIGNAL, SIGEV_NONE, or SIGEV_SIGNAL | SIGEV_THREAD_ID
    tid: int                  # SIGEV_THREAD_ID's thread
    value: int                # sigev_value, the handler's si_value
    armed: IntervalTimer | None = None
