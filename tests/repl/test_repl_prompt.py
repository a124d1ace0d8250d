"""The prompt: completion, prefixes and suggestions through prompt_toolkit pipe input."""

from __future__ import annotations

import threading
import time

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from ttdbg.repl import build_completer, interact, make_prompt_session


def _run(repl, *chunks: str) -> list[str]:
    """Type `chunks` into a live prompt, pausing between them (completion runs asynchronously)."""
    shown: list[str] = []
    with create_pipe_input() as inp:
        session = make_prompt_session(repl, input=inp, output=DummyOutput(), history=InMemoryHistory())
        worker = threading.Thread(target=interact, args=(repl, session, shown.append), daemon=True)
        worker.start()
        for chunk in chunks:
            inp.send_text(chunk)
            time.sleep(0.3)
        inp.close()
        worker.join(timeout=30)
    assert not worker.is_alive()
    return shown


def _words(completer, text: str) -> list[str]:
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))]


def test_completion_from_the_table(repl_guests, make_repl):
    repl = make_repl(repl_guests["dynamic"])
    c = build_completer(repl)
    assert {"reverse-continue", "reverse-step", "reverse-finish"} <= set(_words(c, "reverse-"))
    assert "squ" not in _words(c, "break squ") and "square" in _words(c, "break squ")
    assert "tally.c:" in _words(c, "break tal")
    assert _words(c, "info reg") == ["registers"]
    assert "counter" in _words(c, "print cou")
    repl.execute("checkpoint here")
    assert _words(c, "restart h") == ["here"]


def test_pipe_session_tab_prefix_and_suggestion(repl_guests, make_repl):
    repl = make_repl(repl_guests["static"])
    shown = _run(repl, "brea\t", " square\r", "cont\r", "backt\r", "contniue\r", "quit\r")
    text = "\n".join(shown)
    assert "Breakpoint 1 at" in shown[0]                  # Tab completed `brea` to `break`
    assert "Breakpoint 1, square () at tally.c:10" in text
    assert "#0  square () at tally.c:10" in text          # unique prefix of `backtrace`
    assert 'Undefined command: "contniue". Did you mean "continue"?' in text
    assert repl.done


def test_end_of_input_quits(repl_guests, make_repl):
    repl = make_repl(repl_guests["static"])
    shown = _run(repl, "when\r")
    assert shown[0].startswith("Current instruction: 0 of") and shown[-1] == "quit"
    assert "icount 0 /" in repl.toolbar() and "_start" in repl.toolbar()
