"""Moving in time: stepi/nexti/step/next/finish/continue in both directions, and `goto`.

Every motion runs under the REPL's MotionProgress (Ctrl-C, a progress line)
and ends in stops.report.
"""

from __future__ import annotations

from collections.abc import Callable

from replay import Direction, StopReason, TimeStop

from ..positions import parse_position
from .frames import frame_text
from .state import ReplState
from .stops import function_here, report
from .table import CommandError, Rows, count_arg

ROWS = Rows()
FORWARD, BACKWARD = Direction.FORWARD, Direction.BACKWARD


def _repeat(r: ReplState, one: Callable[[], TimeStop], count: int) -> TimeStop:
    """`one` motion `count` times, stopping early at anything but a plain arrival or on Ctrl-C."""
    stop = TimeStop(StopReason.ARRIVED, r.tl.position, r.pc)
    for _ in range(max(count, 1)):
        stop = one()
        if stop.reason != StopReason.ARRIVED or r.interrupt.is_set():
            break
    return stop


def _motion(r: ReplState, one: Callable[[], TimeStop], count: int = 1) -> str:
    r.progress.start()
    try:
        before = function_here(r)
        return report(r, _repeat(r, one, count), "", before)
    finally:
        r.progress.done()


def stepi(r: ReplState, arg: str, direction: Direction) -> str:
    count = count_arg(arg)
    r.moving()
    return _motion(r, lambda: r.stepper.stepi(count, direction))


def nexti(r: ReplState, arg: str, direction: Direction) -> str:
    r.moving()
    return _motion(r, lambda: r.stepper.nexti(direction), count_arg(arg))


def line(r: ReplState, arg: str, over: bool, direction: Direction) -> str:
    count = count_arg(arg)
    r.moving()
    notes: list[str] = []

    def one() -> TimeStop:
        m = r.stepper.step_line(over, direction)
        if m.note:
            notes.append(m.note)
        return m.stop
    before = function_here(r)
    stop = _repeat(r, one, count)
    return report(r, stop, "\n".join(notes[:1]), before)


def finish(r: ReplState, direction: Direction) -> str:
    r.moving()
    frames = r.stepper.frames(2, r.view.thread)
    if r.symbols is not None and frames:
        what = "Run till exit from" if direction == FORWARD else "Run back to call of"
        note = f"{what} #0  {frame_text(r, frames[0].pc, 0)}"
    else:
        note = ""
    m = r.stepper.finish(direction)
    text = report(r, m.stop, note, "")
    if direction == FORWARD and m.stop.reason == StopReason.ARRIVED:
        debug = r.tl.arch.debug
        value = r.reg(debug.return_register if debug else "rax")
        r.view.history += 1
        text += f"\nValue returned is ${r.view.history} = {value - (1 << 64) if value >> 63 else value}"
    return text


def goto(r: ReplState, arg: str) -> str:
    arg = arg.strip()
    if not arg:
        raise CommandError("Argument required (an instruction count, +N, -N, P%, start or end).")
    from ..query import QueryError, goto_target  # query.py imports the REPL's modules: late
    try:
        target = goto_target(r.view.query_hits, arg) if arg.startswith("#") else \
            parse_position(arg, r.tl.position, r.total)
    except QueryError as exc:
        raise CommandError(str(exc)) from None
    except ValueError:
        raise CommandError(f'Invalid position "{arg}" (N, +N, -N, P%, start or end).') from None
    r.progress.start()
    r.progress.target = target
    try:
        stop = r.tl.seek(target, r.progress)
    finally:
        r.progress.done()
    return report(r, stop, "", "")


_add = ROWS.command
_add("stepi", ("si",), "stepi [N]: execute N instructions", repeat=True)(
    lambda r, a: stepi(r, a, FORWARD))
_add("reverse-stepi", ("rsi",), "reverse-stepi [N]: go back N instructions", repeat=True)(
    lambda r, a: stepi(r, a, BACKWARD))
_add("nexti", ("ni",), "nexti [N]: one instruction, stepping over calls", repeat=True)(
    lambda r, a: nexti(r, a, FORWARD))
_add("reverse-nexti", ("rni",), "reverse-nexti [N]: one instruction back, over calls", repeat=True)(
    lambda r, a: nexti(r, a, BACKWARD))
_add("step", ("s",), "step [N]: to the next source line, into calls", repeat=True)(
    lambda r, a: line(r, a, False, FORWARD))
_add("next", ("n",), "next [N]: to the next source line, over calls", repeat=True)(
    lambda r, a: line(r, a, True, FORWARD))
_add("finish", ("fin",), "finish: run until the current function returns")(
    lambda r, a: finish(r, FORWARD))
_add("reverse-step", ("rs",), "reverse-step [N]: back to the previous source line, into calls", repeat=True)(
    lambda r, a: line(r, a, False, BACKWARD))
_add("reverse-next", ("rn",), "reverse-next [N]: back to the previous source line, over calls", repeat=True)(
    lambda r, a: line(r, a, True, BACKWARD))
_add("reverse-finish", ("rf",), "reverse-finish: back to where the current function was called")(
    lambda r, a: finish(r, BACKWARD))
_add("continue", ("c", "cont"), "continue: run until a breakpoint, watchpoint or the end")(
    lambda r, a: _motion(r, lambda: r.stepper.cont(FORWARD)))
_add("reverse-continue", ("rc",), "reverse-continue: run backward to the previous breakpoint or watchpoint")(
    lambda r, a: _motion(r, lambda: r.stepper.cont(BACKWARD)))
_add("goto", ("g",), "goto N|+N|-N|P%|start|end|#HIT: travel to instruction count N (or a query hit)")(goto)
