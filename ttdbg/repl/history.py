"""The recorded history: `when`, `events`, `checkpoint`, `restart`, `info checkpoints`.

`when`, `checkpoint` and `restart` are the DebugSession's (gdb's `monitor`
commands use the same); this module only words them for the REPL.
"""

from __future__ import annotations

import re

from replay import EventKind

from ..session import NoSuchCheckpoint
from .frames import where
from .state import ReplState
from .stops import report
from .table import CommandError, Rows, parse_int

ROWS = Rows()


@ROWS.command("when", (), "when: the current instruction count, total, percent, function and line")
def when(r: ReplState, arg: str) -> str:
    now = r.session.when()
    return f"{now}, pc {now.pc:#x} in {where(r)}"


@ROWS.command("events", ("ev",), "events [KIND[,KIND]] [A-B|all]: recorded events around here (goto any icount)",
              complete="events")
def events(r: ReplState, arg: str) -> str:
    kinds = None
    lo = hi = None
    show_all = False
    for w in arg.split():
        if w == "all":
            show_all = True
        elif re.fullmatch(r"[\d,_]+(-|\.\.)[\d,_]+", w):
            a, b = re.split(r"-|\.\.", w)
            lo, hi = parse_int(a), parse_int(b)
        else:
            try:
                kinds = {EventKind.named(k) for k in w.split(",") if k.strip()}
            except KeyError as exc:
                names = ", ".join(k.name.lower() for k in EventKind)
                raise CommandError(f"Unknown event kind {exc.args[0]!r} (one of: {names}).") from None
    evs = list(enumerate(r.session.contents.events))
    if kinds is not None:
        evs = [(i, e) for i, e in evs if e.kind in kinds]
    if lo is not None and hi is not None:
        evs = [(i, e) for i, e in evs if lo <= e.icount <= hi]
    elif not show_all:
        pos = r.tl.position
        split = next((k for k, (_, e) in enumerate(evs) if e.icount > pos), len(evs))
        evs = evs[max(split - 5, 0):split + 5]
    if not evs:
        return "No events."
    width = len(f"{evs[-1][1].icount:,}")
    here = r.style(f"{'=> here':>{width}}  (icount {r.tl.position:,})", "bold")
    out = []
    marked = False
    for i, e in evs:
        if not marked and e.icount > r.tl.position:
            out.append(here)
            marked = True
        out.append(f"{e.icount:>{width},} #{i:<5} {e.describe()}")
    if not marked:
        out.append(here)
    out.append("(goto ICOUNT travels to an event)")
    return "\n".join(out)


@ROWS.command("checkpoint", ("bookmark",), "checkpoint [NAME]: remember this position")
def checkpoint(r: ReplState, arg: str) -> str:
    mark = r.session.checkpoint(arg.strip() or None)
    return f"Checkpoint {mark.name!r} at instruction {mark.icount:,} ({where(r)})."


@ROWS.command("restart", (), "restart NAME: return to a checkpoint", complete="checkpoint")
def restart(r: ReplState, arg: str) -> str:
    name = arg.strip()
    if not name:
        raise CommandError("Argument required (a checkpoint name; see `info checkpoints`).")
    try:
        stop = r.session.restart(name)
    except NoSuchCheckpoint:
        raise CommandError(f'No checkpoint named "{name}".') from None
    return report(r, stop, f"Restarted from {name!r}.", "")


def info_checkpoints(r: ReplState, arg: str) -> str:
    marks = r.session.checkpoints()
    if not marks:
        return "No checkpoints."
    return "\n".join(str(m) for m in marks)
