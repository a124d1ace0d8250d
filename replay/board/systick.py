"""The Cortex-M SysTick timer (ARMv7-M B3.3): CSR, RVR, CVR, CALIB, on the virtual clock.

The processor clock is the instruction count: one instruction is one cycle
(the mps2 boards' 25 MHz SYSCLK, 40 ns), plus the cycles the CPU spent idle
in `wfi` (the clock jumps to the next deadline, as QEMU's icount warp).
CLKSOURCE=1 counts processor cycles, 0 the reference clock (1 MHz on the
mps2 boards: one tick every 25 cycles).  The counter reloads from RVR on the
tick after it reaches 0; reaching 0 sets COUNTFLAG and, with TICKINT, makes
SysTick (exception 15) pending, at an exact instruction count the board
runs to (`next_deadline`), so the interrupt needs no log entry.

Register accesses are timed at `now()`, the instruction count of the
accessing instruction as the board reports it.
"""

from __future__ import annotations

from collections.abc import Callable

EXCEPTION = 15
CSR_ENABLE, CSR_TICKINT, CSR_CLKSOURCE, CSR_COUNTFLAG = 1, 2, 4, 1 << 16
CSR, RVR, CVR, CALIB = 0x0, 0x4, 0x8, 0xC
_M24 = (1 << 24) - 1


class SysTick:
    def __init__(self, cpu_hz: int, ref_hz: int, pend: Callable[[int], None], now: Callable[[], int],
                 written: Callable[[int], None] = lambda icount: None) -> None:
        self.cpu_hz = cpu_hz
        self.ref_divider = cpu_hz // ref_hz
        self._pend = pend
        self._now = now
        self._written = written        # told the count of each register write (a new deadline)
        self.csr = 0
        self.rvr = 0
        self.idle = 0           # cycles spent idle (wfi)
        self.c0 = 0             # the cycle at which the counter showed v0 ...
        self.v0 = 0
        self.seen = 0           # ... and how many of its ticks since have been accounted

    # -- the clock ---------------------------------------------------------------
    def cycles(self, icount: int) -> int:
        return icount + self.idle

    def _divider(self) -> int:
        return 1 if self.csr & CSR_CLKSOURCE else self.ref_divider

    def _ticks(self, icount: int) -> int:
        return max(0, self.cycles(icount) - self.c0) // self._divider()

    def _first_zero(self) -> int:
        """Ticks after c0 at which the counter first reaches 0 (from 0 it reloads first)."""
        return self.v0 if self.v0 > 0 else self.rvr + 1

    def _zeros(self, ticks: int) -> int:
        """How often the counter reached 0 in ticks (0, ticks]."""
        if not self.csr & CSR_ENABLE or (self.v0 == 0 and self.rvr == 0):
            return 0
        first = self._first_zero()
        if ticks < first:
            return 0
        return 1 if self.rvr == 0 else 1 + (ticks - first) // (self.rvr + 1)

    def value(self, icount: int) -> int:
        if not self.csr & CSR_ENABLE:
            return self.v0
        ticks = self._ticks(icount)
        if ticks == 0:
            return self.v0
        first = self._first_zero()
        if ticks < first:
            return first - ticks
        return 0 if self.rvr == 0 else (first - ticks) % (self.rvr + 1)

    def update(self, icount: int) -> None:
        """Account the ticks up to `icount`: a zero reached sets COUNTFLAG and pends SysTick."""
        ticks = self._ticks(icount)
        if ticks > self.seen:
            if self._zeros(ticks) > self._zeros(self.seen):
                self.csr |= CSR_COUNTFLAG
                if self.csr & CSR_TICKINT:
                    self._pend(EXCEPTION)
            self.seen = ticks

    def next_deadline(self, icount: int) -> int | None:
        """The first instruction count after `icount` at which the counter reaches 0 with TICKINT set."""
        if not self.csr & CSR_ENABLE or not self.csr & CSR_TICKINT or (self.v0 == 0 and self.rvr == 0):
            return None
        div = self._divider()
        after = max(0, self.cycles(icount) - self.c0) // div + 1       # the next tick
        first = self._first_zero()
        if after <= first:
            k = first
        elif self.rvr == 0:
            return None
        else:
            period = self.rvr + 1
            k = first + -(-(after - first) // period) * period
        return self.c0 + k * div - self.idle

    def seconds_between(self, icount: int, later: int) -> float:
        return (later - icount) / self.cpu_hz

    def sleep_until(self, icount: int, wake: int) -> None:
        """The CPU idles at `icount` until the clock shows instruction count `wake`."""
        self.idle += max(0, wake - icount)
        self.update(icount)

    def _rebase(self, icount: int) -> None:
        self.update(icount)
        self.v0 = self.value(icount)
        self.c0 = self.cycles(icount)
        self.seen = 0

    # -- registers (SCS offsets 0x10..0x1c) --------------------------------------------
    def read(self, off: int) -> int:
        icount = self._now()
        self.update(icount)
        if off == CSR:
            value = self.csr
            self.csr &= ~CSR_COUNTFLAG
            return value
        if off == RVR:
            return self.rvr
        if off == CVR:
            return self.value(icount)
        if off == CALIB:
            return 10000            # as QEMU's model answers
        return 0

    def write(self, off: int, value: int) -> None:
        icount = self._now()
        self._rebase(icount)
        if off == CSR:
            self.csr = (self.csr & CSR_COUNTFLAG) | (value & (CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE))
        elif off == RVR:
            self.rvr = value & _M24
        elif off == CVR:
            self.v0 = 0
            self.csr &= ~CSR_COUNTFLAG
        self._written(icount)

    def describe(self, icount: int) -> list[str]:
        state = "off" if not self.csr & CSR_ENABLE else f"counting, value {self.value(icount)}"
        return [f"systick: csr={self.csr:#x} rvr={self.rvr} {state}"]

    def save(self) -> tuple:
        return (self.csr, self.rvr, self.idle, self.c0, self.v0, self.seen)

    def restore(self, state: tuple) -> None:
        self.csr, self.rvr, self.idle, self.c0, self.v0, self.seen = state
