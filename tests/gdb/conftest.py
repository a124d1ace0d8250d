"""The real-gdb tier: a real gdb (driven through pygdbmi) against `ttdbg serve`.

Nothing is mocked: the guests in tests/guests/gdb_*.c are compiled with
gcc -g -O0 (static, and dynamic PIE), recorded with `python -m ttdbg record`
into a per-session temporary directory, and served by `python -m ttdbg serve
TRACE --port 0` started as a subprocess; the port comes from its
"connect with: ... target remote 127.0.0.1:PORT" line on stderr.

Fixtures:

- ``gdb_guest(name, linking)`` -> :class:`Guest` (binary + trace), built and
  recorded once per session;
- ``serve(trace, *flags)`` -> :class:`Server`, stopped at teardown;
- ``gdb(program)`` -> :class:`Gdb`, a pygdbmi session (``mi-async on``)
  whose :meth:`Gdb.cmd` runs one MI or CLI command and, for commands that
  resume, waits for the ``*stopped`` record;
- ``connected(name, linking)`` -> (Guest, Server, Gdb) already at the
  start of the trace.

The tier is skipped when gdb, pygdbmi or gcc is missing; a static build is
skipped when there is no static libc.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pygdbmi_controller = pytest.importorskip("pygdbmi.gdbcontroller")

from gdbtest_support import LINKINGS, REPO, Guest, source_line, ttdbg_env  # noqa: E402,F401

GUESTS = REPO / "tests" / "guests"
GDB = shutil.which("gdb")
GCC = shutil.which("gcc")
_CFLAGS = {"static": ["-static"], "dynamic": ["-fPIE", "-pie"]}
COMMAND_TIMEOUT = 60.0

if GDB is None:
    pytest.skip("gdb is not installed", allow_module_level=True)
if GCC is None:
    pytest.skip("gcc is not installed", allow_module_level=True)


# -- guests ----------------------------------------------------------------------------------
class GuestBuilder:
    """Compile tests/guests/gdb_<name>.c and record it, once per (name, linking)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.trace_dir = root / "traces"
        self.trace_dir.mkdir(parents=True, exist_ok=True)
        self._cache: dict[tuple[str, str], Guest] = {}
        self._lock = threading.Lock()

    def get(self, name: str, linking: str = "static") -> Guest:
        with self._lock:
            key = (name, linking)
            if key not in self._cache:
                self._cache[key] = self._build(name, linking)
            return self._cache[key]

    def _build(self, name: str, linking: str) -> Guest:
        source = GUESTS / f"gdb_{name}.c"
        binary = self.root / f"{name}-{linking}"
        cc = subprocess.run([GCC, "-g", "-O0", *_CFLAGS[linking], "-o", str(binary), str(source)],
                            capture_output=True, text=True, timeout=120)
        if cc.returncode != 0:
            if linking == "static":
                pytest.skip(f"cannot link statically here: {cc.stderr.strip()[-200:]}")
            raise RuntimeError(f"gcc failed for {source}:\n{cc.stderr}")
        trace = self.root / f"trace-{name}-{linking}"
        rec = subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", str(trace), str(binary)],
                             capture_output=True, cwd=self.root, env=ttdbg_env(self.trace_dir), timeout=300)
        if not (trace / "events.log").exists():
            raise RuntimeError(f"recording {binary} made no trace (status {rec.returncode}):\n"
                               f"{rec.stderr.decode(errors='replace')}")
        status = rec.returncode if rec.returncode >= 0 else 128 - rec.returncode
        return Guest(name, linking, binary, trace, status, source)


@pytest.fixture(scope="session")
def gdb_builder(tmp_path_factory: pytest.TempPathFactory) -> GuestBuilder:
    return GuestBuilder(tmp_path_factory.mktemp("gdb-guests"))


@pytest.fixture(scope="session")
def gdb_guest(gdb_builder: GuestBuilder) -> Callable[..., Guest]:
    return gdb_builder.get


# -- ttdbg serve -----------------------------------------------------------------------------
_CONNECT = re.compile(r"connect with: .*target remote \[?([\d.:a-f]+?)\]?:(\d+)'")


