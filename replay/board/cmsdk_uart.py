"""The CMSDK APB UART (Arm DDI0479C; QEMU: hw/char/cmsdk-apb-uart.c): DATA, STATE, CTRL, INTSTATUS, BAUDDIV.

As QEMU models it: a one-byte receive buffer that takes a byte only while RX
is enabled (CTRL.RX_EN) and empty; a transmit that completes at once (the
byte goes to the output callback and is only counted: TX interrupt status
set if CTRL.TX_INTEN); the RX and TX interrupt lines follow INTSTATUS's bits,
whose W1C write clears them; the overrun bits (STATE, W1C) show as INTSTATUS
bits while their interrupt enables are set.  BAUDDIV is stored and read back:
line settings are not replayed.  Received bytes come from the board at a
check point (CHAR_READ events at the count they became visible).
"""

from __future__ import annotations

from collections.abc import Callable

STATE_TXFULL, STATE_RXFULL, STATE_TXOVERRUN, STATE_RXOVERRUN = 1, 2, 4, 8
CTRL_TX_EN, CTRL_RX_EN, CTRL_TX_INTEN, CTRL_RX_INTEN = 1, 2, 4, 8
INT_TX, INT_RX, INT_TXO, INT_RXO = 1, 2, 4, 8
DATA, STATE, CTRL, INTSTATUS, BAUDDIV = 0x00, 0x04, 0x08, 0x0C, 0x10
# PID4..PID7, PID0..PID3, CID0..CID3 at 0xFD0..0xFFC
_ID = (0x04, 0x00, 0x00, 0x00, 0x21, 0xB8, 0x1B, 0x00, 0x0D, 0xF0, 0x05, 0xB1)


class CmsdkUart:
    def __init__(self, rx_line: int, tx_line: int, set_line: Callable[[int, bool], None],
                 output: Callable[[bytes], None]) -> None:
        self.rx_line, self.tx_line = rx_line, tx_line
        self._set_line = set_line
        self._output = output
        self.state = self.ctrl = self.intstatus = self.bauddiv = 0
        self.rxbuf = 0

    def room(self) -> int:
        """Bytes the UART can take now (QEMU's uart_can_receive)."""
        return 1 if self.ctrl & CTRL_RX_EN and not self.state & STATE_RXFULL else 0

    def receive(self, data: bytes) -> None:
        for byte in data:
            if not self.ctrl & CTRL_RX_EN:
                return
            if self.state & STATE_RXFULL:
                self.state |= STATE_RXOVERRUN
            self.rxbuf = byte
            self.state |= STATE_RXFULL
            if self.ctrl & CTRL_RX_INTEN:
                self.intstatus |= INT_RX
        self._update()

    def _update(self) -> None:
        overrun = INT_RXO | INT_TXO
        self.intstatus = (self.intstatus & ~overrun) | (self.state & (self.ctrl >> 2) & overrun)
        self._set_line(self.tx_line, bool(self.intstatus & INT_TX))
        self._set_line(self.rx_line, bool(self.intstatus & INT_RX))

    def read(self, off: int, size: int) -> int:
        if off == DATA:
            self.state &= ~STATE_RXFULL
            self._update()
            return self.rxbuf
        if off == STATE:
            return self.state
        if off == CTRL:
            return self.ctrl
        if off == INTSTATUS:
            return self.intstatus
        if off == BAUDDIV:
            return self.bauddiv
        if 0xFD0 <= off <= 0xFFC:
            return _ID[(off - 0xFD0) // 4]
        return 0

    def write(self, off: int, size: int, value: int) -> None:
        if off == DATA:
            if self.ctrl & CTRL_TX_EN:           # sent at once: TXFULL never stays set
                self._output(bytes([value & 0xFF]))
                if self.ctrl & CTRL_TX_INTEN:
                    self.intstatus |= INT_TX
        elif off == STATE:
            self.state &= ~(value & (STATE_TXOVERRUN | STATE_RXOVERRUN))
        elif off == CTRL:
            self.ctrl = value & 0x7F
        elif off == INTSTATUS:
            self.state &= ~(value & (INT_TXO | INT_RXO))
            self.intstatus &= ~value
        elif off == BAUDDIV:
            self.bauddiv = value & 0xFFFFF
        self._update()

    def describe(self) -> list[str]:
        return [f"uart0: rx {'full ' + repr(bytes([self.rxbuf])) if self.state & STATE_RXFULL else 'empty'}, "
                f"state={self.state:#x} ctrl={self.ctrl:#x} intstatus={self.intstatus:#x} bauddiv={self.bauddiv}"]

    def save(self) -> tuple:
        return (self.state, self.ctrl, self.intstatus, self.bauddiv, self.rxbuf)

    def restore(self, state: tuple) -> None:
        self.state, self.ctrl, self.intstatus, self.bauddiv, self.rxbuf = state
