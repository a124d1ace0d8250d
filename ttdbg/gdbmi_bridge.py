"""gdb as an expression evaluator for the REPL, through the MI interface.

C expressions, types and DWARF locations are gdb's job; the REPL only
moves in time.  When gdb is installed this starts one gdb (pygdbmi, MI
mode) connected to a private stub on a loopback port, serving the *same*
DebugSession as the REPL.  The two never run the timeline at once: gdb is
only asked to evaluate while the REPL is stopped (gdb never resumes, so it
never inserts breakpoints), and after every REPL motion `refresh()` tells
gdb to drop its register, frame and memory caches.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time

from gdbstub import GdbServer
from replay import ReplayError

from .serve import serve_session
from .session import DebugSession
from .sysroot import build_sysroot

log = logging.getLogger(__name__)


class BridgeError(Exception):
    """gdb is missing, failed to start, or did not answer (one-line message)."""


class GdbBridge:
    def __init__(self, session: DebugSession, gdb: str = "gdb", timeout: float = 20.0) -> None:
        self.session = session
        self.gdb = gdb
        self.timeout = timeout
        self._controller = None
        self._server: GdbServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._token = 100
        self.failed: str | None = None
        self._stale = False

    @staticmethod
    def available(gdb: str = "gdb") -> bool:
        return shutil.which(gdb) is not None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._controller is not None:
            return
        if self.failed:
            raise BridgeError(self.failed)
        path = shutil.which(self.gdb)
        if path is None:
            self.failed = f"gdb ({self.gdb}) is not installed"
            raise BridgeError(self.failed)
        try:
            from pygdbmi.gdbcontroller import GdbController
        except ImportError:
            self.failed = "pygdbmi is not installed"
            raise BridgeError(self.failed) from None
        self._server, _target = serve_session(self.session, once=True)
        host, port = self._server.address
        self._thread = threading.Thread(target=self._server.serve_one, name="ttdbg-repl-stub", daemon=True)
        self._thread.start()
        # Give gdb the recorded program image, so its symbols match the recording.
        self._tmp = tempfile.TemporaryDirectory(prefix="ttdbg-repl-")
        try:
            program = build_sysroot(self.session, self._tmp.name)   # SysrootError for a hostile trace
            self._controller = GdbController(command=[path, "--nx", "-q", "--interpreter=mi3"],
                                             time_to_check_for_additional_output_sec=0.05)
            for cmd in ("-gdb-set confirm off", "-gdb-set pagination off", "-gdb-set width 0",
                        "-gdb-set auto-solib-add off", "-gdb-set breakpoint always-inserted off",
                        f'-gdb-set sysroot {self._tmp.name}',
                        f'-file-exec-and-symbols "{program}"',
                        f"-target-select remote {host}:{port}"):
                self._mi(cmd)
        except (BridgeError, OSError, ValueError, ReplayError) as exc:
            self.failed = f"cannot start gdb: {exc}"
            self.close()
            raise BridgeError(self.failed) from None

    def close(self) -> None:
        if self._controller is not None:
            try:
                self._controller.write("-target-disconnect", read_response=False)
                self._controller.exit()
            except Exception as exc:
                log.debug("gdb exit: %s", exc)
            self._controller = None
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # -- talking -----------------------------------------------------------------------------
    def _mi(self, command: str) -> tuple[str, str, str]:
        """Send one MI command; (result class, console text, error message)."""
        assert self._controller is not None
        self._token += 1
        token = self._token
        self._controller.write(f"{token}{command}", read_response=False)
        console: list[str] = []
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for r in self._controller.get_gdb_response(timeout_sec=0.2, raise_error_on_timeout=False):
                if r.get("type") == "console" and r.get("payload"):
                    console.append(str(r["payload"]))
                elif r.get("type") == "result" and r.get("token") == token:
                    payload = r.get("payload") or {}
                    msg = payload.get("msg", "") if isinstance(payload, dict) else ""
                    return str(r.get("message")), "".join(console), msg
        raise BridgeError(f"gdb did not answer {command!r}")

    def refresh(self) -> None:
        """The REPL moved: gdb must re-read registers and memory."""
        self._stale = True

    def console(self, command: str) -> str:
        """Run a gdb CLI command while stopped; its output, or raise BridgeError with gdb's message."""
        self.start()
        if self._stale:
            for cmd in ("maint flush register-cache", "maint flush dcache"):
                self._mi(f'-interpreter-exec console "{cmd}"')
            self._stale = False
        escaped = command.replace("\\", "\\\\").replace('"', '\\"')
        cls, text, err = self._mi(f'-interpreter-exec console "{escaped}"')
        if cls == "error":
            raise BridgeError(err or "gdb error")
        return text.rstrip("\n")