class Server:
    """`python -m ttdbg serve TRACE --port 0 ...` as a subprocess."""

    def __init__(self, trace: Path, *flags: str, workdir: Path) -> None:
        self.trace = trace
        self.stderr_path = workdir / f"serve-{os.getpid()}-{time.monotonic_ns()}.err"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ttdbg", "serve", str(trace), "--port", "0", *flags],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
            cwd=workdir, env=ttdbg_env(workdir))
        self.host, self.port = self._wait_for_port()

    def _wait_for_port(self, timeout: float = 60.0) -> tuple[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = _CONNECT.search(self.stderr)
            if m:
                return m.group(1), int(m.group(2))
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise AssertionError(f"ttdbg serve did not announce a port:\n{self.stderr}")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def wait(self, timeout: float = 10.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._stderr.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(trace: Path, *flags: str) -> Server:
        server = Server(trace, *flags, workdir=tmp_path)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# -- gdb through pygdbmi ---------------------------------------------------------------------
@dataclass
class Reply:
    """What one command produced."""

    command: str
    result: str                          # done, running, connected, error, exit
    payload: Any
    records: list[dict] = field(default_factory=list)
    stopped: dict | None = None          # the *stopped payload, for commands that resume

    @property
    def text(self) -> str:
        """Console, target and log stream output, joined."""
        return "".join(r["payload"] for r in self.records
                       if r["type"] in ("console", "target", "log") and isinstance(r["payload"], str))

    @property
    def error(self) -> str | None:
        if self.result == "error":
            return (self.payload or {}).get("msg", "")
        return None

    @property
    def frame(self) -> dict:
        return (self.stopped or {}).get("frame", {})

    @property
    def line(self) -> int | None:
        line = self.frame.get("line")
        return int(line) if line is not None else None

    @property
    def func(self) -> str | None:
        return self.frame.get("func")

    @property
    def reason(self) -> str | None:
        return (self.stopped or {}).get("reason")

    @property
    def value(self) -> str:
        return (self.payload or {}).get("value", "")


class Gdb:
    """A real gdb over pygdbmi, one command at a time.

    Commands starting with "-" are MI commands; anything else goes through
    ``-interpreter-exec console`` so CLI output lands in :attr:`Reply.text`.
    Each command carries a token; when its result is ``^running`` the call
    waits for the ``*stopped`` record as well.
    """

    def __init__(self, program: Path | None, extra: list[str] | None = None, *, mi_async: bool = True,
                 gdb_path: str | None = None) -> None:
        argv = [gdb_path or GDB, "--nx", "--quiet", "--interpreter=mi3", *(extra or [])]
        if program is not None:
            argv.append(str(program))
        self.ctrl = pygdbmi_controller.GdbController(command=argv, time_to_check_for_additional_output_sec=0.01)
        self.transcript: list[str] = []
        self._token = 100
        self._pending: list[dict] = []
        self.cmd(f"-gdb-set mi-async {'on' if mi_async else 'off'}")
        self.cmd("-gdb-set confirm off")
        self.cmd("-gdb-set pagination off")
        self.cmd("-gdb-set width 0")
        # A program gdb runs natively (to compare with) writes to gdb's own stdout, where its
        # bytes can break an MI record (seen: "111helper vforked" took `111^running`'s token).
        self.cmd("-inferior-tty-set /dev/null")

    @property
    def process(self) -> subprocess.Popen:
        return self.ctrl.gdb_process

    def _read(self, timeout: float) -> list[dict]:
        if self._pending:
            out, self._pending = self._pending, []
            return out
        records = self.ctrl.get_gdb_response(timeout_sec=timeout, raise_error_on_timeout=False)
        for r in records:
            self.transcript.append(f"  {r['type']} {r.get('message')} {r.get('token')} {r['payload']!r}")
        return records

    def send(self, command: str) -> int:
        self._token += 1
        token = self._token
        if command.startswith("-"):
            line = f"{token}{command}"
        else:
            escaped = command.replace("\\", "\\\\").replace('"', '\\"')
            line = f'{token}-interpreter-exec console "{escaped}"'
        self.transcript.append(f"> {line}")
        self.ctrl.write(line, read_response=False)
        return token

    def cmd(self, command: str, timeout: float = COMMAND_TIMEOUT, wait_stop: bool = True) -> Reply:
        token = self.send(command)
        return self.collect(command, token, timeout, wait_stop)

    def collect(self, command: str, token: int, timeout: float = COMMAND_TIMEOUT,
                wait_stop: bool = True) -> Reply:
        deadline = time.monotonic() + timeout
        reply: Reply | None = None
        records: list[dict] = []
        while time.monotonic() < deadline:
            batch = self._read(0.05)
            for i, r in enumerate(batch):
                records.append(r)
                if r["type"] == "result" and r.get("token") == token:
                    reply = Reply(command, r["message"], r["payload"], records)
                    early = [x for x in records if x["type"] == "notify" and x["message"] == "stopped"]
                    if early:                    # e.g. -target-select: *stopped, then ^connected
                        reply.stopped = early[-1]["payload"]
                    if reply.result != "running" or not wait_stop:
                        self._pending = batch[i + 1:] + self._pending
                        return reply
                elif reply is not None and r["type"] == "notify" and r["message"] == "stopped":
                    reply.stopped = r["payload"]
                    self._pending = batch[i + 1:] + self._pending
                    return reply
            if self.process.poll() is not None and not batch:
                break
        raise AssertionError(f"gdb gave no {'stop' if reply else 'result'} for {command!r} "
                             f"within {timeout} s\n{self.dump()}")

    def wait_stopped(self, timeout: float = COMMAND_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = self._read(0.05)
            for i, r in enumerate(batch):
                if r["type"] == "notify" and r["message"] == "stopped":
                    self._pending = batch[i + 1:] + self._pending
                    return r["payload"]
        raise AssertionError(f"no *stopped within {timeout} s\n{self.dump()}")

    def ok(self, command: str, timeout: float = COMMAND_TIMEOUT) -> Reply:
        """Run a command that must not fail."""
        reply = self.cmd(command, timeout)
        assert reply.result != "error", f"{command!r} failed: {reply.error}\n{self.dump()}"
        return reply

    def connect(self, address: str) -> Reply:
        return self.ok(f"-target-select remote {address}")

    def pc(self) -> int:
        return int(self.ok("-data-evaluate-expression $pc").value.split()[0], 16)

    def eval(self, expression: str) -> str:
        return self.ok(f"-data-evaluate-expression {expression}").value

    def when(self) -> int:
        text = self.ok("monitor when").text
        m = re.search(r"Current instruction: ([\d,]+) of ([\d,]+)", text)
        assert m, f"unexpected `monitor when` output: {text!r}"
        return int(m.group(1).replace(",", ""))

    def dump(self, last: int = 80) -> str:
        return "\n".join(self.transcript[-last:])

    def close(self) -> None:
        proc = self.process
        if proc is None:
            return
        try:
            if proc.poll() is None:
                self.ctrl.exit()
        except Exception:  # noqa: BLE001 - best effort at teardown
            if proc.poll() is None:
                proc.kill()


@pytest.fixture
def gdb() -> Iterator[Callable[..., Gdb]]:
    sessions: list[Gdb] = []

    def start(program: Path | None, extra: list[str] | None = None, **kw: Any) -> Gdb:
        g = Gdb(program, extra, **kw)
        sessions.append(g)
        return g

    yield start
    for g in sessions:
        g.close()


@pytest.fixture
def connected(gdb_guest, serve, gdb) -> Callable[..., tuple[Guest, Server, Gdb]]:
    """Build/record a guest, serve its trace once, connect a gdb to it."""

    def make(name: str, linking: str = "static", *flags: str, **kw: Any) -> tuple[Guest, Server, Gdb]:
        guest = gdb_guest(name, linking)
        server = serve(guest.trace, "--once", *flags)
        g = gdb(guest.binary, **kw)
        g.connect(server.address)
        return guest, server, g

    return make


@pytest.fixture
def native(gdb_guest, gdb) -> Callable[..., tuple[Guest, Gdb]]:
    """The same guest run natively under gdb, stopped at main with `record full` on."""

    def make(name: str, linking: str = "static") -> tuple[Guest, Gdb]:
        guest = gdb_guest(name, linking)
        g = gdb(guest.binary)
        g.ok("-gdb-set startup-with-shell off")
        g.ok("break main")
        reply = g.ok("-exec-run")
        if reply.reason != "breakpoint-hit":
            pytest.skip(f"cannot run {guest.binary} natively under gdb: {reply.text or reply.stopped}")
        rec = g.cmd("record full")
        if rec.error:
            pytest.skip(f"gdb's `record full` is unavailable here: {rec.error}")
        return guest, g

    return make
