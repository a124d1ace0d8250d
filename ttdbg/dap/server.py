"""`ttdbg dap`: a Debug Adapter Protocol server on stdin/stdout.

A reader thread decodes messages (wire.py) into a queue; the main thread
answers them in order with the request tables of lifecycle, breakpoints,
motion, frames, values and code.  `pause` is answered by the reader at once (it
sets the REPL's interrupt, which the running motion polls).  Every failure
becomes an error response or an `output` event: a request's refusal, an
unknown command, a message that is not JSON, even a bug (logged).  Input
that is not framed DAP at all, or its end, ends the server: exit status 0
after `disconnect` or at a clean end of input, 76 (EX_PROTOCOL) for broken
framing.  Nothing but DAP messages is ever written to stdout.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from typing import BinaryIO

from replay import ReplayError

from . import breakpoints, code, frames, lifecycle, motion, values
from .state import Body, DapError, DapState, Handler
from .wire import FdInput, FramingError, Input, encode, read_message

log = logging.getLogger(__name__)

EXIT_PROTOCOL = 76
HANDLERS: dict[str, Handler] = {name: fn for module in (lifecycle, breakpoints, motion, frames, values, code)
                                for name, fn in module.REQUESTS}


class DapServer:
    def __init__(self, default_trace: str | None, stdin: Input, stdout: BinaryIO) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.seq = 0
        self._lock = threading.Lock()
        self._inbox: queue.Queue = queue.Queue()
        self._held: list[tuple[str, Body]] | None = None     # events waiting for the current response
        self.state = DapState(default_trace, self.event)

    # -- sending --------------------------------------------------------------------------
    def send(self, message: Body) -> None:
        with self._lock:
            self.seq += 1
            message["seq"] = self.seq
            try:
                self.stdout.write(encode(message))
                self.stdout.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.state.done = True                      # the client went away

    def event(self, name: str, body: Body) -> None:
        if self._held is not None:
            self._held.append((name, body))
        else:
            self.send({"type": "event", "event": name, "body": body})

    def respond(self, request: Body, body: Body | None = None, error: str | None = None) -> None:
        message: Body = {"type": "response", "request_seq": request.get("seq", 0),
                         "command": request.get("command", ""), "success": error is None}
        if error is not None:
            message["message"] = error
            message["body"] = {"error": {"id": 1, "format": error.replace("{", "{{").replace("}", "}}"),
                                         "showUser": True}}
        elif body is not None:
            message["body"] = body
        self.send(message)

    # -- reading --------------------------------------------------------------------------
    def _read(self) -> None:
        """The reader thread: messages into the inbox; `pause` acted on at once."""
        while True:
            try:
                message = read_message(self.stdin)
            except FramingError as exc:
                self._inbox.put(exc)
                if exc.fatal:
                    return
                continue
            except (OSError, ValueError) as exc:
                self._inbox.put(FramingError(f"cannot read the input: {exc}", fatal=True))
                return
            if message is None:
                self._inbox.put(None)
                return
            if message.get("type") == "request" and message.get("command") in ("pause", "disconnect", "terminate") \
                    and self.state.repl is not None:
                self.state.repl.interrupt.set()            # stop a running motion now
            self._inbox.put(message)

    # -- answering ------------------------------------------------------------------------
    def handle(self, request: Body) -> None:
        if request.get("type") != "request" or not isinstance(request.get("command"), str):
            self.event("output", {"category": "important",
                                  "output": "ttdbg dap: ignored a message that is not a request\n"})
            return
        command = request["command"]
        args = request.get("arguments") or {}
        fn = HANDLERS.get(command)
        self._held = []
        st = self.state
        st.then = None
        try:
            if fn is None:
                raise DapError(f"ttdbg does not support the request {command!r}")
            if not isinstance(args, dict):
                raise DapError("`arguments` must be an object")
            body = fn(st, args)
            self.respond(request, body if body is not None else {})
        except DapError as exc:
            st.then = None
            self.respond(request, error=str(exc))
        except ReplayError as exc:
            st.then = None
            self.respond(request, error=str(exc).splitlines()[0])
        except Exception as exc:   # a bug in ttdbg: still an answer, the details in the log
            log.debug("request %r failed", command, exc_info=True)
            st.then = None
            self.respond(request, error=f"internal error: {type(exc).__name__}: {exc}")
        held, self._held = self._held, None
        for name, body in held:
            self.send({"type": "event", "event": name, "body": body})
        then, st.then = st.then, None
        if then is not None:
            try:
                then()
            except Exception as exc:   # a bug: said, and a stop, so the client does not wait forever
                log.debug("after %r", command, exc_info=True)
                self.event("output", {"category": "stderr", "output": f"internal error: {type(exc).__name__}: {exc}\n"})
                self.event("stopped", {"reason": "exception", "threadId": st.thread_id, "allThreadsStopped": True,
                                       "description": "internal error"})

    def serve(self) -> int:
        threading.Thread(target=self._read, name="dap-reader", daemon=True).start()
        while not self.state.done:
            item = self._inbox.get()
            if item is None:
                return 0                                       # the client closed its end
            if isinstance(item, FramingError):
                self.event("output", {"category": "important", "output": f"ttdbg dap: {item}\n"})
                if item.fatal:
                    print(f"ttdbg: dap: {item}", file=sys.stderr, flush=True)
                    return EXIT_PROTOCOL
                continue
            self.handle(item)
        return 0


def run_dap(default_trace: str | None) -> int:
    """Serve DAP on this process's stdin and stdout until `disconnect` or the end of input."""
    if sys.stdin.isatty():
        print("ttdbg: dap: this speaks the Debug Adapter Protocol on stdin and stdout, for an IDE "
              "(see the README's launch.json); Ctrl-D ends it", file=sys.stderr, flush=True)
    stdout = sys.stdout.buffer
    sys.stdout = sys.stderr                     # anything printed by mistake must not corrupt the protocol
    return DapServer(default_trace, FdInput(sys.stdin.fileno()), stdout).serve()
