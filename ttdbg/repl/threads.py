"""Threads and processes: `info threads`, `thread [N]`, `thread apply`, `ps`.

A thread is named as gdb names it: a small number given on first sight (the
main thread is 1), `Thread PID.TID` and its name (comm).  `thread N` selects
whose registers and frames the looking commands show (`info registers`, `bt`,
`frame`, `print`) and which thread the stepping commands move; every thread
runs as recorded meanwhile, and a stop selects the thread it happened in, as
gdb's all-stop does.
"""

from __future__ import annotations

from collections.abc import Callable

from replay import ThreadInfo, list_processes

from .breakpoints import WATCH_TITLE
from .frames import frame_text
from .state import ReplState
from .table import Command, CommandError, Rows

ROWS = Rows()


def target_id(r: ReplState, t: ThreadInfo) -> str:
    """`Thread 1234.1235 "worker"`, as gdb's `info threads` Target Id column."""
    name = f' "{t.name}"' if t.name else ""
    return f"Thread {t.pid}.{t.tid}{name}"


def _live(r: ReplState) -> dict[int, ThreadInfo]:
    return {t.tid: t for t in r.threads()}


def _frame_of(r: ReplState, tid: int) -> str:
    saved = r.view.thread
    r.view.thread = None if tid == r.tl.current_tid else tid
    try:
        return frame_text(r, r.pc, 0)
    finally:
        r.view.thread = saved


def info_threads(r: ReplState, arg: str) -> str:
    threads = r.threads()
    rows = [(("*" if t.tid == r.tid else " "), str(r.thread_number(t.tid)), target_id(r, t), _frame_of(r, t.tid))
            for t in sorted(threads, key=lambda t: r.thread_number(t.tid))]
    width = max(len("Target Id"), *(len(row[2]) for row in rows)) + 1
    lines = [f"  {'Id':<4} {'Target Id':<{width}} Frame"]
    lines += [f"{star} {num:<4} {tid:<{width}} {frame}" for star, num, tid, frame in rows]
    return "\n".join(lines)


def _by_number(r: ReplState, word: str) -> ThreadInfo:
    try:
        number = int(word)
    except ValueError:
        raise CommandError(f'Invalid thread ID: {word}') from None
    live = _live(r)
    for tid, n in r.thread_numbers.items():
        if n == number and tid in live:
            return live[tid]
    raise CommandError(f"Unknown thread {number}.")


THREAD_HELP = ("thread [N] | thread apply all|N... COMMAND: select thread N (registers, frames, and the "
               "thread stepi/next/step/finish move), or run COMMAND in each\nWithout N: which thread is "
               "selected.  Every thread runs as recorded; a stop selects the thread it happened in.")


def thread(r: ReplState, arg: str, appliable: Callable[[str], Command]) -> str:
    """`thread`; commands.py registers it, as `thread apply` needs the command table
    (`appliable` finds a command that may run in each thread)."""
    words = arg.split()
    if not words:
        t = _live(r).get(r.tid)
        if t is None:
            return "No thread selected."
        return f"[Current thread is {r.thread_number(t.tid)} ({target_id(r, t)})]"
    if words[0] == "apply":
        return thread_apply(r, arg.strip()[len("apply"):].strip(), appliable)
    if len(words) > 1:
        raise CommandError(f'Invalid thread ID: {arg.strip()}')
    t = _by_number(r, words[0])
    select(r, t.tid)
    return (f"[Switching to thread {r.thread_number(t.tid)} ({target_id(r, t)})]\n"
            f"#0  {frame_text(r, r.pc, 0)}")


def select(r: ReplState, tid: int) -> None:
    """Thread `tid` for registers, frames and motions (a stop in it then is no switch)."""
    r.view.thread = None if tid == r.tl.current_tid else tid
    r.view.stop_tid = tid
    r.view.frame = 0
    r.view.list_next = None


def thread_apply(r: ReplState, arg: str, appliable: Callable[[str], Command]) -> str:
    """`thread apply all CMD` (threads from the newest, as gdb) or `thread apply 1 3 CMD`."""
    words = arg.split()
    if not words:
        raise CommandError("Please specify a thread ID list")
    live = _live(r)
    if words[0] == "all":
        targets = sorted(live.values(), key=lambda t: -r.thread_number(t.tid))
        rest = words[1:]
    else:
        numbers = []
        while words and words[0].isdigit():
            numbers.append(words.pop(0))
        targets = [_by_number(r, n) for n in numbers]
        rest = words
    if not targets or not rest:
        raise CommandError("Please specify a command following the thread ID list")
    cmd = appliable(rest[0])
    saved = r.view.thread, r.view.frame, r.view.stop_tid
    out = []
    try:
        for t in targets:
            select(r, t.tid)
            out.append(f"\nThread {r.thread_number(t.tid)} ({target_id(r, t)}):\n"
                       + cmd.handler(r, " ".join(rest[1:])))
    finally:
        r.view.thread, r.view.frame, r.view.stop_tid = saved
    return "\n".join(out)


ROWS.command("ps", (), "ps: the processes of the trace (PID PPID EXIT CMD, as `ttdbg ps`)")(
    lambda r, arg: processes(r))


def processes(r: ReplState) -> str:
    rows = list_processes(r.session.contents)
    lines = [f"{'PID':<8}{'PPID':<8}{'EXIT':<6}CMD"]
    for p in rows:
        status = "" if p.exit_status is None else str(p.exit_status)
        mark = "*" if p.pid == r.tl.pid else " "
        lines.append(f"{p.pid:<8}{p.ppid:<8}{status:<6}{p.cmd}{'  ' + mark if mark.strip() else ''}")
    return "\n".join(lines)


def stop_thread_note(r: ReplState) -> Callable[[str], str]:
    """How a stop names its thread when there are several: a `[Switching to thread ...]`
    line when the stop is in another thread than the last, and "Thread N "name" hit"
    in front of a breakpoint or watchpoint line."""
    threads = _live(r)
    tid = r.tid
    if len(threads) < 2 or tid not in threads:
        r.view.stop_tid = tid
        return lambda reason: reason
    t = threads[tid]
    switched = r.view.stop_tid is not None and r.view.stop_tid != tid
    r.view.stop_tid = tid
    label = f'Thread {r.thread_number(tid)}' + (f' "{t.name}"' if t.name else "")
    header = f"[Switching to thread {r.thread_number(tid)} ({target_id(r, t)})]" if switched else ""

    def name_it(reason: str) -> str:
        body = reason.lstrip("\n")
        lead = reason[: len(reason) - len(body)]
        for word in ("Breakpoint", "Temporary breakpoint", "Watchpoint", *WATCH_TITLE.values()):
            if body.startswith(word):
                body = f"{label} hit {body}"
                break
        return "\n".join(x for x in (header, lead + body if body else "") if x)
    return name_it
