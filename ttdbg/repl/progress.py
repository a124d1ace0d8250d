"""Ctrl-C and a progress line for long motions.

`MotionProgress` is the should_stop of every motion: it reports the REPL's
interrupt flag (set by Ctrl-C) and, on a terminal, draws a progress line
when a motion runs for more than half a second.
"""

from __future__ import annotations

import sys
import threading
import time

from replay import Timeline

from .. import render


class MotionProgress:
    """The should_stop of every motion: Ctrl-C, and a progress line on a
    terminal when a motion runs for more than half a second."""

    def __init__(self, tl: Timeline, interrupt: threading.Event) -> None:
        self.tl = tl
        self.interrupt = interrupt
        self.enabled = sys.stderr.isatty()
        self.target: int | None = None
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def start(self) -> None:
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if self.enabled and now - self._started > 0.5 and now - self._last > 0.25:
            self._last = now
            total = self.tl.end.icount or 1
            goal = f" -> {self.target:,}" if self.target is not None else ""
            bar = render.progress_bar(self.tl.position, total)
            sys.stderr.write(f"\r{bar}{goal}  (Ctrl-C stops)\x1b[K")
            sys.stderr.flush()
            self._shown = True
        return self.interrupt.is_set()

    def done(self) -> None:
        self.target = None
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False
