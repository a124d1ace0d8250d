"""How the REPL reports a stop: why it stopped, where it is now, the next instructions.

`REASONS` maps each of the timeline's stop reasons to the line(s) that
explain it (a breakpoint's number, a watchpoint's old and new values, the
end of the history, a recorded signal); a new stop reason is one more row
there.  `report` puts that line above the source line (or the frame), the
disassembly and the position, and resets what a motion invalidates.
"""

from __future__ import annotations

from collections.abc import Callable

from replay import StopReason, TimeStop, WatchKind

from .. import render
from .breakpoints import WATCH_TITLE, format_bytes, syscall_name, watch_value
from .frames import frame_text, where
from .signals import describe as describe_signal
from .state import ReplState
from .threads import stop_thread_note

SIGNAL_NAMES = {4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL",
                11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"}


def report(r: ReplState, stop: TimeStop, note: str = "", before: str = "") -> str:
    """The text after a motion: `note`, the reason, the place (the function only if it changed from `before`)."""
    out = [note] if note else []
    select_stop_thread(r, stop)
    reason = stop_thread_note(r)(reason_line(r, stop))
    if reason:
        out.append(reason)
    changed = before != function_here(r)
    out.append(here_text(r, show_function=changed and stop.reason != StopReason.BREAKPOINT
                         or stop.reason == StopReason.WATCHPOINT,
                         show_address=not (reason and stop.reason == StopReason.BREAKPOINT)))
    after_motion(r)
    return "\n".join(x for x in out if x)


def select_stop_thread(r: ReplState, stop: TimeStop) -> None:
    """A stop selects the thread it happened in: after a step, the thread that moved (if
    it lives on), else the one running here (at a breakpoint, the one about to run it)."""
    moved, r.stepper.thread = r.stepper.thread, None
    tid = r.tl.current_tid
    if moved is not None and stop.reason == StopReason.ARRIVED and moved in {t.tid for t in r.tl.threads()}:
        tid = moved
    r.view.thread = None if tid == r.tl.current_tid else tid


def function_here(r: ReplState) -> str:
    """The `func` part of `where` (a motion shows the function line only when it changes)."""
    return where(r).split(" at ")[0]


def after_motion(r: ReplState) -> None:
    """Frame 0 again, registers remembered for change highlighting, gdb told of the new position."""
    r.view.frame = 0
    r.view.shown_regs = r.view.last_regs
    r.view.last_regs = r.regs()
    r.view.list_next = None
    if r.bridge is not None:
        r.bridge.refresh()


# -- why it stopped ---------------------------------------------------------------------------
def _breakpoint(r: ReplState, stop: TimeStop) -> str:
    hit = [b for b in r.breakpoints.values()
           if b.kind == "breakpoint" and b.enabled and b.address == stop.address]
    lines = []
    for b in hit:
        b.hits += 1
        lines.append(f"{'Temporary breakpoint' if b.temporary else 'Breakpoint'} {b.number}, "
                     f"{frame_text(r, r.pc, 0)}")
        if b.temporary:
            r.breakpoints.remove(b.number)
    return "\n".join(lines)


def _watchpoint(r: ReplState, stop: TimeStop) -> str:
    if stop.watch is None:
        return ""
    b = next((b for b in r.breakpoints.values() if b.watch == stop.watch), None)
    if b is None:
        return "Watchpoint hit."
    b.hits += 1
    title = f"\n{WATCH_TITLE[stop.watch.kind]} {b.number}: {b.location}\n"
    now = watch_value(r, b)
    if stop.watch.kind == WatchKind.WRITE:
        old = r.stepper.last_watch_before.get(stop.watch)
        old_text = format_bytes(r, old, b) if old is not None else "?"
        return f"{title}\nOld value = {old_text}\nNew value = {now}"
    return f"{title}\nValue = {now}"


def _history_end(r: ReplState, stop: TimeStop) -> str:
    if stop.exit_status is not None:
        how = "normally" if stop.exit_status == 0 else f"with code {stop.exit_status:02o}"
        return (f"\nNo more reverse-execution history (the program exited {how}"
                f" after instruction {r.tl.position:,}).")
    return "\nNo more reverse-execution history (the trace ends here)."


def _signalled(r: ReplState, stop: TimeStop) -> str:
    name = SIGNAL_NAMES.get(stop.signal, f"signal {stop.signal}")
    return f"\nProgram received signal {name} (recorded; it ends the run)."


def _delivery(r: ReplState, stop: TimeStop) -> str:
    return f"\nProgram received signal {describe_signal(stop.signal)}."


def _syscall(r: ReplState, stop: TimeStop) -> str:
    """gdb's `Catchpoint N (call to syscall write), PLACE` (or `returned from`)."""
    how = "call to" if stop.reason == StopReason.SYSCALL_ENTRY else "returned from"
    hit = [b for b in r.breakpoints.values() if b.kind == "catchpoint" and b.enabled
           and (b.syscalls is None or stop.syscall in b.syscalls)]
    for b in hit:
        b.hits += 1
    numbers = " ".join(str(b.number) for b in hit) or "?"
    return f"\nCatchpoint {numbers} ({how} syscall {syscall_name(r, stop.syscall)}), {frame_text(r, r.pc, 0)}"


REASONS: dict[StopReason, Callable[[ReplState, TimeStop], str]] = {
    StopReason.BREAKPOINT: _breakpoint,
    StopReason.WATCHPOINT: _watchpoint,
    StopReason.HISTORY_START: lambda r, stop: "\nNo more reverse-execution history.",
    StopReason.HISTORY_END: _history_end,
    StopReason.SIGNALLED: _signalled,
    StopReason.DELIVERY: _delivery,
    StopReason.INTERRUPTED: lambda r, stop: "\nInterrupted.",
    StopReason.SYSCALL_ENTRY: _syscall,
    StopReason.SYSCALL_RETURN: _syscall,
}


def reason_line(r: ReplState, stop: TimeStop) -> str:
    """Why the motion stopped ("" for simply arriving)."""
    explain = REASONS.get(stop.reason)
    return explain(r, stop) if explain is not None else ""


# -- where it is now --------------------------------------------------------------------------
def here_text(r: ReplState, show_function: bool = True, instructions: int = 3, show_address: bool = True) -> str:
    pc = r.pc
    out = []
    row = r.symbols.line_at(pc) if r.symbols is not None else None
    if row is not None:
        if show_function:
            out.append(where(r, pc).replace(" at ", " () at ", 1))
        text = r.view.sources.line(row.file, row.line)
        out.append(f"{row.line}\t{text}" if text is not None else f"{row.line}\tin {row.file}")
    elif show_address:
        out.append(frame_text(r, pc, 0))
    out.append(render.disassembly(r.decode(pc, instructions), pc, r.images, r.style))
    out.append(position_line(r))
    return "\n".join(out)


def position_line(r: ReplState) -> str:
    total = r.total
    pct = 100.0 * r.tl.position / total if total else 100.0
    return r.style(f"[icount {r.tl.position:,} / {total:,}  {pct:.1f}%]", "dim")
