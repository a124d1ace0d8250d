"""The REPL's commands as ONE table: name, aliases, help, handler, completion.

The table drives dispatch (`lookup`, with gdb's abbreviations and unique
prefixes, and a difflib suggestion for unknown words), `help`, and the
prompt's completer (`build_completer`, a prompt_toolkit NestedCompleter).
Handlers take the `Repl` and the argument text and return the text to
show; they raise `CommandError` (or the engine's typed errors) for a
one-line refusal.  The handlers' logic lives on `Repl` where it needs
state; the rows here stay one line of wiring each.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, NestedCompleter, WordCompleter
from prompt_toolkit.document import Document

from replay.events import EventKind
from replay.timeline import Direction

if TYPE_CHECKING:
    from .repl import Repl

FORWARD, BACKWARD = Direction.FORWARD, Direction.BACKWARD


class CommandError(Exception):
    """A command refused with a one-line message."""


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    help: str                          # first line: synopsis; the rest: details
    handler: Callable[["Repl", str], str]
    complete: str | None = None        # location, expr, info, checkpoint, command, events
    repeat: bool = False               # an empty line repeats it (as in gdb)

    @property
    def summary(self) -> str:
        return self.help.splitlines()[0]


def _handle(r: "Repl", arg: str) -> str:
    from .handle import handle
    return handle(r.tl, arg)


def _int_arg(arg: str, default: int = 1) -> int:
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


def _stepi(direction: Direction) -> Callable[["Repl", str], str]:
    return lambda r, a: r.motion_stepi(_int_arg(a), direction)


def _nexti(direction: Direction) -> Callable[["Repl", str], str]:
    return lambda r, a: r.motion_nexti(_int_arg(a), direction)


def _line(over: bool, direction: Direction) -> Callable[["Repl", str], str]:
    return lambda r, a: r.motion_line(_int_arg(a), over, direction)


INFO_COMMANDS: tuple[Command, ...] = (
    Command("breakpoints", ("b", "break", "watchpoints"), "info breakpoints: list breakpoints and watchpoints",
            lambda r, a: r.info_breakpoints()),
    Command("registers", ("regs", "r", "reg"), "info registers [REG...]: registers (changed ones highlighted)",
            lambda r, a: r.info_registers(a)),
    Command("frame", ("f",), "info frame: the current frame's addresses", lambda r, a: r.info_frame()),
    Command("locals", (), "info locals: local variables of the current function", lambda r, a: r.info_locals()),
    Command("checkpoints", ("bookmarks",), "info checkpoints: named positions", lambda r, a: r.info_checkpoints()),
    Command("sharedlibrary", ("dll", "solib"), "info sharedlibrary: the shared objects loaded at this point in time",
            lambda r, a: r.info_sharedlibrary()),
    Command("trace", (), "info trace: the trace summary (as `ttdbg info`)", lambda r, a: r.info_trace()),
)


def _info(r: "Repl", arg: str) -> str:
    word, _, rest = arg.strip().partition(" ")
    if not word:
        return "List of info subcommands:\n" + "\n".join(f"  {c.summary}" for c in INFO_COMMANDS)
    cmd = lookup(word, INFO_COMMANDS, what="info command")
    return cmd.handler(r, rest.strip())


COMMANDS: tuple[Command, ...] = (
    # -- motion ---------------------------------------------------------------------------
    Command("stepi", ("si",), "stepi [N]: execute N instructions", _stepi(FORWARD), repeat=True),
    Command("reverse-stepi", ("rsi",), "reverse-stepi [N]: go back N instructions", _stepi(BACKWARD),
            repeat=True),
    Command("nexti", ("ni",), "nexti [N]: one instruction, stepping over calls", _nexti(FORWARD), repeat=True),
    Command("reverse-nexti", ("rni",), "reverse-nexti [N]: one instruction back, over calls",
            _nexti(BACKWARD), repeat=True),
    Command("step", ("s",), "step [N]: to the next source line, into calls", _line(False, FORWARD), repeat=True),
    Command("next", ("n",), "next [N]: to the next source line, over calls", _line(True, FORWARD), repeat=True),
    Command("finish", ("fin",), "finish: run until the current function returns",
            lambda r, a: r.motion_finish(FORWARD)),
    Command("reverse-step", ("rs",), "reverse-step [N]: back to the previous source line, into calls",
            _line(False, BACKWARD), repeat=True),
    Command("reverse-next", ("rn",), "reverse-next [N]: back to the previous source line, over calls",
            _line(True, BACKWARD), repeat=True),
    Command("reverse-finish", ("rf",), "reverse-finish: back to where the current function was called",
            lambda r, a: r.motion_finish(BACKWARD)),
    Command("continue", ("c", "cont"), "continue: run until a breakpoint, watchpoint or the end",
            lambda r, a: r.motion_cont(FORWARD)),
    Command("reverse-continue", ("rc",), "reverse-continue: run backward to the previous breakpoint or watchpoint",
            lambda r, a: r.motion_cont(BACKWARD)),
    Command("goto", ("g",), "goto N|+N|-N|P%|start|end: travel to instruction count N",
            lambda r, a: r.motion_goto(a)),
    # -- breakpoints -----------------------------------------------------------------------
    Command("break", ("b", "br"), "break LOCATION: stop at *ADDRESS, FUNCTION or FILE:LINE",
            lambda r, a: r.add_break(a, temporary=False), complete="location"),
    Command("tbreak", (), "tbreak LOCATION: a breakpoint deleted when first hit",
            lambda r, a: r.add_break(a, temporary=True), complete="location"),
    Command("watch", (), "watch EXPR|ADDRESS [LEN]: stop when the value changes",
            lambda r, a: r.add_watch(a, "write"), complete="expr"),
    Command("rwatch", (), "rwatch EXPR|ADDRESS [LEN]: stop when the memory is read",
            lambda r, a: r.add_watch(a, "read"), complete="expr"),
    Command("awatch", (), "awatch EXPR|ADDRESS [LEN]: stop when the memory is read or written",
            lambda r, a: r.add_watch(a, "access"), complete="expr"),
    Command("delete", ("d",), "delete [N...]: delete breakpoints (all without N)",
            lambda r, a: r.delete_breaks(a)),
    Command("disable", ("dis",), "disable [N...]: disable breakpoints", lambda r, a: r.enable_breaks(a, False)),
    Command("enable", ("en",), "enable [N...]: enable breakpoints", lambda r, a: r.enable_breaks(a, True)),
    # -- looking -----------------------------------------------------------------------------
    Command("info", ("i",), "info SUBCOMMAND: breakpoints, registers, frame, locals, sharedlibrary, checkpoints, trace",
            _info, complete="info"),
    Command("x", (), "x/FMT ADDRESS: examine memory (FMT: count, x d u o t c a f s i, size b h w g)",
            lambda r, a: r.examine(a), complete="expr", repeat=True),
    Command("print", ("p", "inspect"), "print[/FMT] EXPR: a value ($reg, variable, *ADDR, arr[i]; gdb for more)",
            lambda r, a: r.print_expr(a), complete="expr"),
    Command("ptype", (), "ptype EXPR: the type of an expression", lambda r, a: r.ptype(a), complete="expr"),
    Command("disassemble", ("disas",), "disassemble [LOCATION]: the function around pc (or LOCATION)",
            lambda r, a: r.disassemble(a), complete="location"),
    Command("list", ("l",), "list [LINE|FILE:LINE|FUNCTION]: source lines", lambda r, a: r.list_source(a),
            complete="location", repeat=True),
    Command("bt", ("backtrace", "where"), "bt [full]: the call stack", lambda r, a: r.backtrace(a)),
    Command("frame", ("f",), "frame [N]: select frame N of `bt` (print, info locals and info frame use it)",
            lambda r, a: r.select_frame(a)),
    Command("up", (), "up [N]: select the frame N levels out (towards main)", lambda r, a: r.select_frame(a, +1)),
    Command("down", ("do",), "down [N]: select the frame N levels in (towards the stop)",
            lambda r, a: r.select_frame(a, -1)),
    Command("regs", (), "regs: same as `info registers`", lambda r, a: r.info_registers(a)),
    Command("when", (), "when: the current instruction count, total, percent, function and line",
            lambda r, a: r.when()),
    Command("events", ("ev",), "events [KIND[,KIND]] [A-B|all]: recorded events around here (goto any icount)",
            lambda r, a: r.events(a), complete="events"),
    # -- time ------------------------------------------------------------------------------------
    Command("checkpoint", ("bookmark",), "checkpoint [NAME]: remember this position",
            lambda r, a: r.checkpoint(a)),
    Command("restart", (), "restart NAME: return to a checkpoint", lambda r, a: r.restart(a),
            complete="checkpoint"),
    Command("handle", (), "handle SIGNAL [stop|nostop]: whether a signal's delivery stops the replay\n"
            "Every signal the program received stops motions both ways, unless `nostop`\n"
            "(SIGALRM, SIGCHLD and other timers and notifications are `nostop` at first).\n"
            "The recording cannot change, so every recorded signal is delivered.",
            lambda r, a: _handle(r, a)),
    # -- the session -------------------------------------------------------------------------------
    Command("help", ("h", "?"), "help [COMMAND]: list commands, or describe one", lambda r, a: help_text(a),
            complete="command"),
    Command("quit", ("q", "exit"), "quit: leave the REPL", lambda r, a: r.quit()),
)


def lookup(word: str, table: Iterable[Command] = COMMANDS, what: str = "command") -> Command:
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


def help_text(arg: str) -> str:
    arg = arg.strip()
    if arg:
        word, _, rest = arg.partition(" ")
        cmd = lookup(word)
        if cmd.name == "info" and rest.strip():
            sub = lookup(rest.strip(), INFO_COMMANDS, what="info command")
            return sub.help
        aliases = f"\nAliases: {', '.join(cmd.aliases)}" if cmd.aliases else ""
        text = cmd.help + aliases
        if cmd.name == "info":
            text += "\n" + "\n".join(f"  {c.summary}" for c in INFO_COMMANDS)
        return text
    width = max(len(c.name) for c in COMMANDS) + 2
    lines = ["Commands (unique prefixes work; an empty line repeats stepping commands):"]
    for c in COMMANDS:
        alias = f" ({', '.join(c.aliases)})" if c.aliases else ""
        lines.append(f"  {c.name:<{width}}{c.summary.split(': ', 1)[-1]}{alias}")
    lines.append('Type "help COMMAND" for more.')
    return "\n".join(lines)


# -- completion ----------------------------------------------------------------------------
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


def build_completer(repl: "Repl") -> Completer:
    specs: dict[str, Completer | None] = {
        "location": _Dynamic(repl.location_words),
        "expr": _Dynamic(repl.expression_words),
        "checkpoint": _Dynamic(lambda: repl.tl.bookmarks().keys()),
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
