"""`ttdbg timeline` in a real headless browser (Debian's chromium), driven over the
DevTools protocol on a pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3/4):
the page loads without a script error or console error, shows a mark per logged
event and per query hit, and a click on a hit shows the `goto N` it copied.
Skipped when chromium is not installed."""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from query_support import ITERATIONS, QueryTrace

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="chromium is not installed")


class Browser:
    """A headless chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, profile: Path) -> None:
        def high(fd: int) -> int:
            moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
            os.close(fd)
            return moved
        commands_in, self._out = map(high, os.pipe())       # chromium reads fd 3
        self._in, answers_out = map(high, os.pipe())        # and writes fd 4

        def child() -> None:
            os.dup2(commands_in, 3)
            os.dup2(answers_out, 4)
        self.proc = subprocess.Popen(
            [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=child, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_in)
        os.close(answers_out)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed its pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._message(deadline)
            if m.get("id") == self._id:
                assert "error" not in m, m["error"]
                return m.get("result", {})
            self.events.append(m)

    def until(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._message(deadline))

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Page", "Log"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", {"url": url})
        self.until("Page.loadEventFired")

    def evaluate(self, expression: str) -> object:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def errors(self) -> list[dict]:
        return [e for e in self.events
                if e.get("method") == "Runtime.exceptionThrown"
                or (e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") in ("error", "assert"))
                or (e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error")]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (OSError, TimeoutError, EOFError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._in)
        os.close(self._out)


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    b = Browser(tmp_path / "profile")
    try:
        yield b
    finally:
        b.close()


def test_timeline_page_in_a_browser(recorded: QueryTrace, browser: Browser, tmp_path: Path) -> None:
    if recorded.flavour != "static":
        pytest.skip("one flavour is enough for the page")
    page = tmp_path / "t.html"
    run = recorded.ttdbg("timeline", recorded.trace, "-o", page, "--query", "writes watched")
    assert run.status == 0, run.err
    writes = recorded.ttdbg("query", recorded.trace, "events", "char_write", "--json")
    assert writes.status == 0, writes.err
    browser.open(page.as_uri())
    assert browser.errors() == []
    count = "document.querySelectorAll('rect.mark.%s').length"
    assert browser.evaluate(count % "query") == ITERATIONS
    assert browser.evaluate(count % "char_write") == len(writes.out.splitlines()) > 0
    assert browser.evaluate(count % "char_read") >= 1
    assert browser.evaluate(count % "keyframes") >= 1
    first = browser.evaluate("document.querySelector('rect.mark.query').getAttribute('data-goto')")
    assert browser.evaluate("document.querySelector('rect.mark.query title').textContent").startswith(
        f"{int(first):,}: hit #1 main at query_guest.c:")
    copied = browser.evaluate("(function () { document.querySelector('rect.mark.query')"
                              ".dispatchEvent(new MouseEvent('click')); "
                              "return document.getElementById('copied').textContent; })()")
    assert copied == f"copied: goto {first}"
    # Nothing was fetched from anywhere: the page is the file alone.
    assert browser.evaluate("performance.getEntriesByType('resource').length") == 0
    assert browser.errors() == []
