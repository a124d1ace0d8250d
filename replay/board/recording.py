"""Recording firmware on a board: its UART input becomes CHAR_READ events.

Like QEMU's replay of character devices: each byte the UART receives is
logged at the instruction count where it became visible to the guest (its
RX FIFO not empty, its interrupt raised); of what the firmware writes only
the count is logged.  Timer interrupts need no events: the clock is the
instruction count.  The firmware image is kept in the trace, so replay never
reads the host.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..eventlog import LogWriter, TraceHeader
from ..events import CharRead, CharWrite, End, Shutdown, ShutdownReason, StateHash
from ..trace import TraceDir
from .boards import BOARDS
from .chardev import UartInput, UartOutput
from .firmware import load_firmware
from .system import Ending

UART_FD = 0          # the CHAR_READ/CHAR_WRITE `fd` of UART0

_REASONS = {"exit": ShutdownReason.EXIT, "interrupted": ShutdownReason.INTERRUPTED,
            "stuck": ShutdownReason.DEADLOCK, "error": ShutdownReason.ERROR, "limit": ShutdownReason.INTERRUPTED}


@dataclass(frozen=True)
class BoardResult:
    icount: int
    status: int
    ending: str           # how the run ended, one line
    events: int
    seconds: float
    interrupts: int


class _Recorder:
    def __init__(self, writer: LogWriter, uart_in: UartInput, should_stop: Callable[[], bool] | None) -> None:
        self.writer = writer
        self.uart_in = uart_in
        self.should_stop = should_stop or (lambda: False)

    def input_at(self, icount: int, room: int, wait: float) -> bytes | None:
        """While the CPU idles, wait for input in real time as long as the guest idles
        (so a waiting firmware's timer ticks at its own rate, not ttdbg's): what comes
        is logged here, and the replay, which never waits, takes it here too."""
        data = self.uart_in.read(room)
        until = time.monotonic() + wait
        while data is None and not self.should_stop():
            left = until - time.monotonic()
            if left <= 0:
                break
            data = self.uart_in.read(room, timeout=min(left, 0.2))
        if data:
            self.writer.append(CharRead(icount, UART_FD, len(data), data))
        return data or None

    def output_count(self, icount: int, count: int) -> None:
        self.writer.append(CharWrite(icount, UART_FD, count, count))


def board_header(board: str, path: str, data: bytes, ram: int, load: int | None, signature: str,
                 machine: int) -> TraceHeader:
    digest = hashlib.sha256(data).hexdigest()
    return TraceHeader(machine, os.path.abspath(path), digest, (path,), (), os.getcwd(), 1,
                       extra={"board": board, "ram": ram, "load": load, "firmware": digest, "cpu": signature,
                              "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def check_firmware(board_name: str, path: str, data: bytes, ram: int | None = None, load: int | None = None) -> None:
    """Raise ProgramError (one line) if the firmware cannot run on the board as given."""
    board = BOARDS[board_name]
    board.check(load_firmware(path, data, board, ram or board.default_ram, load))


def record_board(board_name: str, path: str, data: bytes, trace: TraceDir, *, uart: str = "stdio",
                 ram: int | None = None, load: int | None = None, warn: Callable[[str], None] = lambda m: None,
                 should_stop: Callable[[], bool] | None = None, limit: int | None = None) -> BoardResult:
    """Record `data` (the firmware at `path`) on board `board_name` into `trace`."""
    board = BOARDS[board_name]
    ram = ram or board.default_ram
    firmware = load_firmware(path, data, board, ram, load)
    out = UartOutput(uart)
    uart_in = UartInput(uart)
    trace.store_file(data)
    writer = LogWriter(trace.log_path, board_header(board.name, path, data, ram, load, board.arch.signature,
                                                  board.arch.elf_machine))
    system = board.make_system(ram, firmware, out.write, warn)
    started = time.monotonic()
    try:
        ending = system.run(_Recorder(writer, uart_in, should_stop), should_stop, limit)
        icount = system.icount
        writer.append(StateHash(icount, system.state_hash()))
        writer.append(Shutdown(icount, _REASONS[ending.kind], ending.status), closing=True)
        writer.append(End(icount), closing=True)
        return BoardResult(icount, ending.status, _say(ending), writer.events_written,
                           time.monotonic() - started, system.interrupts_taken)
    finally:
        writer.close()
        out.close()
        system.close()


def _say(ending: Ending) -> str:
    return ending.message if ending.kind != "exit" else f"{ending.message}, status {ending.status}"
