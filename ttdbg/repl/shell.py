"""The `Repl`: one command line at a time, through the command table.

`execute(line) -> str` splits the line, finds the command (an empty line
repeats a repeatable one) and maps every error to one line (habit 7):
nothing here exits the process or prints a traceback.
"""

from __future__ import annotations

import logging
import re

from replay import ReplayError

from .. import render
from ..gdbmi_bridge import BridgeError
from ..stepping import MotionError
from ..symbols import SymbolError
from .commands import find
from .frames import where
from .state import ReplState
from .stops import here_text
from .table import CommandError

log = logging.getLogger(__name__)


class Repl(ReplState):
    def execute(self, line: str) -> str:
        """Run one command line; the text to show (errors are one line, never a traceback)."""
        text = line.strip()
        if not text:
            if not self.view.last_line:
                return ""
            text = self.view.last_line
        word, arg = split_command(text)
        self.interrupt.clear()
        try:
            cmd = find(word)
            self.view.last_line = text if cmd.repeat else ""
            return cmd.handler(self, arg)
        except (CommandError, SymbolError, MotionError, BridgeError, ReplayError) as exc:
            self.view.last_line = ""
            return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        except KeyboardInterrupt:
            return "Interrupted."
        except Exception as exc:   # a bug: still one line at the prompt, the details in the log
            log.debug("command %r failed", text, exc_info=True)
            return f"Internal error: {type(exc).__name__}: {exc}"

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.close()

    def toolbar(self) -> str:
        return render.progress_bar(self.tl.position, self.total, where(self))

    def banner(self) -> str:
        s = self.session
        note = "" if self.symbols is None or self.symbols.has_dwarf else \
            " (no debug info: build with -g for lines and variables)"
        return (f"ttdbg repl: {s.program}, {self.total:,} instructions recorded{note}.\n"
                f"Type \"help\" for commands; Ctrl-R searches history; Ctrl-C stops a long motion.\n"
                + here_text(self))


def split_command(text: str) -> tuple[str, str]:
    """`x/4xg $sp` -> ("x", "/4xg $sp"); `b main` -> ("b", "main")."""
    m = re.match(r"([A-Za-z?][\w-]*)(.*)$", text, re.S)
    if m is None:
        word, _, rest = text.partition(" ")
        return word, rest.strip()
    word, rest = m.group(1), m.group(2)
    return word, rest if rest.startswith("/") else rest.strip()
