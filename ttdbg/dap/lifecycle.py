"""A DAP session's life: initialize (the capabilities), launch/attach (open a trace),
configurationDone (start), restart, threads, pause, disconnect/terminate.

`launch` and `attach` do the same thing on a recorded trace: the program is
not run again, its recording is replayed.  Their arguments: `trace` (a trace
directory; default: the one given to `ttdbg dap`, else the latest),
`program` (optional: must be the traced program, by path or name, so a
configuration cannot silently debug another program's trace),
`stopOnEntry` (stop at instruction 0 instead of running to the first
breakpoint) and `stopAtEnd` (at the end of the history, stop so one can step
back, instead of ending the session).
"""

from __future__ import annotations

import os

from replay import ReplayError, StopReason, TimeStop, open_trace

from ..repl import Repl
from ..session import DebugSession
from .motion import announce, cont
from .output import GuestOutput
from .state import Body, DapError, DapState, Options, Requests, arg

REQUESTS = Requests()

CAPABILITIES: Body = {
    "supportsConfigurationDoneRequest": True,
    "supportsStepBack": True,                       # stepBack and reverseContinue
    "supportsFunctionBreakpoints": True,
    "supportsDataBreakpoints": True,                # watchpoints, both directions
    "supportsEvaluateForHovers": True,
    "supportsRestartRequest": True,
    "supportsTerminateRequest": True,
    "supportsSteppingGranularity": True,            # granularity "instruction": stepi / nexti
    "supportsReadMemoryRequest": True,
    "supportsDisassembleRequest": True,
    "supportsConditionalBreakpoints": False,
    "supportsSetVariable": False,                   # the past is read-only
    "exceptionBreakpointFilters": [],
}


@REQUESTS.request("initialize")
def initialize(st: DapState, args: Body) -> Body:
    st.lines_start_at_1 = arg(args, "linesStartAt1", bool, True)
    return dict(CAPABILITIES)


def _open(st: DapState, args: Body) -> Body:
    if st.repl is not None:
        raise DapError("a trace is already open in this session")
    path = arg(args, "trace", str) or st.default_trace
    try:
        trace = open_trace(path)
        output = GuestOutput()
        session = DebugSession(trace, sink=output.sink())
    except ReplayError as exc:
        raise DapError(str(exc).splitlines()[0]) from None
    output.position = lambda: session.timeline.position
    program = arg(args, "program", str)
    if program and program not in (session.program, os.path.basename(session.program)) \
            and os.path.realpath(program) != os.path.realpath(session.program):
        raise DapError(f"the trace {trace.path} recorded {session.program}, not {program}")
    repl = Repl(session, use_gdb=False)
    repl.progress.enabled = False                   # stderr is the client's log, not a terminal
    st.repl, st.output = repl, output
    st.options = Options(stop_on_entry=arg(args, "stopOnEntry", bool, False),
                         stop_at_end=arg(args, "stopAtEnd", bool, False))
    note = "" if repl.symbols is not None and repl.symbols.has_dwarf else \
        " (no debug info: build with -g for lines and variables)"
    st.console(f"ttdbg: {session.program}, {repl.total:,} instructions recorded in {trace.path}{note}")
    st.emit("process", {"name": session.program, "systemProcessId": session.pid,
                        "isLocalProcess": False, "startMethod": "attach"})
    st.emit("initialized", {})
    return {}


REQUESTS.request("launch")(_open)
REQUESTS.request("attach")(_open)


def _start(st: DapState) -> None:
    """Stop at the entry, or run forward to the first breakpoint."""
    st.ended = False
    if st.options.stop_on_entry:
        r = st.r
        st.then = lambda: announce(st, TimeStop(StopReason.ARRIVED, r.tl.position, r.tl.pc), "entry")
    else:
        cont(st, {})


@REQUESTS.request("configurationDone")
def configuration_done(st: DapState, args: Body) -> Body:
    if st.repl is None:
        raise DapError("configurationDone before launch or attach")
    st.configured = True
    _start(st)
    return {}


@REQUESTS.request("restart")
def restart(st: DapState, args: Body) -> Body:
    """Back to instruction 0, keeping the breakpoints, then as at the start."""
    r = st.r
    r.tl.seek(0)
    _start(st)
    return {}


@REQUESTS.request("threads")
def threads(st: DapState, args: Body) -> Body:
    if st.repl is None:
        return {"threads": []}
    return {"threads": [{"id": st.thread_id, "name": os.path.basename(st.r.session.program)}]}


@REQUESTS.request("pause")
def pause(st: DapState, args: Body) -> Body:
    """While a motion runs the server sets the interrupt at once; here the program is already stopped."""
    return {}


@REQUESTS.request("terminate")
def terminate(st: DapState, args: Body) -> Body:
    if not st.ended:
        st.emit("terminated", {})
        st.ended = True
    return {}


@REQUESTS.request("disconnect")
def disconnect(st: DapState, args: Body) -> Body:
    if st.repl is not None:
        st.repl.close()
    st.done = True
    return {}
