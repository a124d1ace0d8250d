"""Moving in time from a DAP client: continue, next, stepIn, stepOut, stepBack,
reverseContinue, pause, the custom `ttdbg/goto`, and how a stop is announced.

A motion is answered at once and runs after the response (`state.then`), as
the protocol asks: the client shows the thread running (and offers `pause`)
until the `stopped` event.  `STOPS` maps each of the timeline's stop reasons
to the event's reason and words; the end of the history is `exited` and
`terminated` (or, with the launch option `stopAtEnd`, one more stop from
which the client can step back).  The REPL's stop report (stops.reason_line)
counts breakpoint hits and words watchpoint values, and goes to the debug
console with the instruction count.
"""

from __future__ import annotations

from collections.abc import Callable

from replay import Direction, ReplayError, StopReason, TimeStop

from ..positions import parse_position
from ..repl import Repl
from ..repl.stops import SIGNAL_NAMES, after_motion, position_line, reason_line
from ..stepping import MotionError
from ..symbols import SymbolError
from .state import Body, DapError, DapState, Requests, arg

REQUESTS = Requests()
FORWARD, BACKWARD = Direction.FORWARD, Direction.BACKWARD
Move = Callable[[Repl], TimeStop]


def _signal_name(number: int) -> str:
    return SIGNAL_NAMES.get(number, f"signal {number}")


# reason -> (DAP stopped reason, what to call it)
STOPS: dict[StopReason, Callable[[TimeStop], tuple[str, str]]] = {
    StopReason.ARRIVED: lambda s: ("step", "Stepped"),
    StopReason.BREAKPOINT: lambda s: ("breakpoint", "Breakpoint"),
    StopReason.WATCHPOINT: lambda s: ("data breakpoint", "Data breakpoint"),
    StopReason.HISTORY_START: lambda s: ("entry", "Start of the recorded history"),
    StopReason.HISTORY_END: lambda s: ("exception", "End of the recorded history"),
    StopReason.SIGNALLED: lambda s: ("exception", f"{_signal_name(s.signal)} (recorded; it ends the run)"),
    StopReason.DELIVERY: lambda s: ("exception", f"Signal {_signal_name(s.signal)} delivered"),
    StopReason.INTERRUPTED: lambda s: ("pause", "Paused"),
}


# a plain arrival, by what asked for it -> its words
ARRIVALS = {"step": "Stepped", "entry": "Entry", "goto": "Moved", "pause": "Paused"}


def where_in_time(st: DapState) -> str:
    tl = st.r.tl
    total = tl.end.icount
    pct = 100.0 * tl.position / total if total else 100.0
    return f"icount {tl.position:,} of {total:,} ({pct:.1f}%)"


def announce(st: DapState, stop: TimeStop, arrived: str = "step") -> None:
    """Tell the client where a motion ended: `stopped`, or `exited`+`terminated` at the end."""
    r = st.r
    st.handles.reset()
    hit = [b.number for b in r.breakpoints.values()
           if (stop.reason == StopReason.BREAKPOINT and b.kind == "breakpoint" and b.enabled
               and b.address == stop.address)
           or (stop.reason == StopReason.WATCHPOINT and b.watch is not None and b.watch == stop.watch)]
    text = reason_line(r, stop).strip()          # counts hits, drops temporary breakpoints
    after_motion(r)
    st.flush_output()
    if stop.reason == StopReason.HISTORY_END and not st.options.stop_at_end:
        st.console(f"{text}\n{position_line(r)}".strip())
        if stop.exit_status is not None:
            st.emit("exited", {"exitCode": stop.exit_status})
        st.emit("terminated", {})
        st.ended = True
        return
    reason, what = STOPS[stop.reason](stop)
    if stop.reason == StopReason.ARRIVED:
        reason, what = arrived, ARRIVALS.get(arrived, arrived)
    if hit and stop.reason == StopReason.BREAKPOINT and set(hit) <= set(st.function_breakpoints):
        reason = "function breakpoint"
    body: Body = {"reason": reason, "threadId": st.thread_id, "allThreadsStopped": True,
                  "description": f"{what} at {where_in_time(st)}"}
    if hit:
        body["hitBreakpointIds"] = hit
    if text:
        body["text"] = text.splitlines()[0]
    st.console(f"{text}\n{position_line(r)}".strip())
    st.emit("stopped", body)


def _run(st: DapState, move: Move, arrived: str = "step") -> None:
    """Answer now; move and announce after the response.  A `pause` that arrives once
    the client has the answer interrupts the motion (the flag is cleared before it)."""
    r = st.r
    r.interrupt.clear()

    def then() -> None:
        try:
            stop = move(r)
        except (MotionError, SymbolError, ReplayError) as exc:
            st.console(str(exc).splitlines()[0], "stderr")
            stop = TimeStop(StopReason.ARRIVED, r.tl.position, r.tl.pc)
        announce(st, stop, arrived)
    st.then = then


def _line(over: bool, direction: Direction) -> Move:
    def move(r: Repl) -> TimeStop:
        m = r.stepper.step_line(over, direction)
        return m.stop
    return move


def _granular(args: Body, line: Move, instruction: Move) -> Move:
    return instruction if arg(args, "granularity", str, "statement") == "instruction" else line


@REQUESTS.request("continue")
def cont(st: DapState, args: Body) -> Body:
    _run(st, lambda r: r.stepper.cont(FORWARD))
    return {"allThreadsContinued": True}


@REQUESTS.request("reverseContinue")
def reverse_continue(st: DapState, args: Body) -> Body:
    _run(st, lambda r: r.stepper.cont(BACKWARD))
    return {}


@REQUESTS.request("next")
def next_(st: DapState, args: Body) -> Body:
    _run(st, _granular(args, _line(True, FORWARD), lambda r: r.stepper.nexti(FORWARD)))
    return {}


@REQUESTS.request("stepIn")
def step_in(st: DapState, args: Body) -> Body:
    _run(st, _granular(args, _line(False, FORWARD), lambda r: r.stepper.stepi(1, FORWARD)))
    return {}


@REQUESTS.request("stepBack")
def step_back(st: DapState, args: Body) -> Body:
    _run(st, _granular(args, _line(True, BACKWARD), lambda r: r.stepper.nexti(BACKWARD)))
    return {}


@REQUESTS.request("stepOut")
def step_out(st: DapState, args: Body) -> Body:
    _run(st, lambda r: r.stepper.finish(FORWARD).stop)
    return {}


@REQUESTS.request("ttdbg/reverseStepOut")
def reverse_step_out(st: DapState, args: Body) -> Body:
    """Back to where the current function was called (gdb's reverse-finish)."""
    _run(st, lambda r: r.stepper.finish(BACKWARD).stop)
    return {}


@REQUESTS.request("ttdbg/goto")
def goto(st: DapState, args: Body) -> Body:
    """Travel to `position`: an instruction count N, or +N, -N, P%, start, end (as the REPL's goto)."""
    r = st.r
    where = arg(args, "position", (str, int))
    if where is None:
        raise DapError("ttdbg/goto needs a `position` (N, +N, -N, P%, start or end)")
    try:
        target = parse_position(str(where), r.tl.position, r.tl.end.icount)
    except ValueError:
        raise DapError(f"invalid position {where!r} (N, +N, -N, P%, start or end)") from None
    _run(st, lambda r: r.tl.seek(target, r.progress), arrived="goto")
    return {"icount": target}


@REQUESTS.request("ttdbg/when")
def when(st: DapState, args: Body) -> Body:
    w = st.r.session.when()
    return {"icount": w.icount, "total": w.total, "pc": w.pc, "text": str(w)}
