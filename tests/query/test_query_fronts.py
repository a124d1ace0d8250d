"""`query` and `goto #N` in the REPL (gdb's `monitor query` is tests/gdb/test_gdb_query.py)."""

from __future__ import annotations

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
