"""`ttdbg record --board` and `ttdbg replay` of a board trace: firmware on an emulated board.

Kept apart from cli.py so that the Linux and board paths each stay short;
cli.py hands over when it sees --board or a board trace.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from collections.abc import Callable

from replay import BOARDS, BoardReplay, ReplayError, TraceDir, check_firmware, create_trace, mark_latest, record_board

MAX_FIRMWARE = 1 << 30
EXIT_USAGE = 2


class BoardCommandError(Exception):
    """One line for the user and the exit status (cli.py maps it as its own failures)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _Fail(message: str, status: int) -> BoardCommandError:  # noqa: N802 (cli.py's names)
    return BoardCommandError(message, status)


def _Usage(message: str) -> BoardCommandError:  # noqa: N802
    return BoardCommandError(message, EXIT_USAGE)


def _read_firmware(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FIRMWARE + 1)
    except OSError as exc:
        raise _Fail(f"{path}: {exc.strerror}", 127) from None
    if len(data) > MAX_FIRMWARE:
        raise _Fail(f"{path}: larger than {MAX_FIRMWARE >> 20} MiB", 127)
    return data


def record_on_board(args: argparse.Namespace, say: Callable[[str], None], ctrl_c_type: type) -> int:
    if len(args.program) > 1:
        raise _Usage("record --board: firmware takes no arguments")
    path = args.program[0]
    board = BOARDS[args.board]
    if args.ram is not None and args.ram > board.max_ram:
        raise _Usage(f"record: --ram {args.ram:#x} is more than the {board.name} board has room for "
                     f"({board.max_ram >> 20} MiB)")
    data = _read_firmware(path)
    check_firmware(board.name, path, data, args.ram, args.load)
    if args.uart is not None and not (args.uart in ("stdio", "null") or args.uart.startswith("file:")
                                      or re.fullmatch(r"tcp:\d{1,5}", args.uart) and int(args.uart[4:]) < 65536):
        raise _Usage(f"record: --uart {args.uart!r}: expected stdio, file:PATH, tcp:PORT or null")
    trace = create_trace(args.output, path, force=args.force)
    if not args.quiet:
        say(f"saving execution to trace directory `{trace.path}'")
    try:
        with ctrl_c_type().installed() as ctrl_c:
            result = record_board(board.name, path, data, trace, uart=args.uart or "stdio", ram=args.ram,
                                  load=args.load, warn=lambda m: say(f"ttdbg: {m}"), should_stop=ctrl_c,
                                  clock=args.clock or "virtual")
    except ReplayError:
        if not os.path.exists(trace.log_path):          # refused before recording: no half trace
            trace.release()
            shutil.rmtree(trace.path, ignore_errors=True)
        raise
    finally:
        trace.release()
    mark_latest(trace)
    if result.status != 0 or args.stats:
        say(f"firmware ended: {result.ending}")
    if args.stats:
        say(f"recorded {result.icount:,} instructions, {result.events} events, {result.interrupts:,} interrupts "
            f"in {result.seconds:.2f} s ({result.icount / max(result.seconds, 1e-9) / 1e6:,.1f} MIPS)")
    return result.status


def replay_on_board(trace: TraceDir, args: argparse.Namespace, say: Callable[[str], None],
                    ctrl_c_type: type) -> int:
    if args.gdb_args:
        # `replay -a TRACE --uart ...`: options after the trace land in gdb's share
        late = argparse.ArgumentParser(prog="ttdbg replay", add_help=False, exit_on_error=False)
        late.add_argument("--uart")
        late.add_argument("--output")
        late.add_argument("--stats", action="store_true")
        late.add_argument("-q", "--quiet", action="store_true")
        try:
            more, rest = late.parse_known_args([a for a in args.gdb_args if a != "--"])
        except argparse.ArgumentError as exc:
            raise _Usage(f"replay: {exc}") from None
        if rest:
            raise _Usage(f"replay -a of a board trace: unexpected {' '.join(rest)}")
        args.uart = more.uart or args.uart
        args.output = more.output or args.output
        args.stats = args.stats or more.stats
        args.quiet = args.quiet or more.quiet
    uart = args.uart or ("null" if args.quiet else f"file:{args.output}" if args.output else "stdio")
    replay = BoardReplay(trace, uart=uart)
    try:
        with ctrl_c_type().installed() as ctrl_c:
            replay.run(should_stop=ctrl_c)
        result = replay.result()
        if replay.ending is None:
            say(f"interrupted at instruction {result.icount:,}")
            return 130
        if replay.ending.kind == "interrupted":
            say(f"note: the recording was interrupted at instruction {result.icount:,}; replay stops there")
        if args.stats:
            say(f"replayed {result.icount:,} instructions and all {result.events} recorded events without "
                f"divergence ({result.interrupts:,} interrupts, "
                f"{result.icount / max(result.seconds, 1e-9) / 1e6:,.1f} MIPS); firmware ended: {result.ending}")
            for line in replay.describe().splitlines():
                say(line)
    finally:
        replay.close()
    return result.status
