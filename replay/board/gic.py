"""A GICv2 (ARM Generic Interrupt Controller), one CPU: distributor and CPU interface.

Enough for firmware to enable interrupts, give them priorities, acknowledge
(GICC_IAR) and end them (GICC_EOIR): SGIs are not generated, targets and
configuration registers are stored and read back only.  Lines from devices
are level-sensitive: an interrupt is pending while its line is high (or a
write to GICD_ISPENDR latched it).  Modelled on the architecture
specification's register map (QEMU: hw/intc/arm_gic.c).
"""

from __future__ import annotations

SPURIOUS = 1023
_NO_PRIORITY = 0x100          # idle running priority: lower than any


class Gic:
    def __init__(self, lines: int) -> None:
        self.lines = lines
        self.dist_enabled = False
        self.cpu_enabled = False
        self.pmr = 0
        self.bpr = 0
        self.enabled = [False] * lines
        self.level = [False] * lines          # device line inputs
        self.latched = [False] * lines        # pending set by software (ISPENDR)
        self.active = [False] * lines
        self.priority = [0] * lines
        self.targets = [1] * lines
        self.config = [0] * (lines // 16)
        self.running: list[int] = []          # acknowledged, not yet ended (a stack of INTIDs)

    # -- lines and delivery -------------------------------------------------------
    def set_line(self, intid: int, high: bool) -> None:
        self.level[intid] = high

    def pending(self, intid: int) -> bool:
        return self.level[intid] or self.latched[intid]

    def any_pending(self) -> bool:
        """Some enabled interrupt is pending (taken and not yet cleared, or waiting)."""
        if True not in self.level and True not in self.latched:
            return False
        return any((lv or lt) and en for lv, lt, en in zip(self.level, self.latched, self.enabled))

    def running_priority(self) -> int:
        return self.priority[self.running[-1]] if self.running else _NO_PRIORITY

    def highest_pending(self) -> int:
        """The INTID the CPU would acknowledge now, or SPURIOUS."""
        if not self.dist_enabled:
            return SPURIOUS
        best, best_prio = SPURIOUS, min(self.pmr, self.running_priority())
        level, latched, enabled, active, priority = self.level, self.latched, self.enabled, self.active, self.priority
        for i in self._candidates():
            if (level[i] or latched[i]) and enabled[i] and not active[i] and priority[i] < best_prio:
                best, best_prio = i, priority[i]
        return best

    def _candidates(self) -> list[int]:
        if True not in self.level and True not in self.latched:
            return []
        return [i for i, (lv, lt) in enumerate(zip(self.level, self.latched)) if lv or lt]

    def irq_asserted(self) -> bool:
        """The CPU's IRQ input: an interrupt is ready to be acknowledged."""
        return self.cpu_enabled and self.highest_pending() != SPURIOUS

    # -- the distributor -------------------------------------------------------------
    def _bits(self, flags: list[bool], offset: int) -> int:
        base = offset * 8
        return sum(1 << b for b in range(32) if base + b < self.lines and flags[base + b])

    def _set_bits(self, flags: list[bool], offset: int, value: int, to: bool) -> None:
        base = offset * 8
        for b in range(32):
            if value >> b & 1 and base + b < self.lines:
                flags[base + b] = to

    def dist_read(self, off: int, size: int) -> int:
        if off == 0x000:
            return int(self.dist_enabled)
        if off == 0x004:                                    # GICD_TYPER: ITLinesNumber, one CPU
            return self.lines // 32 - 1
        if off == 0x008:                                    # GICD_IIDR: ARM
            return 0x0200143B
        if 0x100 <= off < 0x180 or 0x180 <= off < 0x200:
            return self._bits(self.enabled, off & 0x7F)
        if 0x200 <= off < 0x300:
            return self._bits([self.pending(i) for i in range(self.lines)], off & 0x7F)
        if 0x300 <= off < 0x400:
            return self._bits(self.active, off & 0x7F)
        if 0x400 <= off < 0x400 + self.lines:
            return self._bytes(self.priority, off - 0x400, size)
        if 0x800 <= off < 0x800 + self.lines:
            return self._bytes(self.targets, off - 0x800, size)
        if 0xC00 <= off < 0xC00 + self.lines // 4:
            return self.config[(off - 0xC00) // 4]
        if 0xFE0 <= off < 0x1000:                           # peripheral ID: GICv2
            return {0xFE8: 0x2B}.get(off, 0)
        return 0

    def dist_write(self, off: int, size: int, value: int) -> None:
        if off == 0x000:
            self.dist_enabled = bool(value & 1)
        elif 0x100 <= off < 0x180:
            self._set_bits(self.enabled, off - 0x100, value, True)
        elif 0x180 <= off < 0x200:
            self._set_bits(self.enabled, off - 0x180, value, False)
        elif 0x200 <= off < 0x280:
            self._set_bits(self.latched, off - 0x200, value, True)
        elif 0x280 <= off < 0x300:
            self._set_bits(self.latched, off - 0x280, value, False)
        elif 0x300 <= off < 0x380:
            self._set_bits(self.active, off - 0x300, value, True)
        elif 0x380 <= off < 0x400:
            self._set_bits(self.active, off - 0x380, value, False)
        elif 0x400 <= off < 0x400 + self.lines:
            self._set_bytes(self.priority, off - 0x400, size, value)
        elif 0x800 <= off < 0x800 + self.lines:
            self._set_bytes(self.targets, off - 0x800, size, value)
        elif 0xC00 <= off < 0xC00 + self.lines // 4:
            self.config[(off - 0xC00) // 4] = value & 0xFFFFFFFF

    def _bytes(self, table: list[int], index: int, size: int) -> int:
        return sum(table[index + k] << (8 * k) for k in range(size) if index + k < self.lines)

    def _set_bytes(self, table: list[int], index: int, size: int, value: int) -> None:
        for k in range(size):
            if index + k < self.lines:
                table[index + k] = value >> (8 * k) & 0xFF

    # -- the CPU interface ----------------------------------------------------------------
    def cpu_read(self, off: int, size: int) -> int:
        if off == 0x00:
            return int(self.cpu_enabled)
        if off == 0x04:
            return self.pmr
        if off == 0x08:
            return self.bpr
        if off == 0x0C:                                     # GICC_IAR: acknowledge
            intid = self.highest_pending() if self.cpu_enabled else SPURIOUS
            if intid != SPURIOUS:
                self.active[intid] = True
                self.latched[intid] = False
                self.running.append(intid)
            return intid
        if off == 0x14:
            return self.running_priority() & 0xFF if self.running else 0xFF
        if off == 0x18:
            return self.highest_pending()
        if off == 0xFC:                                     # GICC_IIDR
            return 0x0202143B
        return 0

    def cpu_write(self, off: int, size: int, value: int) -> None:
        if off == 0x00:
            self.cpu_enabled = bool(value & 1)
        elif off == 0x04:
            self.pmr = value & 0xFF
        elif off == 0x08:
            self.bpr = value & 7
        elif off == 0x10:                                   # GICC_EOIR: end of interrupt
            intid = value & 0x3FF
            if intid < self.lines and self.active[intid]:
                self.active[intid] = False
                if intid in self.running:
                    self.running.remove(intid)

    # -- state ---------------------------------------------------------------------------
    def describe(self) -> list[str]:
        def ids(flags: list[bool]) -> str:
            return " ".join(str(i) for i in range(self.lines) if flags[i]) or "-"
        return [f"gic: distributor {'on' if self.dist_enabled else 'off'}, cpu interface "
                f"{'on' if self.cpu_enabled else 'off'}, pmr={self.pmr:#x}",
                f"gic enabled: {ids(self.enabled)}",
                f"gic pending: {ids([self.pending(i) for i in range(self.lines)])}",
                f"gic active:  {ids(self.active)}"]

    _FIELDS = ("dist_enabled", "cpu_enabled", "pmr", "bpr", "enabled", "level", "latched", "active",
               "priority", "targets", "config", "running")

    def save(self) -> tuple:
        return tuple(list(v) if isinstance(v := getattr(self, f), list) else v for f in self._FIELDS)

    def restore(self, state: tuple) -> None:
        for f, v in zip(self._FIELDS, state):
            setattr(self, f, list(v) if isinstance(v, list) else v)
