"""The REPL at a terminal: the prompt_toolkit prompt, the read-execute loop, `ttdbg repl`.

`run_repl` reads plain lines when stdin is not a terminal; otherwise a
PromptSession (history file, Ctrl-R search, completion from the command
table, a bottom toolbar with a progress bar), with Ctrl-C during a command
turned into the motion's interrupt and Ctrl-C at the prompt clearing the line.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

from replay import TraceDir

from ..render import Style
from ..session import DebugSession
from .commands import build_completer
from .shell import Repl

HISTORY_PATH = os.path.join(os.path.expanduser("~"), ".local", "share", "ttdbg", "repl_history")


def make_prompt_session(repl: Repl, *, input=None, output=None, history=None):
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    if history is None:
        try:
            os.makedirs(os.path.dirname(HISTORY_PATH), exist_ok=True)
            history = FileHistory(HISTORY_PATH)
        except OSError:
            history = InMemoryHistory()
    return PromptSession(history=history, completer=build_completer(repl), complete_while_typing=False,
                         bottom_toolbar=repl.toolbar, input=input, output=output,
                         enable_history_search=False)


def interact(repl: Repl, prompt_session, write: Callable[[str], None]) -> None:
    """Read lines until `quit` or end of input; Ctrl-C at the prompt clears the line."""
    previous = None
    while not repl.done:
        try:
            line = prompt_session.prompt("(ttdbg) ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            write("quit")
            break
        try:
            if threading.current_thread() is threading.main_thread():
                previous = signal.signal(signal.SIGINT, lambda *_: repl.interrupt.set())
            out = repl.execute(line)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
                previous = None
        if out:
            write(out)


def run_repl(trace: TraceDir, gdb: str | None = None, pid: int | None = None) -> int:
    session = DebugSession(trace, pid=pid)
    repl = Repl(session, gdb=gdb, style=Style.for_stream(sys.stdout))

    def write(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    try:
        write(repl.banner())
        if not sys.stdin.isatty():
            # Scripted input (a pipe or file): plain lines, no prompt_toolkit.
            for line in sys.stdin:
                out = repl.execute(line)
                if out:
                    write(out)
                if repl.done:
                    break
            return 0
        interact(repl, make_prompt_session(repl), write)
    finally:
        repl.close()
    return 0
