"""The process's real-time interval timer (ITIMER_REAL: alarm, setitimer).

Its expiry is a time on CLOCK_MONOTONIC computed from logged clock reads, so
it is the same on replay.  When it expires while the program runs, the
recorder notices between time slices and logs an ASYNC_SIGNAL event at that
instruction count, where the replay delivers SIGALRM again
(LinuxKernel.check_timers); a sleeping call (nanosleep, pause) sleeps until
the expiry and is interrupted there, decided from its clock reads alone.
"""

from __future__ import annotations

from dataclasses import dataclass

CLOCK_MONOTONIC = 1
NS = 1_000_000_000


@dataclass(frozen=True)
class IntervalTimer:
    expiry: int       # ns on CLOCK_MONOTONIC
    interval: int     # ns; 0: one shot

    def next(self) -> IntervalTimer | None:
        """The timer after it expired: re-armed one interval later, or disarmed."""
        return IntervalTimer(self.expiry + self.interval, self.interval) if self.interval else None
