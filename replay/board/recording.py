"""Recording firmware on a board: its UART input becomes CHAR_READ events.

Like QEMU's replay of character devices: each byte the UART receives is
logged at the instruction count where it became visible to the guest (its
RX FIFO not empty, its interrupt raised); of what the firmware writes only
the count is logged.  Timer interrupts need no events: the clock is the
instruction count (with `--clock host`, each check point's reading of the
host clock is a CLOCK event instead: system.py).  The firmware image is
kept in the trace, so replay never reads the host.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..eventlog import LogWriter, TraceHeader
from ..events import CharRead, CharWrite, Clock, ClockSource, End, Shutdown, ShutdownReason, StateHash
from ..trace import TraceDir
from .boards import BOARDS
from .chardev import TcpUart, UartInput, open_recording_uart
from .firmware import load_firmware
from .system import Ending

UART_FD = 0          # the CHAR_READ/CHAR_WRITE `fd` of UART0
HOST_CLOCK_ID = 0    # --clock host: the CLOCK events' clock (the generic timer's counter, as rdtsc)
PACING_SLACK = 0.002  # seconds the guest's clock may run ahead of the host's before the recorder waits
CLOCKS = ("virtual", "host")

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
        self.started_ns = time.monotonic_ns()

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

    def clock_at(self, icount: int, counter: int, frequency: int) -> int:
        """The host's clock since the recording started, as counter ticks.  While the
        guest's clock is ahead of it by more than PACING_SLACK, wait (QEMU's -icount
        sleep=on): time goes as fast for the firmware as for the host."""
        now = (time.monotonic_ns() - self.started_ns) * frequency // 1_000_000_000
        ahead = (counter - now) / frequency
        if ahead > PACING_SLACK:
            until = time.monotonic() + ahead
            while not self.should_stop() and (left := until - time.monotonic()) > 0:
                time.sleep(min(left, 0.1))
            now = (time.monotonic_ns() - self.started_ns) * frequency // 1_000_000_000
        value = max(counter, now)
        self.writer.append(Clock(icount, ClockSource.RDTSC, HOST_CLOCK_ID, value))
        return value

    def next_clock(self, icount: int) -> int | None:
        return None


def board_header(board: str, path: str, data: bytes, ram: int, load: int | None, signature: str,
                 machine: int, clock: str = "virtual") -> TraceHeader:
    digest = hashlib.sha256(data).hexdigest()
    extra = {"board": board, "ram": ram, "load": load, "firmware": digest, "cpu": signature,
             "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if clock != "virtual":
        extra["clock"] = clock          # (absent: virtual, as in traces before --clock)
    return TraceHeader(machine, os.path.abspath(path), digest, (path,), (), os.getcwd(), 1, extra=extra)


def check_firmware(board_name: str, path: str, data: bytes, ram: int | None = None, load: int | None = None) -> None:
    """Raise ProgramError (one line) if the firmware cannot run on the board as given."""
    board = BOARDS[board_name]
    board.check(load_firmware(path, data, board, ram or board.default_ram, load))


def record_board(board_name: str, path: str, data: bytes, trace: TraceDir, *, uart: str = "stdio",
                 ram: int | None = None, load: int | None = None, warn: Callable[[str], None] = lambda m: None,
                 should_stop: Callable[[], bool] | None = None, limit: int | None = None,
                 clock: str = "virtual") -> BoardResult:
    """Record `data` (the firmware at `path`) on board `board_name` into `trace`, its clock
    `virtual` (derived from the instruction count) or `host` (paced to real time)."""
    if clock not in CLOCKS:
        raise ValueError(f"clock {clock!r}")
    board = BOARDS[board_name]
    ram = ram or board.default_ram
    firmware = load_firmware(path, data, board, ram, load)
    uart_in, out = open_recording_uart(uart)
    if isinstance(out, TcpUart):
        try:
            out.accept(should_stop or (lambda: False), warn)
        except BaseException:
            out.close()
            raise
    trace.store_file(data)
    writer = LogWriter(trace.log_path, board_header(board.name, path, data, ram, load, board.arch.signature,
                                                  board.arch.elf_machine, clock))
    system = board.make_system(ram, firmware, out.write, warn, clock)
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
