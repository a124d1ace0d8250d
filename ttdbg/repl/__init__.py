"""`ttdbg repl`: an interactive time-travel prompt on a trace.

One module per job; command handlers are plain functions over a
`ReplState`, registered beside their rows of the one command table:

- state.py        what the REPL keeps: session, symbols, stepper, breakpoints, what was shown, the gdb bridge
- table.py        a command row, how modules register rows, lookup by prefix
- commands.py     the one table (dispatch, help, completion), `help` and `quit`
- shell.py        `Repl.execute(line)`: one line in, one text out, errors as one line
- terminal.py     the prompt_toolkit prompt and loop, `run_repl`
- stops.py        reporting a stop: the reason table (breakpoint, watchpoint, end of history, signal...)
- motion.py       stepi/nexti/step/next/finish/continue both ways, `goto`
- breakpoints.py  break/tbreak/watch/delete/enable/disable, `info breakpoints`, locations
- frames.py       naming places, `bt`/`frame`/`up`/`down`, `info frame`/`info locals`, the expression scope
- data.py         `print`, `ptype`, `x`, registers
- code.py         `disassemble`, `list`
- history.py      `when`, `events`, `checkpoint`, `restart`
- info.py         `info SUBCOMMAND`
- expressions.py  the small C expression language used without gdb
- bridge.py       asking the optional private gdb
- progress.py     Ctrl-C and the progress line of long motions
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .commands import build_completer
    from .shell import Repl
    from .terminal import interact, make_prompt_session, run_repl

__all__ = ["Repl", "build_completer", "interact", "make_prompt_session", "run_repl"]

# Imported when first asked for: `ttdbg query` uses expressions.py and table.py
# only, and the whole REPL (prompt_toolkit, the gdb bridge) took 0.3 s to import.
_WHERE = {"Repl": "shell", "build_completer": "commands", "interact": "terminal",
          "make_prompt_session": "terminal", "run_repl": "terminal"}


def __getattr__(name: str) -> object:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
