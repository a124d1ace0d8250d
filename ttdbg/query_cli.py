"""`ttdbg index` and `ttdbg query`, and the query runner the REPL and gdb share.

`index` builds the trace's keyframes (replay.build_keyframes) with progress
on stderr; `query` asks one question (query.py) and prints a table, or JSON
lines with --json, and a summary on stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from replay import ReplayError, TraceDir, build_keyframes, open_keyframes, open_trace

from .query import KINDS, Answer, QueryError, QueryRunner, Question, parse_question, render_json, render_table
from .query_rows import ImageSource
from .session import DebugSession
from .solibs import ImageSymbols, SharedLibraries
from .symbols import SymbolError, Symbols


class IndexProgress:
    """`ttdbg: indexing  42.0% 1,234,567 instructions` on stderr, at most once a second."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._last = 0.0
        self._shown = False

    def __call__(self, icount: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.5:
            return
        self._last = now
        sys.stderr.write(f"\rttdbg: indexing {100 * icount / max(total, 1):5.1f}% {icount:,} instructions  ")
        sys.stderr.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def index_trace(trace: TraceDir, say: Callable[[str], None], force: bool = False) -> int:
    if not force and open_keyframes(trace, say) is not None:
        say(f"the keyframes of {trace.path} are up to date (--force rebuilds them)")
        return 0
    progress = IndexProgress(sys.stderr.isatty())
    try:
        stats = build_keyframes(trace, progress=progress)
    finally:
        progress.done()
    say(f"indexed {trace.path}: {stats.count} keyframes every {stats.interval:,} instructions, "
        f"{stats.bytes_on_disk:,} bytes ({stats.blobs:,} distinct blobs) in {stats.seconds:.2f} s")
    return 0


def runner_for(session: DebugSession, note: Callable[[str], None]) -> QueryRunner:
    """A query runner over a session's trace, with the program's (and libraries') symbols."""
    symbols = None
    data = session.read_captured(session.program)
    if data is not None:
        try:
            symbols = Symbols(data, session.program)
        except SymbolError:
            symbols = None
    name_at = symbols.name_at if symbols is not None else None
    h = session.header
    regions_cache: list = []
    if h.interpreter:
        tl = session.timeline

        def regions():
            if not regions_cache:
                here = tl.position
                tl.seek(tl.end.icount)
                regions_cache.extend(tl.memory_map())
                tl.seek(here)
            return regions_cache
        libraries = SharedLibraries(session.read_captured, session.files, regions, lambda: 0,
                                    session.program, h.interpreter)
        name_at = ImageSymbols(symbols, libraries).name_at
    # The same, for the scan's workers to name places in their rows (the map read once, when sent).
    source = ImageSource(session.trace.path, h.program, h.program_sha256, h.interpreter,
                         {path: f.sha256 for path, f in session.files.items()},
                         regions if h.interpreter else None)
    return QueryRunner(session.trace, session.contents, session.timeline, symbols, name_at, note, source)


def split_trace(words: list[str]) -> tuple[str | None, list[str]]:
    """`[TRACE] KIND ...`: a first word that is not a kind is the trace."""
    if words and words[0] not in KINDS and not words[0].startswith("-"):
        return words[0], words[1:]
    return None, words


def run_query(words: list[str], say: Callable[[str], None],
              choose_pid: Callable[[TraceDir], int | None] = lambda trace: None) -> int:
    path, words = split_trace(words)
    try:
        question = parse_question(words)
    except QueryError as exc:
        say(str(exc))
        return 2
    trace = open_trace(path)
    session = DebugSession(trace, pid=choose_pid(trace))
    runner = runner_for(session, say)
    shown = 0

    def show(lines: list[str]) -> None:   # a scan's rows, made in its workers, printed as each part is found
        nonlocal shown
        shown += len(lines)
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    try:
        answer = ask(runner, question, show, "json" if question.json else "table")
    except QueryError as exc:
        say(str(exc))
        return 2
    out = render_json(answer.rows) if question.json else render_table(question.kind, answer.rows)
    if out and not (shown and not answer.rows):
        print(out, flush=True)
    sys.stdout.flush()
    for n in answer.notes:
        say(f"note: {n}")
    say(answer.summary)
    return 0


def ask(runner: QueryRunner, question: Question, emit: Callable[[list], None] | None = None,
        form: str = "rows") -> Answer:
    try:
        return runner.ask(question, emit=emit, form=form)
    except ReplayError:
        raise
    except (SymbolError, ValueError) as exc:
        raise QueryError(str(exc)) from None

