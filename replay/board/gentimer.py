"""The ARM generic timer of one CPU: CNTV_* and CNTP_*, CNTVCT/CNTPCT, CNTFRQ.

Time is virtual: the counter is derived from the exact instruction count
(QEMU's -icount shift=N: one instruction takes 2**N ns), so a timer fires at
the same instruction count in every run and its interrupts need no log
entries.  A timer's output line (to its PPI) is high while it is enabled,
not masked and the counter has reached its compare value; the board runs
exactly to `next_deadline()` so the line rises there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CTL_ENABLE, CTL_IMASK, CTL_ISTATUS = 1, 2, 4
_M64 = (1 << 64) - 1

# (op0, op1, crn, crm, op2) of the registers this model implements
CNTFRQ_EL0 = (3, 3, 14, 0, 0)
CNTPCT_EL0 = (3, 3, 14, 0, 1)
CNTVCT_EL0 = (3, 3, 14, 0, 2)
CNTP_TVAL_EL0 = (3, 3, 14, 2, 0)
CNTP_CTL_EL0 = (3, 3, 14, 2, 1)
CNTP_CVAL_EL0 = (3, 3, 14, 2, 2)
CNTV_TVAL_EL0 = (3, 3, 14, 3, 0)
CNTV_CTL_EL0 = (3, 3, 14, 3, 1)
CNTV_CVAL_EL0 = (3, 3, 14, 3, 2)

_TIMER_REGS = {
    CNTP_TVAL_EL0: ("phys", "tval"), CNTP_CTL_EL0: ("phys", "ctl"), CNTP_CVAL_EL0: ("phys", "cval"),
    CNTV_TVAL_EL0: ("virt", "tval"), CNTV_CTL_EL0: ("virt", "ctl"), CNTV_CVAL_EL0: ("virt", "cval"),
}


@dataclass
class TimerState:
    ctl: int = 0
    cval: int = 0


class GenericTimer:
    """Answers the mrs/msr of the timer registers (Machine.attach_system_registers)."""

    def __init__(self, frequency: int, icount_shift: int, intids: dict[str, int],
                 set_line: Callable[[int, bool], None]) -> None:
        self.frequency = frequency
        self.shift = icount_shift
        self.intids = intids
        self._set_line = set_line
        self.timers = {name: TimerState() for name in intids}
        # Instructions' worth of time the CPU spent idle (wfi): the clock ran on
        # while no instruction did (QEMU's icount warp).
        self.idle = 0

    # -- the clock -------------------------------------------------------------
    def counter(self, icount: int) -> int:
        return (((icount + self.idle) << self.shift) * self.frequency // 1_000_000_000) & _M64

    def icount_of(self, count: int) -> int:
        """The first instruction count at which the counter reaches `count`."""
        per = self.frequency << self.shift
        return -(-count * 1_000_000_000 // per) - self.idle

    # -- state -----------------------------------------------------------------
    def _fired(self, t: TimerState, icount: int) -> bool:
        return bool(t.ctl & CTL_ENABLE) and self.counter(icount) >= t.cval

    def update(self, icount: int) -> None:
        """Set each timer's interrupt line as it is at `icount`."""
        for name, t in self.timers.items():
            self._set_line(self.intids[name], self._fired(t, icount) and not t.ctl & CTL_IMASK)

    def next_deadline(self, icount: int) -> int | None:
        """The next instruction count after `icount` at which a line rises."""
        out = None
        for t in self.timers.values():
            if t.ctl & CTL_ENABLE and not t.ctl & CTL_IMASK and self.counter(icount) < t.cval:
                at = self.icount_of(t.cval)
                out = at if out is None else min(out, at)
        return out

    # -- system registers -------------------------------------------------------
    def read_sysreg(self, key: tuple[int, int, int, int, int], icount: int) -> int | None:
        if key == CNTFRQ_EL0:
            return self.frequency
        if key in (CNTVCT_EL0, CNTPCT_EL0):
            return self.counter(icount)
        which = _TIMER_REGS.get(key)
        if which is None:
            return None
        t = self.timers[which[0]]
        if which[1] == "ctl":
            return (t.ctl & 3) | (CTL_ISTATUS if self._fired(t, icount) else 0)
        if which[1] == "cval":
            return t.cval
        return (t.cval - self.counter(icount)) & 0xFFFFFFFF

    def write_sysreg(self, key: tuple[int, int, int, int, int], value: int, icount: int) -> bool:
        which = _TIMER_REGS.get(key)
        if which is None:
            return key in (CNTFRQ_EL0, CNTVCT_EL0, CNTPCT_EL0)   # read-only at EL1: ignored
        t = self.timers[which[0]]
        if which[1] == "ctl":
            t.ctl = value & 3
        elif which[1] == "cval":
            t.cval = value & _M64
        else:
            tval = value & 0xFFFFFFFF
            tval -= (tval & 0x80000000) << 1          # signed 32 bits
            t.cval = (self.counter(icount) + tval) & _M64
        self.update(icount + 1)
        return True

    def describe(self, icount: int) -> list[str]:
        now = self.counter(icount)
        return [f"timer {name}: ctl={t.ctl:#x} cval={t.cval} counter={now} "
                f"{'FIRED' if self._fired(t, icount) else 'waiting' if t.ctl & CTL_ENABLE else 'off'}"
                for name, t in self.timers.items()]

    def seconds_between(self, icount: int, later: int) -> float:
        """Guest time from `icount` to `later`, in seconds."""
        return ((later - icount) << self.shift) / 1e9

    def warp_to(self, icount: int, value: int) -> None:
        """The clock jumps forward so that the counter shows at least `value` at `icount`
        (--clock host: the host's time; never back)."""
        per = self.frequency << self.shift
        self.idle = max(self.idle, -(-value * 1_000_000_000 // per) - icount)

    def sleep_until(self, icount: int, wake: int) -> None:
        """The CPU idles at `icount` until the clock shows instruction count `wake`."""
        self.idle += max(0, wake - icount)
        self.update(icount)

    def save(self) -> tuple:
        return (self.idle, tuple((t.ctl, t.cval) for t in self.timers.values()))

    def restore(self, state: tuple) -> None:
        self.idle = state[0]
        for t, (ctl, cval) in zip(self.timers.values(), state[1]):
            t.ctl, t.cval = ctl, cval
