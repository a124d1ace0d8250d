"""The PL011 UART (ARM PrimeCell UART): data, flags, interrupt mask/status/clear.

Received bytes enter its FIFO from the board (recorded as CHAR_READ events at
the instruction count they became visible); transmitted bytes go to an
output callback and are only counted.  Line settings (baud rate, LCR_H, CR)
are stored and read back but change nothing: they are not replayed.
Register map: the PL011 Technical Reference Manual (QEMU: hw/char/pl011.c).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

FIFO_DEPTH = 16
INT_RX, INT_TX, INT_RT = 1 << 4, 1 << 5, 1 << 6
FR_RXFE, FR_TXFF, FR_RXFF, FR_TXFE = 1 << 4, 1 << 5, 1 << 6, 1 << 7
_ID = {0xFE0: 0x11, 0xFE4: 0x10, 0xFE8: 0x14, 0xFEC: 0x00, 0xFF0: 0x0D, 0xFF4: 0xF0, 0xFF8: 0x05, 0xFFC: 0xB1}
_STORED = {0x24: "ibrd", 0x28: "fbrd", 0x2C: "lcr_h", 0x30: "cr", 0x34: "ifls", 0x48: "dmacr"}


class Pl011:
    def __init__(self, intid: int, set_line: Callable[[int, bool], None],
                 output: Callable[[bytes], None]) -> None:
        self.intid = intid
        self._set_line = set_line
        self._output = output
        self.rx: deque[int] = deque()
        self.imsc = 0
        self.ris = 0
        self.regs = {name: 0 for name in _STORED.values()}
        self.regs["cr"] = 0x300
        self.tx_count = 0          # bytes written since the board last took the count

    def room(self) -> int:
        return FIFO_DEPTH - len(self.rx)

    def receive(self, data: bytes) -> None:
        self.rx.extend(data)
        self._update()

    def _update(self) -> None:
        if self.rx:
            self.ris |= INT_RX
        else:
            self.ris &= ~(INT_RX | INT_RT)
        self._set_line(self.intid, bool(self.ris & self.imsc))

    def read(self, off: int, size: int) -> int:
        if off == 0x00:
            if not self.rx:
                return 0
            byte = self.rx.popleft()
            self._update()
            return byte
        if off == 0x18:
            fr = FR_TXFE
            fr |= FR_RXFE if not self.rx else 0
            fr |= FR_RXFF if len(self.rx) >= FIFO_DEPTH else 0
            return fr
        if off == 0x38:
            return self.imsc
        if off == 0x3C:
            return self.ris
        if off == 0x40:
            return self.ris & self.imsc
        if off in _STORED:
            return self.regs[_STORED[off]]
        return _ID.get(off, 0)

    def write(self, off: int, size: int, value: int) -> None:
        if off == 0x00:
            self._output(bytes([value & 0xFF]))
            self.tx_count += 1
            self.ris |= INT_TX
        elif off == 0x38:
            self.imsc = value & 0x7FF
        elif off == 0x44:
            self.ris &= ~value
            if self.rx:
                self.ris |= INT_RX     # level: stays raised while the FIFO holds data
        elif off in _STORED:
            self.regs[_STORED[off]] = value & 0xFFFF
        self._set_line(self.intid, bool(self.ris & self.imsc))

    def describe(self) -> list[str]:
        return [f"uart0: rx fifo {len(self.rx)}/{FIFO_DEPTH} {bytes(self.rx)!r}, imsc={self.imsc:#x} "
                f"ris={self.ris:#x} mis={self.ris & self.imsc:#x}"]

    def save(self) -> tuple:
        return (bytes(self.rx), self.imsc, self.ris, dict(self.regs), self.tx_count)

    def restore(self, state: tuple) -> None:
        rx, self.imsc, self.ris, regs, self.tx_count = state
        self.rx = deque(rx)
        self.regs = dict(regs)
