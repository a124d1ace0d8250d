"""Bare-metal boards: firmware with a UART, a GIC and timer interrupts, recorded and replayed.

The machine (replay/machine.py), the event log and the trace are shared with
the Linux personality; the guest OS is replaced by a board: virt.py (the
boards as data), the device models (pl011.py, gic.py, gentimer.py), the
firmware's calls to the machine (firmware_calls.py), exception entry
(exceptions.py), the assembled board and its loop (system.py), and the
recorder and replayer (recording.py, replaying.py).
"""

from .boards import BOARDS
from .recording import BoardResult, check_firmware, record_board
from .replaying import BoardReplay, is_board_trace, replay_board

__all__ = ["BOARDS", "BoardReplay", "BoardResult", "check_firmware", "is_board_trace", "record_board", "replay_board"]
