"""The Cortex-M System Control Space: the NVIC, the SCB registers, and SysTick's place in it.

One model of the exceptions' state, as the engine takes and returns from
them (m_exceptions.py): pending (an external line's level latches it, as
QEMU's NVIC does), enabled (external interrupts; system exceptions always
are), active (a stack: the one on top is IPSR), and priorities (8 bits, as
QEMU implements them; PRIGROUP splits them into group and subpriority, only
the group preempts).  An exception is ready when it is pending, enabled and
its group priority is higher (lower number) than the execution priority (the
active ones' and BASEPRI); PRIMASK is the board's mask (mps2.py).

Registers (offsets in the SCS at 0xE000E000): ISER/ICER/ISPR/ICPR/IABR
(0x100...0x300), IPR (0x400), CPUID, ICSR, VTOR, AIRCR, SCR, CCR, SHPR1-3,
SHCSR (0xD00...0xD24), STIR (0xF00); SysTick (0x10...0x1C) is systick.py.
AIRCR.SYSRESETREQ ends the run ("system reset").  Fault status registers
read as 0.
"""

from __future__ import annotations

from collections.abc import Callable

from .systick import SysTick

NMI, HARDFAULT, SVCALL, PENDSV, SYSTICK = 2, 3, 11, 14, 15
FIRST_EXTERNAL = 16
CPUID_CORTEX_M3 = 0x412FC231            # r2p1, as QEMU's cortex-m3
ICSR_NMIPENDSET, ICSR_PENDSVSET, ICSR_PENDSVCLR = 1 << 31, 1 << 28, 1 << 27
ICSR_PENDSTSET, ICSR_PENDSTCLR, ICSR_ISRPENDING, ICSR_RETTOBASE = 1 << 26, 1 << 25, 1 << 22, 1 << 11
AIRCR_VECTKEY, AIRCR_SYSRESETREQ = 0x05FA, 1 << 2
CCR_STKALIGN = 1 << 9
_FIXED = {1: -3, NMI: -2, HARDFAULT: -1}        # Reset, NMI, HardFault: fixed priorities


