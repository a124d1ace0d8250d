"""Signals in the REPL: gdb's `handle` command (which deliveries stop the replay) and their names.

A signal delivered to a handler stops every motion (forward and reverse)
unless it is passed (`handle SIGUSR1 nostop`), like gdb's own table, kept
as the Timeline's `pass_signals`.  The recording cannot change, so
"pass"/"nopass" have no effect: every recorded delivery is made.
"""

from __future__ import annotations

import signal as _signal

from replay import Timeline

from .state import ReplState
from .table import CommandError, Rows

ROWS = Rows()

_STOP_WORDS = {"stop": True, "print": True, "nostop": False, "noprint": False}
_NO_EFFECT = frozenset({"pass", "nopass", "noignore", "ignore"})


def signal_number(word: str) -> int:
    """SIGUSR1, USR1 or 10 -> 10 (Linux numbering)."""
    if word.isdigit():
        n = int(word)
        if 1 <= n <= 64:
            return n
        raise CommandError(f'Only signals 1-64 are valid; "{word}" is not.')
    name = word.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(_signal.Signals[name])
    except KeyError:
        raise CommandError(f'Unrecognized or ambiguous flag word: "{word}".') from None


def describe(signum: int) -> str:
    try:
        name = _signal.Signals(signum).name
    except ValueError:
        name = f"SIG{signum}"
    return f"{name}, {_signal.strsignal(signum) or name}"


@ROWS.command("handle", (), "handle SIGNAL [stop|nostop]: whether a signal's delivery stops the replay\n"
              "Every signal the program received stops motions both ways, unless `nostop`\n"
              "(SIGALRM, SIGCHLD and other timers and notifications are `nostop` at first).\n"
              "The recording cannot change, so every recorded signal is delivered.")
def handle_command(r: ReplState, arg: str) -> str:
    return handle(r.tl, arg)


def handle(tl: Timeline, arg: str) -> str:
    """`handle SIGNAL... [stop|nostop|print|noprint|pass|nopass]`; shows the signals' rows."""
    words = arg.split()
    signals = [signal_number(w) for w in words if w.lower() not in _STOP_WORDS and w.lower() not in _NO_EFFECT]
    if not signals:
        raise CommandError("Argument required (signal and action to apply).")
    stops = [_STOP_WORDS[w.lower()] for w in words if w.lower() in _STOP_WORDS]
    passed = set(tl.pass_signals)
    if stops:
        for n in signals:
            (passed.discard if stops[-1] else passed.add)(n)
        tl.pass_signals = frozenset(passed)
    rows = ["Signal        Stop\tPrint\tPass to program\tDescription"]
    for n in signals:
        stop = "No" if n in tl.pass_signals else "Yes"
        name, _, text = describe(n).partition(", ")
        rows.append(f"{name:<14}{stop}\t{stop}\tYes\t\t{text}")
    return "\n".join(rows)
