"""`query ...` in the REPL (the grammar of ttdbg/query.py), then `goto #N`."""

from __future__ import annotations

import shlex

from .state import ReplState
from .table import CommandError, Rows

ROWS = Rows()


@ROWS.command("query", ("qy",), "query KIND ARGS... [--from N] [--to M] [--json] [--jobs N]: every hit over the "
              "whole trace\nKIND: syscalls [NAME], events [KIND], exec ADDRESS, lines FILE:LINE, writes LOC[:LEN], "
              "reads LOC[:LEN], calls FUNCTION, values EXPR at LOC.\nHits are numbered: `goto #N` travels to one.")
def query(r: ReplState, arg: str) -> str:
    from ..query import QueryError, parse_question, render_json, render_table  # query.py imports the REPL
    from ..query_cli import ask, runner_for
    try:
        question = parse_question(shlex.split(arg))
    except (QueryError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    notes: list[str] = []
    if r.view.query_runner is None:
        r.view.query_runner = runner_for(r.session, notes.append)
    try:
        answer = ask(r.view.query_runner, question)
    except QueryError as exc:
        raise CommandError(str(exc)) from None
    r.view.query_hits = answer.rows
    body = render_json(answer.rows) if question.json else render_table(question.kind, answer.rows)
    tail = [f"note: {n}" for n in (*notes, *answer.notes)] + [answer.summary]
    return "\n".join([body, *tail]) if body else "\n".join(tail)
