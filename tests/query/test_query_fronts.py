"""`query` and `goto #N` in the REPL (gdb's `monitor query` is tests/gdb/test_gdb_query.py)."""

from __future__ import annotations

import json
import re

from query_support import ITERATIONS, QueryTrace

from replay import open_trace
from ttdbg.repl import Repl
from ttdbg.session import DebugSession


def test_repl_query_then_goto_hit(recorded: QueryTrace) -> None:
    repl = Repl(DebugSession(open_trace(str(recorded.trace))), use_gdb=False)
    try:
        out = repl.execute("query writes watched")
        lines = [line for line in out.splitlines() if line.startswith("#")]
        assert len(lines) == ITERATIONS and f"{ITERATIONS} hits" in out
        icount = int(re.split(r"\s+", lines[4])[1].replace(",", ""))
        repl.execute("goto #5")
        assert f"{icount + 1:,}" in repl.execute("when")
        assert repl.execute("print watched").endswith("= 41")
        out = repl.execute("query calls add --json")
        assert out.count('"return_icount"') == ITERATIONS
        assert "no hit #999" in repl.execute("goto #999")
        assert "unknown query kind" in repl.execute("query nonsense")
    finally:
        repl.close()


def test_rows_streamed_as_found_equal_the_kept_ones(recorded: QueryTrace) -> None:
    """The CLI prints a scan's rows as segments finish (ask with emit); the REPL keeps them:
    same rows, same numbers, also for calls whose entry and return fall in different segments."""
    from ttdbg.query import parse_question
    from ttdbg.query_cli import runner_for
    session = DebugSession(open_trace(str(recorded.trace)))
    runner = runner_for(session, lambda m: None)
    for words in (["calls", "add", "--jobs", "2"], ["writes", "watched", "--jobs", "2"]):
        kept = runner.ask(parse_question(words))
        streamed: list[dict] = []
        answer = runner.ask(parse_question(words), emit=streamed.extend)
        assert answer.rows == [] and streamed == kept.rows and len(streamed) == ITERATIONS
        assert [r["index"] for r in streamed] == list(range(1, ITERATIONS + 1))
        assert "(4 segments)" in answer.summary and f"{ITERATIONS} hits" in answer.summary


def _runner(recorded: QueryTrace):
    from ttdbg.query_cli import runner_for
    return runner_for(DebugSession(open_trace(str(recorded.trace))), lambda m: None)


def test_rows_made_in_the_workers_equal_the_rows_rendered_here(recorded: QueryTrace) -> None:
    """The CLI's JSON and table lines are made in the scan's workers (RowMaker) and only
    numbered in the parent: the same text as rendering the REPL's rows, for each kind."""
    from ttdbg.query import parse_question, render_json, render_table
    runner = _runner(recorded)
    line = recorded.line_of("QUERY-ADD-RETURN")
    for words in (["writes", "watched"], ["reads", "watched"], ["writes", "inbuf:8"], ["calls", "add"],
                  ["exec", "add"], ["lines", f"query_guest.c:{line}"], ["values", "b", "at", "add"]):
        q = parse_question([*words, "--jobs", "2"])
        rows = runner.ask(q).rows
        assert rows, words
        for form, text in (("json", render_json(rows)), ("table", render_table(q.kind, rows))):
            lines: list[str] = []
            answer = runner.ask(q, emit=lines.extend, form=form)
            assert "\n".join(lines) == text, (words, form)
        assert re.search(r"\(4 segments\); CPU s: here \d+\.\d\d .*workers \d+\.\d\d \+ \d+\.\d\d", answer.summary)


def test_a_call_returning_segments_later(recorded: QueryTrace) -> None:
    """main's entry is in the first segment and its return in the last, with every
    add() call opened and closed in between: paired in the parent across segments."""
    from ttdbg.query import parse_question
    runner = _runner(recorded)
    adds = runner.ask(parse_question(["calls", "add", "--jobs", "2"])).rows
    for form in ("rows", "json", "table"):
        got: list = []
        answer = runner.ask(parse_question(["calls", "main", "--jobs", "2"]), emit=got.extend, form=form)
        assert len(got) == 1 and "(4 segments)" in answer.summary
        if form == "json":
            row = json.loads(got[0])
            assert got[0].endswith(f', "return": 0, "return_icount": {row["return_icount"]}, "index": 1}}')
        elif form == "table":
            assert "return=0  return_icount=@" in got[0] and got[0].startswith("#1 ")
            continue
        else:
            row = got[0]
        assert row["return"] == 0 and row["icount"] < adds[0]["icount"]
        assert row["return_icount"] > adds[-1]["return_icount"]
    one = runner.ask(parse_question(["calls", "main", "--jobs", "1"])).rows
    two = runner.ask(parse_question(["calls", "main", "--jobs", "2"])).rows
    assert one == two
