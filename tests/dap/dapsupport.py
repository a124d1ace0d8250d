"""What the DAP tests share: the guest doubling.c (its path and marked lines), recording
it, and a scripted DAP client that drives `python -m ttdbg dap` over stdin and stdout.

(A module of its own, not conftest.py: test modules import it, and `conftest`
is a name every test directory has.)
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "doubling.c")
ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 60


def marked_line(marker: str) -> int:
    """The line of doubling.c carrying the comment `marker`."""
    with open(SOURCE) as f:
        for number, text in enumerate(f, 1):
            if marker in text:
                return number
    raise KeyError(marker)


@dataclass(frozen=True)
class Recorded:
    program: str
    trace: str
    native_stdout: str
    native_status: int


def _record(tmp: str, source: str) -> Recorded:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is needed to build the DAP test guests")
    program = os.path.join(tmp, os.path.splitext(os.path.basename(source))[0])
    subprocess.run([gcc, "-g", "-O0", "-o", program, source], check=True)
    native = subprocess.run([program], capture_output=True, timeout=TIMEOUT)
    trace = program + "-trace"
    subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", trace, program],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL, timeout=TIMEOUT)
    return Recorded(program, trace, native.stdout.decode(), native.returncode)


class DapClient:
    """Content-Length framed JSON requests in, responses and events out, with timeouts."""

    def __init__(self, *argv: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "ttdbg", "dap", *argv], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.seq = 0
        self.events: list[dict] = []         # received, not yet waited for
        self.seen: list[dict] = []           # every event, in order
        self._inbox: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    self._inbox.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            body = out.read(int(headers[b"content-length"]))
            self._inbox.put(json.loads(body))

    def write_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, command: str, **arguments) -> int:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self.write_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def next_message(self, timeout: float = TIMEOUT) -> dict | None:
        message = self._inbox.get(timeout=timeout)
        if message is not None and message.get("type") == "event":
            self.seen.append(message)
        return message

    def request(self, command: str, **arguments) -> dict:
        """Send a request; its response (events arriving meanwhile are kept)."""
        seq = self.send(command, **arguments)
        while True:
            message = self.next_message()
            assert message is not None, f"the adapter exited before answering {command}: {self.stderr()}"
            if message.get("type") == "response" and message.get("request_seq") == seq:
                return message
            self.events.append(message)

    def ok(self, command: str, **arguments) -> dict:
        response = self.request(command, **arguments)
        assert response["success"], response
        return response.get("body", {})

    def wait_event(self, name: str) -> dict:
        while True:
            for i, message in enumerate(self.events):
                if message.get("event") == name:
                    return self.events.pop(i).get("body", {})
            message = self.next_message()
            assert message is not None, f"the adapter exited while waiting for {name}: {self.stderr()}"
            self.events.append(message)

    def output(self, category: str) -> str:
        return "".join(e["body"]["output"] for e in self.seen
                       if e.get("event") == "output" and e["body"].get("category") == category)

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode("utf-8", "replace")

    def finish(self, timeout: float = TIMEOUT) -> int:
        """Close our end and wait for the adapter's exit status."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
