"""One session at a real (pseudo-)terminal, typed as a person would."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-B]|\x1b[=>]|\r")


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                                     start_new_session=True)
        os.close(slave)
        self.seen = b""

    def expect(self, pattern: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            text = _ANSI.sub(b"", self.seen).decode(errors="replace")
            m = rx.search(text)
            if m:
                self.seen = self.seen[len(self.seen):]    # consume everything seen so far
                return text
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; screen so far:\n{text[-2000:]}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    raise AssertionError(f"the REPL went away waiting for {pattern!r}:\n{text[-2000:]}") from None

    def type(self, line: str) -> None:
        for ch in line:
            os.write(self.master, ch.encode())
            time.sleep(0.005)
        os.write(self.master, b"\r")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=20)
        finally:
            os.close(self.master)


def test_a_person_at_a_terminal(repl_guests, tmp_path):
    rec = repl_guests["static"]
    env = dict(os.environ, HOME=str(tmp_path), TERM="xterm", NO_COLOR="1", PROMPT_TOOLKIT_NO_CPR="1",
               COLUMNS="120", LINES="40")
    term = Terminal([sys.executable, "-m", "ttdbg", "repl", rec.trace], env)
    try:
        term.expect(r"\(ttdbg\)")
        term.type("break bump")
        term.expect(r"Breakpoint 1 at 0x[0-9a-f]+: file tally.c, line 16.[\s\S]*\(ttdbg\)")
        term.type("continue")
        term.expect(r"Breakpoint 1, bump \(\) at tally.c:16[\s\S]*\(ttdbg\)")
        term.type("watch counter")
        term.expect(r"Hardware watchpoint 2: counter[\s\S]*\(ttdbg\)")
        term.type("delete 1")
        term.expect(r"\(ttdbg\)")
        term.type("continue")
        term.expect(r"Old value = 0\s+New value = 1[\s\S]*\(ttdbg\)")
        term.type("continue")
        term.expect(r"Old value = 1\s+New value = 5[\s\S]*\(ttdbg\)")
        term.type("reverse-continue")
        screen = term.expect(r"Old value = 5\s+New value = 1[\s\S]*\(ttdbg\)")
        assert "17\t    counter += values[i];" in screen
        term.type("print counter")
        term.expect(r"\$\d+ = 1\s[\s\S]*\(ttdbg\)")
        term.type("print i")
        term.expect(r"\$\d+ = 2\s[\s\S]*\(ttdbg\)")
        term.type("quit")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    assert os.path.exists(tmp_path / ".local" / "share" / "ttdbg" / "repl_history")
