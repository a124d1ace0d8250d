"""The REPL's ONE command table, joined from the rows each module registers.

The table drives dispatch (`find`, with gdb's abbreviations and unique
prefixes, and a difflib suggestion for unknown words), `help`, and the
prompt's completer (`build_completer`, a prompt_toolkit NestedCompleter).
The order of the modules here is the order `help` lists the commands in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, NestedCompleter, WordCompleter
from prompt_toolkit.document import Document

from replay import EventKind

from . import breakpoints, code, data, frames, history, info, motion, queries, signals, threads
from .info import INFO_COMMANDS, info_list
from .state import ReplState
from .table import Command, CommandError, Rows, lookup

SESSION_ROWS = Rows()


@SESSION_ROWS.command("help", ("h", "?"), "help [COMMAND]: list commands, or describe one", complete="command")
def help_command(r: ReplState, arg: str) -> str:
    return help_text(arg)


@SESSION_ROWS.command("thread", ("t",), threads.THREAD_HELP)
def thread_command(r: ReplState, arg: str) -> str:
    return threads.thread(r, arg, appliable)


def appliable(word: str) -> Command:
    """A command `thread apply` may run in each thread: not one that moves in time or selects."""
    cmd = find(word)
    if cmd.name == "thread" or cmd in tuple(motion.ROWS):
        raise CommandError(f"`{word}` cannot be applied to threads (it moves in time or selects)")
    return cmd


@SESSION_ROWS.command("quit", ("q", "exit"), "quit: leave the REPL")
def quit_command(r: ReplState, arg: str) -> str:
    r.done = True
    return ""


COMMANDS: tuple[Command, ...] = (*motion.ROWS, *breakpoints.ROWS, *info.ROWS, *data.ROWS, *code.ROWS,
                                 *frames.ROWS, *threads.ROWS, *history.ROWS, *queries.ROWS, *signals.ROWS,
                                 *SESSION_ROWS)


def find(word: str) -> Command:
    """A command of the table by name, alias, or unique prefix; CommandError otherwise."""
    return lookup(word, COMMANDS)


def help_text(arg: str) -> str:
    arg = arg.strip()
    if arg:
        word, _, rest = arg.partition(" ")
        cmd = find(word)
        if cmd.name == "info" and rest.strip():
            sub = lookup(rest.strip(), INFO_COMMANDS, what="info command")
            return sub.help
        aliases = f"\nAliases: {', '.join(cmd.aliases)}" if cmd.aliases else ""
        text = cmd.help + aliases
        if cmd.name == "info":
            text += "\n" + info_list()
        return text
    width = max(len(c.name) for c in COMMANDS) + 2
    lines = ["Commands (unique prefixes work; an empty line repeats stepping commands):"]
    for c in COMMANDS:
        alias = f" ({', '.join(c.aliases)})" if c.aliases else ""
        lines.append(f"  {c.name:<{width}}{c.summary.split(': ', 1)[-1]}{alias}")
    lines.append('Type "help COMMAND" for more.')
    return "\n".join(lines)


# -- completion ----------------------------------------------------------------------------
def location_words(r: ReplState) -> list[str]:
    if r.symbols is None:
        return []
    words = [f.name for f in r.symbols.functions]
    words += [os.path.basename(f) + ":" for f in r.symbols.files()]
    words += [s.name for s in r.symbols.symbols if s.is_function][:5000]
    return words


def expression_words(r: ReplState) -> list[str]:
    debug = r.tl.arch.debug
    words = [f"${reg}" for reg in (debug.general_registers if debug else ())] + ["$pc", "$sp", "$fp"]
    if r.symbols is not None:
        words += list(r.symbols.globals)
        f = r.symbols.function_at(r.pc)
        if f is not None:
            words += [v.name for v in f.variables]
    return words


class _Dynamic(Completer):
    """Words computed at completion time (symbols, checkpoints) with a given source."""

    def __init__(self, words: Callable[[], Iterable[str]]) -> None:
        self.words = words

    def get_completions(self, document: Document, complete_event: CompleteEvent):
        text = document.text_before_cursor
        word = text.split()[-1] if text and not text[-1].isspace() else ""
        for w in sorted(set(self.words())):
            if w.startswith(word):
                yield Completion(w, start_position=-len(word))


class _TableCompleter(Completer):
    """The first word from the table (whole words, hyphens included), the rest nested."""

    def __init__(self, tree: dict[str, Completer | None]) -> None:
        self.tree = tree
        self.nested = NestedCompleter(tree)

    def get_completions(self, document: Document, complete_event: CompleteEvent):
        text = document.text_before_cursor.lstrip()
        if " " in text:
            yield from self.nested.get_completions(document, complete_event)
            return
        for name in sorted(self.tree):
            if name.startswith(text):
                yield Completion(name, start_position=-len(text))


def build_completer(r: ReplState) -> Completer:
    specs: dict[str, Completer | None] = {
        "location": _Dynamic(lambda: location_words(r)),
        "expr": _Dynamic(lambda: expression_words(r)),
        "checkpoint": _Dynamic(lambda: r.tl.bookmarks().keys()),
        "command": WordCompleter(sorted(c.name for c in COMMANDS)),
        "events": WordCompleter(sorted(k.name.lower() for k in EventKind) + ["all"]),
        "info": NestedCompleter.from_nested_dict({c.name: None for c in INFO_COMMANDS}),
    }
    tree: dict[str, Completer | None] = {}
    for c in COMMANDS:
        sub = specs.get(c.complete) if c.complete else None
        tree[c.name] = sub
        for a in c.aliases:
            if len(a) > 1:
                tree[a] = sub
    return _TableCompleter(tree)
