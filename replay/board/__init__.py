"""Bare-metal boards: firmware with a UART, an interrupt controller and a timer, recorded and replayed.

The machine (replay/machine.py), the event log and the trace are shared with
the Linux personality; the guest OS is replaced by a board: virt.py (the
boards as data), the device models (pl011.py, gic.py, gentimer.py), the
firmware's calls to the machine (firmware_calls.py), exception entry
(exceptions.py), the assembled board and its loop (system.py), and the
recorder and replayer (recording.py, replaying.py).  boards.py names them all;
mps2.py is the second board, a Cortex-M3 (`mps2-an385`), with its own devices
(cmsdk_uart.py, nvic.py, systick.py) and M-profile exceptions (m_exceptions.py)
on the same loop.
"""

from .boards import BOARDS
from .recording import BoardResult, check_firmware, record_board
from .replaying import BoardReplay, is_board_trace, replay_board

__all__ = ["BOARDS", "BoardReplay", "BoardResult", "check_firmware", "is_board_trace", "record_board", "replay_board"]
