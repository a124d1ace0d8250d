"""The replayed program's stdout and stderr as DAP `output` events, each write shown once.

The replay writes the program's output again every time it executes a
`write` (and going back in time re-executes from a checkpoint), so the
adapter's OutputSink keeps only writes made at an instruction count beyond
the last one shown: the debug console then reads like the program's own
output, whichever way the user travels.
"""

from __future__ import annotations

from collections.abc import Callable

from replay import OutputSink

CATEGORY = {1: "stdout", 2: "stderr"}


class _Stream:
    def __init__(self, owner: "GuestOutput", number: int) -> None:
        self.owner = owner
        self.number = number

    def write(self, data: bytes) -> None:
        self.owner.caught(self.number, data)

    def flush(self) -> None:
        pass


class GuestOutput:
    def __init__(self) -> None:
        self.position: Callable[[], int] = lambda: 0     # the timeline's, once there is one
        self._shown_up_to = -1
        self._pending: list[tuple[int, bytes]] = []

    def sink(self) -> OutputSink:
        return OutputSink(_Stream(self, 1), _Stream(self, 2))  # type: ignore[arg-type]

    def caught(self, stream: int, data: bytes) -> None:
        at = self.position()
        if at > self._shown_up_to:
            self._shown_up_to = at
            self._pending.append((stream, data))

    def take(self) -> list[tuple[str, str]]:
        """(category, text) of the writes not yet shown, oldest first."""
        out = [(CATEGORY[s], data.decode("utf-8", "replace")) for s, data in self._pending]
        self._pending.clear()
        return out
