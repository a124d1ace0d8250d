"""The shape of a REPL command: one row of the command table, and how rows are registered.

Each module of the REPL registers its handlers beside their rows
(`ROWS = Rows()`, then `@ROWS.command("stepi", ("si",), "stepi [N]: ...")`
on a plain function `(ReplState, arg) -> str`); commands.py joins the
modules' rows into the one table that drives dispatch, help and completion.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import ReplState

Handler = Callable[["ReplState", str], str]


class CommandError(Exception):
    """A command refused with a one-line message."""


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    help: str                          # first line: synopsis; the rest: details
    handler: Handler
    complete: str | None = None        # location, expr, info, checkpoint, command, events
    repeat: bool = False               # an empty line repeats it (as in gdb)

    @property
    def summary(self) -> str:
        return self.help.splitlines()[0]


class Rows:
    """A module's rows of the command table, in the order they are registered."""

    def __init__(self) -> None:
        self._rows: list[Command] = []

    def command(self, name: str, aliases: tuple[str, ...], help: str, *, complete: str | None = None,
                repeat: bool = False) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of a row."""
        def register(fn: Handler) -> Handler:
            self.add(Command(name, aliases, help, fn, complete, repeat))
            return fn
        return register

    def add(self, row: Command) -> None:
        self._rows.append(row)

    def __iter__(self) -> Iterator[Command]:
        return iter(self._rows)


def parse_int(text: str) -> int:
    try:
        return int(text.strip().replace(",", "").replace("_", ""), 0)
    except ValueError:
        raise CommandError(f'Invalid number "{text.strip()}".') from None


def count_arg(arg: str, default: int = 1) -> int:
    """A non-negative count (`stepi 3`); `default` when absent."""
    arg = arg.strip()
    if not arg:
        return default
    try:
        n = int(arg.replace(",", "").replace("_", ""), 0)
    except ValueError:
        raise CommandError(f'Invalid number "{arg}".') from None
    if n < 0:
        raise CommandError(f'Invalid number "{arg}".')
    return n


def lookup(word: str, table: Iterable[Command], what: str = "command") -> Command:
    """A command by name, alias, or unique prefix; CommandError with a suggestion otherwise."""
    table = tuple(table)
    for c in table:
        if word == c.name or word in c.aliases:
            return c
    matches = [c for c in table if c.name.startswith(word) or any(a.startswith(word) for a in c.aliases)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(sorted(c.name for c in matches))
        raise CommandError(f'Ambiguous {what} "{word}": {names}.')
    words = [c.name for c in table] + [a for c in table for a in c.aliases if len(a) > 2]
    close = difflib.get_close_matches(word, words, n=1, cutoff=0.5)
    hint = f' Did you mean "{close[0]}"?' if close else ' Try "help".'
    if what == "command":
        raise CommandError(f'Undefined command: "{word}".{hint}')
    raise CommandError(f'Undefined {what}: "{word}".{hint}')