class Nvic:
    def __init__(self, lines: int, basepri: Callable[[], int], on_reset: Callable[[], None]) -> None:
        self.lines = lines
        self._basepri = basepri
        self._on_reset = on_reset
        self.systick: SysTick | None = None
        self.enabled = [False] * lines
        self.level = [False] * lines
        self.pending: set[int] = set()
        self.active: list[int] = []
        self.priority = [0] * (FIRST_EXTERNAL + lines)
        self.vtor = 0
        self.prigroup = 0
        self.scr = 0
        self.ccr = CCR_STKALIGN
        self.shcsr = 0

    # -- exception state -----------------------------------------------------------
    def set_line(self, line: int, high: bool) -> None:
        """An external interrupt line (level-sensitive, as QEMU's NVIC: rising makes it pending,
        and a return from its handler while it is still high)."""
        if high and not self.level[line]:
            self.pending.add(FIRST_EXTERNAL + line)
        self.level[line] = high

    def pend(self, number: int) -> None:
        self.pending.add(number)

    def _enabled(self, number: int) -> bool:
        return number < FIRST_EXTERNAL or self.enabled[number - FIRST_EXTERNAL]

    def prio(self, number: int) -> int:
        return _FIXED.get(number, self.priority[number] if number < len(self.priority) else 0)

    def _group(self, prio: int) -> int:
        return prio if prio < 0 else prio & ~((2 << self.prigroup) - 1)

    def execution_priority(self) -> int:
        out = 256
        for number in self.active:
            out = min(out, self._group(self.prio(number)))
        basepri = self._basepri() & 0xFF
        if basepri:
            out = min(out, self._group(basepri))
        return out

    def best_pending(self) -> int | None:
        """The pending, enabled exception to take next (lowest priority value, then number)."""
        ready = [n for n in self.pending if self._enabled(n)]
        return min(ready, key=lambda n: (self.prio(n), n)) if ready else None

    def any_pending(self) -> bool:
        return any(self._enabled(n) for n in self.pending)

    def irq_asserted(self) -> bool:
        """An exception would preempt what runs now (PRIMASK aside)."""
        best = self.best_pending()
        return best is not None and self._group(self.prio(best)) < self.execution_priority()

    def current(self) -> int:
        return self.active[-1] if self.active else 0

    def activate(self, number: int) -> None:
        self.pending.discard(number)
        self.active.append(number)

    def deactivate(self, number: int) -> None:
        if number in self.active:
            self.active.remove(number)
        line = number - FIRST_EXTERNAL
        if 0 <= line < self.lines and self.level[line]:
            self.pending.add(number)          # still asserted: pending again

    # -- registers -----------------------------------------------------------------
    def _bits(self, flags: list[bool] | set[int], word: int) -> int:
        out = 0
        for i in range(32):
            line = word * 32 + i
            if line < self.lines and (flags[line] if isinstance(flags, list) else FIRST_EXTERNAL + line in flags):
                out |= 1 << i
        return out

    def read(self, off: int, size: int) -> int:
        if 0x10 <= off < 0x20 and self.systick is not None:
            return self.systick.read(off - 0x10)
        if off == 0x004:
            return (self.lines + 31) // 32 - 1                # ICTR
        if 0x100 <= off < 0x380:
            bank, word = divmod(off - 0x100, 0x80)
            word //= 4
            if bank in (0, 1):
                return self._bits(self.enabled, word)
            if bank in (2, 3):
                return self._bits(self.pending, word)
            if bank == 4:
                return self._bits(set(self.active), word)
            return 0
        if 0x400 <= off < 0x400 + self.lines:
            return self._bytes(FIRST_EXTERNAL + off - 0x400, size)
        if 0xD18 <= off < 0xD24:
            return self._bytes(4 + off - 0xD18, size)
        return {0xD00: CPUID_CORTEX_M3, 0xD04: self._icsr(), 0xD08: self.vtor,
                0xD0C: 0xFA05_0000 | self.prigroup << 8, 0xD10: self.scr, 0xD14: self.ccr,
                0xD24: self.shcsr}.get(off, 0)

    def _bytes(self, first: int, size: int) -> int:
        return sum(self.priority[first + i] << (8 * i) for i in range(size) if first + i < len(self.priority))

    def _icsr(self) -> int:
        out = self.current() & 0x1FF
        best = self.best_pending()
        out |= (best or 0) << 12
        if any(n >= FIRST_EXTERNAL for n in self.pending):
            out |= ICSR_ISRPENDING
        if len(self.active) <= 1:
            out |= ICSR_RETTOBASE
        out |= ICSR_PENDSVSET if PENDSV in self.pending else 0
        out |= ICSR_PENDSTSET if SYSTICK in self.pending else 0
        out |= ICSR_NMIPENDSET if NMI in self.pending else 0
        return out

    def write(self, off: int, size: int, value: int) -> None:
        if 0x10 <= off < 0x20 and self.systick is not None:
            self.systick.write(off - 0x10, value)
        elif 0x100 <= off < 0x300:
            bank, word = divmod(off - 0x100, 0x80)
            for i in range(32):
                line = word // 4 * 32 + i
                if not value >> i & 1 or line >= self.lines:
                    continue
                if bank in (0, 1):
                    self.enabled[line] = bank == 0
                elif bank == 2:
                    self.pending.add(FIRST_EXTERNAL + line)
                else:
                    self.pending.discard(FIRST_EXTERNAL + line)
        elif 0x400 <= off < 0x400 + self.lines:
            self._set_bytes(FIRST_EXTERNAL + off - 0x400, size, value)
        elif 0xD18 <= off < 0xD24:
            self._set_bytes(4 + off - 0xD18, size, value)
        elif off == 0xD04:
            for bit, number, pend in ((ICSR_NMIPENDSET, NMI, True), (ICSR_PENDSVSET, PENDSV, True),
                                      (ICSR_PENDSVCLR, PENDSV, False), (ICSR_PENDSTSET, SYSTICK, True),
                                      (ICSR_PENDSTCLR, SYSTICK, False)):
                if value & bit:
                    (self.pending.add if pend else self.pending.discard)(number)
        elif off == 0xD08:
            self.vtor = value & 0xFFFF_FF80
        elif off == 0xD0C and value >> 16 == AIRCR_VECTKEY:
            self.prigroup = value >> 8 & 7
            if value & AIRCR_SYSRESETREQ:
                self._on_reset()
        elif off == 0xD10:
            self.scr = value & 0x16
        elif off == 0xD14:
            self.ccr = value & 0x31B | CCR_STKALIGN
        elif off == 0xD24:
            self.shcsr = value & 0x7_0000
        elif off == 0xF00:
            line = value & 0x1FF
            if line < self.lines:
                self.pending.add(FIRST_EXTERNAL + line)

    def _set_bytes(self, first: int, size: int, value: int) -> None:
        for i in range(size):
            if first + i < len(self.priority):
                self.priority[first + i] = value >> (8 * i) & 0xFF

    def describe(self) -> list[str]:
        ext = [n - FIRST_EXTERNAL for n in sorted(self.pending) if n >= FIRST_EXTERNAL]
        return [f"nvic: active {self.active or 'none'}, pending {sorted(self.pending) or 'none'} "
                f"(irqs {ext}), enabled irqs {[i for i, e in enumerate(self.enabled) if e]}, vtor={self.vtor:#x}"]

    def save(self) -> tuple:
        return (tuple(self.enabled), tuple(self.level), frozenset(self.pending), tuple(self.active),
                tuple(self.priority), self.vtor, self.prigroup, self.scr, self.ccr, self.shcsr)

    def restore(self, state: tuple) -> None:
        enabled, level, pending, active, priority, self.vtor, self.prigroup, self.scr, self.ccr, self.shcsr = state
        self.enabled, self.level, self.pending = list(enabled), list(level), set(pending)
        self.active, self.priority = list(active), list(priority)
