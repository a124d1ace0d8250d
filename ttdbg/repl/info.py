"""`info SUBCOMMAND`: its own small table of subcommands, and the ones no other module owns."""

from __future__ import annotations

from ..trace_summary import trace_info
from .breakpoints import info_breakpoints
from .data import info_registers
from .frames import info_frame, info_locals
from .history import info_checkpoints
from .state import ReplState
from .table import Command, Rows, lookup
from .threads import info_threads

ROWS = Rows()


def info_sharedlibrary(r: ReplState, arg: str) -> str:
    objects = r.libraries.objects() if r.libraries is not None else []
    if not objects:
        return "No shared libraries loaded at this time."
    lines = [f"{'From':<20}{'To':<20}{'Syms Read':<12}Shared Object Library"]
    missing = False
    for obj in objects:
        sym = obj.symbols
        read = "Yes" if sym is not None and sym.symbols else "No"
        if sym is not None and not sym.has_dwarf:
            read += " (*)"
            missing = True
        lines.append(f"{obj.text[0]:#018x}  {obj.text[1]:#018x}  {read:<12}{obj.path}")
    if missing:
        lines.append("(*): Shared library is missing debugging information.")
    return "\n".join(lines)


def info_trace(r: ReplState, arg: str) -> str:
    return trace_info(r.session.trace)


def info_board(r: ReplState, arg: str) -> str:
    return r.session.board_state()


INFO_COMMANDS: tuple[Command, ...] = (
    Command("breakpoints", ("b", "break", "watchpoints"), "info breakpoints: list breakpoints and watchpoints",
            info_breakpoints),
    Command("registers", ("regs", "r", "reg"), "info registers [REG...]: registers (changed ones highlighted)",
            info_registers),
    Command("frame", ("f",), "info frame: the current frame's addresses", info_frame),
    Command("locals", (), "info locals: local variables of the current function", info_locals),
    Command("threads", ("th",), "info threads: the threads here (* the selected one) and where each is",
            info_threads),
    Command("checkpoints", ("bookmarks",), "info checkpoints: named positions", info_checkpoints),
    Command("sharedlibrary", ("dll", "solib"), "info sharedlibrary: the shared objects loaded at this point in time",
            info_sharedlibrary),
    Command("trace", (), "info trace: the trace summary (as `ttdbg info`)", info_trace),
    Command("board", ("devices",), "info board: a board's devices here (UART FIFO, interrupts, timer)", info_board),
)


def info_list() -> str:
    return "\n".join(f"  {c.summary}" for c in INFO_COMMANDS)


@ROWS.command("info", ("i",),
              "info SUBCOMMAND: breakpoints, registers, frame, locals, threads, sharedlibrary, checkpoints, trace, "
              "board",
              complete="info")
def info(r: ReplState, arg: str) -> str:
    word, _, rest = arg.strip().partition(" ")
    if not word:
        return "List of info subcommands:\n" + info_list()
    cmd = lookup(word, INFO_COMMANDS, what="info command")
    return cmd.handler(r, rest.strip())
