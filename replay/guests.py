"""Which guest a trace replays: a Linux process tree, or firmware on a board (guest.py)."""

from __future__ import annotations

from .board.guest import BoardGuest
from .board.replaying import BoardReplay, is_board_trace
from .eventlog import LogContents
from .guest import Guest
from .replayer import OutputSink, Replay
from .trace import TraceDir


def open_guest(trace: TraceDir, contents: LogContents, sink: OutputSink) -> Replay | Guest:
    """What a Timeline over `trace` replays: a board trace's firmware (its UART output
    discarded), or the Linux replay (its output to `sink`; the Timeline picks the process)."""
    if is_board_trace(contents):
        return BoardGuest(BoardReplay(trace, uart="null"))
    return Replay(trace, sink, contents=contents)
