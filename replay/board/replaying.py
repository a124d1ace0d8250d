"""Replaying a board trace: the UART input comes from the log, its output to any backend.

The firmware comes from the trace; the host is never read.  Every recorded
event is checked where it happened (an output count, the input bytes, the
final state hash, the end), and a mismatch is a ReplayDivergence naming the
instruction count and the event.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable

from ..errors import LogFormatError, ReplayDivergence, TraceTruncated
from ..eventlog import LogContents, read_log
from ..events import CharRead, CharWrite, Clock, End, Event, Shutdown, ShutdownReason, StateHash
from ..icount import NO_LIMIT
from ..trace import TraceDir
from .boards import BOARDS
from .chardev import UartOutput
from .firmware import load_firmware
from .recording import _REASONS, CLOCKS, BoardResult, _say
from .system import Ending


def is_board_trace(contents: LogContents) -> bool:
    return "board" in contents.header.extra


class _Replayer:
    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.index = 0
        self._clocks = [i for i, ev in enumerate(events) if isinstance(ev, Clock)]

    def _next(self, icount: int, kind: type[Event], what: str) -> Event:
        if self.index >= len(self.events):
            raise ReplayDivergence(icount, self.index, "the end of the log", what)
        ev = self.events[self.index]
        if not isinstance(ev, kind) or ev.icount != icount:
            raise ReplayDivergence(icount, self.index, ev.describe() + f" at {ev.icount:,}", what)
        self.index += 1
        return ev

    def _peek(self) -> Event | None:
        return self.events[self.index] if self.index < len(self.events) else None

    def input_at(self, icount: int, room: int, wait: float) -> bytes | None:
        ev = self._peek()
        if isinstance(ev, CharRead) and ev.icount == icount:
            if len(ev.data) > room:
                raise ReplayDivergence(icount, self.index, ev.describe(), f"room for {room} bytes")
            self.index += 1
            return ev.data
        if ev is not None and ev.icount < icount:
            raise ReplayDivergence(icount, self.index, ev.describe() + f" at {ev.icount:,}", "no such event")
        return None

    def output_count(self, icount: int, count: int) -> None:
        ev = self._next(icount, CharWrite, f"{count} bytes written")
        if ev.count != count:  # type: ignore[attr-defined]
            raise ReplayDivergence(icount, self.index - 1, ev.describe(), f"{count} bytes written")

    def clock_at(self, icount: int, counter: int, frequency: int) -> int:
        ev = self._next(icount, Clock, "a check point of the host clock")
        if ev.value < counter:  # type: ignore[attr-defined]
            raise ReplayDivergence(icount, self.index - 1, ev.describe(), f"a counter of at least {counter}")
        return ev.value  # type: ignore[attr-defined]

    def next_clock(self, icount: int) -> int | None:
        at = bisect.bisect_left(self._clocks, self.index)
        if at == len(self._clocks):
            return NO_LIMIT
        ev = self.events[self._clocks[at]]
        if ev.icount < icount:
            raise ReplayDivergence(icount, self._clocks[at], ev.describe() + f" at {ev.icount:,}", "no such event")
        return ev.icount


class BoardReplay:
    """One replay of a board trace that runs forward to exact instruction counts
    and can go back to any state it saved (the seam a timeline drives)."""

    def __init__(self, trace: TraceDir, uart: str = "null", warn: Callable[[str], None] = lambda m: None) -> None:
        self.trace = trace
        self.contents = contents = read_log(trace.log_path)
        extra = contents.header.extra
        board = BOARDS.get(str(extra.get("board")))
        if board is None:
            raise LogFormatError(f"{trace.path}: a trace of board {extra.get('board')!r}, "
                                 "which this ttdbg does not know")
        ram, load = extra.get("ram"), extra.get("load")
        if not isinstance(ram, int) or not 0 < ram <= board.max_ram or not (load is None or isinstance(load, int)):
            raise LogFormatError(f"{trace.path}: impossible board settings in the trace header")
        data = trace.load_file(str(extra.get("firmware")))
        firmware = load_firmware(contents.header.program, data, board, ram, load)
        clock = extra.get("clock", "virtual")
        if clock not in CLOCKS:
            raise LogFormatError(f"{trace.path}: a board trace with clock {clock!r}, which this ttdbg does not know")
        self.clock = str(clock)
        self._out = UartOutput(uart)
        self.system = board.make_system(ram, firmware, self._out.write, warn, self.clock)
        self._events = _Replayer(contents.events)
        self._shutdown = next((e for e in reversed(contents.events) if isinstance(e, Shutdown)), None)
        last = contents.events[-1].icount if contents.events else 0
        self._recorded_end = self._shutdown.icount if self._shutdown is not None else last
        self.ending: Ending | None = None
        self.seconds = 0.0

    @property
    def icount(self) -> int:
        return self.system.icount

    @property
    def recorded_end(self) -> tuple[int, Shutdown | None]:
        """Where the recording ends, and its SHUTDOWN event (None: the log is truncated)."""
        return self._recorded_end, self._shutdown

    def run(self, limit: int | None = None, should_stop: Callable[[], bool] | None = None) -> Ending:
        """Replay to exactly `limit` instructions (Ending "limit"), or to the end
        (checking the recorded final state and status)."""
        if self.ending is not None:
            return self.ending
        end = self._recorded_end
        started = time.monotonic()
        try:
            ending = self.system.run(self._events, should_stop, end if limit is None else min(limit, end))
        finally:
            self.seconds += time.monotonic() - started
        stopped_there = self._shutdown is not None and self._shutdown.reason == ShutdownReason.INTERRUPTED
        if self.icount == end and (ending.kind == "limit" and (limit is None or limit > end)
                                   or ending.kind == "stuck" and stopped_there):
            # where the recording stopped without the firmware ending it (Ctrl-C, a killed recorder)
            if not self.contents.complete or self._shutdown is None:
                raise TraceTruncated(self.icount, len(self.contents.events))
            self.system.flush_output(self._events)
            ending = Ending("interrupted", self._shutdown.status, f"the recording stopped at instruction {end:,}")
        elif ending.kind in ("limit", "interrupted", "trapped"):
            return ending
        icount, replayer = self.icount, self._events
        ev = replayer._next(icount, StateHash, "the end of the run")
        if ev.state_hash != self.system.state_hash():  # type: ignore[attr-defined]
            raise ReplayDivergence(icount, replayer.index - 1, "the recorded machine state", "another state")
        shutdown = replayer._next(icount, Shutdown, f"the end: {_say(ending)}")
        if shutdown.reason != _REASONS[ending.kind] or shutdown.status != ending.status:  # type: ignore
            raise ReplayDivergence(icount, replayer.index - 1, shutdown.describe(), f"the end: {_say(ending)}")
        replayer._next(icount, End, "the end of the log")
        self.ending = ending
        return ending

    def save(self) -> tuple:
        return (self.system.save(), self._events.index, self.ending)

    def restore(self, state: tuple) -> None:
        system, self._events.index, self.ending = state
        self.system.restore(system)

    def describe(self) -> str:
        """The board's devices now (`info board`)."""
        return self.system.describe()

    def result(self) -> BoardResult:
        ending = self.ending or Ending("interrupted", 130, f"stopped at instruction {self.icount:,}")
        return BoardResult(self.icount, ending.status, _say(ending), self._events.index, self.seconds,
                           self.system.interrupts_taken)

    def close(self) -> None:
        self._out.close()
        self.system.close()


def replay_board(trace: TraceDir, uart: str = "stdio", warn: Callable[[str], None] = lambda m: None,
                 should_stop: Callable[[], bool] | None = None) -> BoardResult:
    """Replay a board trace to its end, its UART output to `uart`."""
    replay = BoardReplay(trace, uart, warn)
    try:
        replay.run(should_stop=should_stop)
        return replay.result()
    finally:
        replay.close()
