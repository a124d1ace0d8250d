"""The `ttdbg` command line, in rr's spirit: record, replay, serve, repl, dump, info, pack.

This is the only place that exits the process; engine errors are mapped
to one line on stderr and a documented exit status (see README):

    0-255  record / replay -a: the program's own status (128+N for signal N)
    2      bad command-line usage
    65     corrupt, foreign or newer-version trace
    66     trace directory problem (missing, exists, unwritable, being recorded into)
    69     serve: cannot listen on the address and port
    70     the program needs something ttdbg does not support
    73     record: no space left on the trace's device (the trace is closed and replays up to there)
    74     the trace is truncated (replay -a ran up to its last complete event)
    75     the replay diverged from the recording
    76     dap: the input is not framed DAP (Content-Length headers)
    127    the program is missing or is not an x86-64 ELF executable
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence

from replay import (
    BOARDS,
    DEFAULT_SLICE,
    FORWARDED_SIGNALS,
    DiskFullError,
    EventKind,
    OutputSink,
    Replay,
    ReplayError,
    TraceDir,
    TraceTruncated,
    arch_of,
    create_trace,
    follow_script,
    is_board_trace,
    list_processes,
    mark_latest,
    open_trace,
    pack_trace,
    parse_elf,
    read_log,
    read_program,
    record,
    resolve_program,
)

from . import logconfig
from .syscall_listing import arch_names, syscall_table
from .trace_summary import process_listing, trace_info

log = logging.getLogger("ttdbg")
EXIT_USAGE = 2
EXIT_TRUNCATED = 74
EXIT_INTERNAL = 70


def _say(message: str) -> None:
    print(f"ttdbg: {message}", file=sys.stderr, flush=True)


def _guest_warning(message: str) -> None:
    _say(f"warning: {message}")


class Progress:
    """A rate-limited progress line on stderr (only for a terminal)."""

    def __init__(self, verb: str, enabled: bool, total: int = 0) -> None:
        self.verb = verb
        self.enabled = enabled
        self.total = total
        self.started = time.monotonic()
        self._last = self.started
        self._shown = False

    def __call__(self, icount: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 1.0:
            return
        self._last = now
        mips = icount / max(now - self.started, 1e-9) / 1e6
        pct = f" {100 * icount / self.total:5.1f}%" if self.total else ""
        sys.stderr.write(f"\rttdbg: {self.verb}{pct} {icount:,} instructions ({mips:,.0f} MIPS)  ")
        sys.stderr.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _progress_default(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return sys.stderr.isatty() and not sys.stdin.isatty()


class CtrlC:
    """Ctrl-C as a polled flag (`should_stop`) while the engine runs.

    The default handler raises KeyboardInterrupt wherever Python happens to be,
    which during emulation is often the entry of a Unicorn hook: ctypes swallows
    the exception there and the guest's system call is silently skipped.  A flag
    polled between time slices stops the run cleanly instead.
    """

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def _handler(self, signum: int, frame: object) -> None:
        self.requested = True

    @contextlib.contextmanager
    def installed(self) -> Iterator["CtrlC"]:
        try:
            previous = signal.getsignal(signal.SIGINT)
        except ValueError:                      # not the main thread
            yield self
            return
        if previous is signal.SIG_IGN:          # started in the background: leave it so
            yield self
            return
        signal.signal(signal.SIGINT, self._handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


class Forwarded:
    """Signals other processes send `ttdbg record` (SIGTERM, SIGHUP, SIGUSR1, SIGUSR2),
    queued for the recording, which delivers them to the program (`incoming`)."""

    def __init__(self) -> None:
        self.queue: list[int] = []

    def __call__(self) -> int:
        return self.queue.pop(0) if self.queue else 0

    def _handler(self, signum: int, frame: object) -> None:
        self.queue.append(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator["Forwarded"]:
        previous = {}
        try:
            for signum in FORWARDED_SIGNALS:
                old = signal.getsignal(signum)
                if old is not signal.SIG_IGN:       # nohup: leave SIGHUP ignored
                    previous[signum] = old
                    signal.signal(signum, self._handler)
        except ValueError:                          # not the main thread
            pass
        try:
            yield self
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)


# -- record ---------------------------------------------------------------------------
def cmd_record(args: argparse.Namespace) -> int:
    if not args.program:
        raise _Usage("record: missing PROGRAM")
    if args.board is not None:
        from .board_cli import BoardCommandError, record_on_board
        try:
            return record_on_board(args, _say, CtrlC)
        except BoardCommandError as exc:
            raise _Fail(str(exc), exc.status) from None
    if args.uart or args.load is not None or args.ram is not None or args.clock is not None:
        raise _Usage("record: --uart, --clock, --load and --ram go with --board")
    program = resolve_program(args.program[0])
    data = read_program(program)
    interp, _argv, elf = follow_script(program, list(args.program), data)   # a #! script: its interpreter
    parse_elf(interp, elf)                              # refuse bad programs before making a trace
    trace = create_trace(args.output, program, force=args.force)
    if not args.quiet:
        _say(f"saving execution to trace directory `{trace.path}'")
    chaos_seed = args.chaos_seed
    if args.chaos and chaos_seed is None:
        chaos_seed = secrets.randbelow(1 << 31)
    if chaos_seed is not None:
        _say(f"chaos mode: seed {chaos_seed} (record again with --chaos-seed {chaos_seed} for the same schedule)")
    progress = Progress("recording", _progress_default(args.progress))
    try:
        with CtrlC().installed() as ctrl_c, Forwarded().installed() as forwarded:
            result = record(program, [args.program[0], *args.program[1:]], trace,
                            env=[] if args.no_env else None,
                            checkpoint_interval=args.checkpoint_interval, warn=_guest_warning,
                            progress=progress if progress.enabled else None, should_stop=ctrl_c,
                            program_data=data, slice_length=args.slice, chaos_seed=chaos_seed,
                            task_limit=args.max_tasks, sysroot=args.sysroot, incoming=forwarded)
    except DiskFullError as exc:
        if exc.icount is None:                          # nothing recorded: leave no half trace behind
            shutil.rmtree(trace.path, ignore_errors=True)
        else:
            mark_latest(trace)
        raise
    finally:
        progress.done()
        trace.release()
    mark_latest(trace)
    shutdown = result.shutdown
    if shutdown is not None and shutdown.reason.name == "INTERRUPTED":
        _say(f"recording interrupted at instruction {result.icount:,}; the trace is complete up to there")
    if args.stats:
        _say(f"recorded {result.icount:,} instructions, {result.events} events in {result.seconds:.2f} s "
             f"({result.icount / max(result.seconds, 1e-9) / 1e6:,.0f} MIPS)")
    return result.status


# -- replay ---------------------------------------------------------------------------
def verified_summary(icount: int, events: int, hashes: int, interval: int | None) -> str:
    """What `replay -a --stats` checked: every recorded event, and the state hashes that fell due."""
    line = f"replayed {icount:,} instructions and all {events:,} recorded events without divergence"
    if hashes:
        return f"{line}; {hashes:,} state hash{'es' if hashes > 1 else ''} verified"
    every = f" (one every {interval:,} instructions)" if interval else ""
    return f"{line}; the run was too short for a state hash{every}"


def _debuggable(trace: TraceDir, command: str) -> TraceDir:
    """`trace`, if `command` (gdb, serve, repl...) can debug its architecture (replay/arch/ describes
    it for debuggers: Arch.debug); else one line, status 70."""
    contents = read_log(trace.log_path)
    header = contents.header
    arch = arch_of(header)
    if arch is None or arch.debug is None:
        raise _Fail(f"this trace is of an {header.arch} program: `ttdbg {command}` on it is not supported yet; "
                    "`ttdbg replay -a` replays it", 70)
    if command in _PROCESS_ONLY and is_board_trace(contents):
        raise _Fail(f"this trace is of firmware on a board: `ttdbg {command}` on it is not supported yet; "
                    "`ttdbg replay`, `serve` and `repl` debug it", 70)
    return trace


_PROCESS_ONLY = ("index", "query")    # commands that know Linux processes only


def cmd_replay(args: argparse.Namespace) -> int:
    trace = open_trace(args.trace)
    if args.autopilot and is_board_trace(read_log(trace.log_path)):     # without -a: gdb, as for any trace
        from .board_cli import BoardCommandError, replay_on_board
        try:
            return replay_on_board(trace, args, _say, CtrlC)
        except BoardCommandError as exc:
            raise _Fail(str(exc), exc.status) from None
    if args.uart:
        raise _Usage("replay: --uart is for a trace of firmware on a board")
    if not args.autopilot:
        _debuggable(trace, "replay")
        from .gdb_launch import replay_with_gdb
        return replay_with_gdb(trace, gdb=args.gdb, gdb_args=args.gdb_args or [], pid=_chosen_pid(trace, args))
    if args.pid is not None or args.exe is not None:
        raise _Usage("replay -a replays every process: -p and -e choose the one to debug")
    if args.quiet:
        sink = OutputSink.quiet()
        out_file = None
    elif args.output:
        try:
            out_file = open(args.output, "wb")
        except OSError as exc:
            raise _Fail(f"cannot write {args.output}: {exc.strerror}", 66) from None
        sink = OutputSink(out_file, out_file)
    else:
        sink = OutputSink.console()
        out_file = None
    replay = Replay(trace, sink, warn=lambda m: log.debug("%s", m))
    progress = Progress("replaying", _progress_default(args.progress),
                        total=replay.contents.events[-1].icount)
    try:
        with CtrlC().installed() as ctrl_c:
            finished = replay.run_to_end(ctrl_c, progress)
        if not finished:
            progress.done()
            _say(f"interrupted at instruction {replay.icount:,}")
            return 130
    except TraceTruncated as exc:
        progress.done()
        _say(f"note: {exc}")
        return EXIT_TRUNCATED
    finally:
        progress.done()
        if out_file is not None:
            out_file.close()
    result = replay.result()
    if result.truncated:
        _say(f"note: the trace is truncated (the recording was killed); replayed "
             f"{result.icount:,} instructions up to its last complete event")
        return EXIT_TRUNCATED
    if result.interrupted_recording:
        reason = result.shutdown.reason.name if result.shutdown else ""
        why = {"ERROR": "stopped by an error (internal, or a full disk)",
               "DEADLOCK": "ended by a deadlock of its threads"}.get(reason, "interrupted")
        _say(f"note: the recording was {why} at instruction {result.icount:,}; replay stops there")
    if args.stats:
        _say(verified_summary(result.icount, len(replay.contents.events), result.verified_state_hashes,
                              replay.contents.header.extra.get("checkpoint_interval")))
    replay.close()
    return result.status


# -- info / dump ------------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    if args.syscalls:
        if args.trace:
            raise _Usage("info --syscalls takes no trace: the table is the kernel's, not a recording's")
        print(syscall_table(unsupported=args.all, arch=args.arch or "x86-64"))
        return 0
    if args.all or args.arch:
        raise _Usage(f"info --{'all' if args.all else 'arch'} goes with --syscalls")
    print(trace_info(open_trace(args.trace)))
    return 0


def cmd_pack(args: argparse.Namespace) -> int:
    trace = open_trace(args.trace)
    copied = pack_trace(trace)
    _say(f"{trace.path}: packed ({copied} files copied in): it now holds its own copy of every captured file"
         if copied else f"{trace.path}: already packed")
    return 0


def cmd_ps(args: argparse.Namespace) -> int:
    print(process_listing(list_processes(read_log(open_trace(args.trace).log_path))))
    return 0


def _seed(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value < 1 << 31:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 2**31-1")
    return value


def _task_limit(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= 1 << 22:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and {1 << 22}")
    return value


def _address(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address: {text!r}") from None
    if not 0 <= value < 1 << 64:
        raise argparse.ArgumentTypeError(f"{text} is not a 64-bit address")
    return value


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    scale = units.get(text[-1:].upper(), 1)
    try:
        value = int(text[:-1] if scale > 1 else text, 0) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 128M)") from None
    if value <= 0 or value % 4096:
        raise argparse.ArgumentTypeError(f"{text}: a RAM size is a positive multiple of 4 KiB")
    return value


def _slice(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 100 <= value <= 1 << 40:
        raise argparse.ArgumentTypeError(f"{value} is not between 100 and 2**40")
    return value


def cmd_dump(args: argparse.Namespace) -> int:
    trace = open_trace(args.trace)
    contents = read_log(trace.log_path)
    wanted = None
    if args.kind:
        try:
            wanted = {EventKind.named(k) for k in args.kind.split(",")}
        except KeyError as exc:
            names = ", ".join(k.name.lower() for k in EventKind)
            raise _Fail(f"unknown event kind {exc.args[0]!r} (one of: {names})", EXIT_USAGE) from None
    width = len(f"{contents.events[-1].icount:,}") if contents.events else 1
    out = []
    for i, ev in enumerate(contents.events):
        if wanted is None or ev.kind in wanted:
            out.append(f"{ev.icount:>{width},} #{i:<6} {ev.describe()}")
    if contents.truncated:
        out.append("(the log ends with a torn record: the recording was killed)")
    print("\n".join(out))
    return 0


# -- gdb and REPL ---------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve
    trace = _debuggable(open_trace(args.trace), "serve")
    return serve(trace, host=args.host, port=args.port, once=args.once,
                 fresh=args.fresh, say=_say, pid=_chosen_pid(trace, args))


def cmd_repl(args: argparse.Namespace) -> int:
    from .repl import run_repl
    trace = _debuggable(open_trace(args.trace), "repl")
    return run_repl(trace, gdb=args.gdb, pid=_chosen_pid(trace, args))


def _chosen_pid(trace: TraceDir, args: argparse.Namespace) -> int | None:
    """-p PID, or -e NAME (the first process whose program is NAME); None: the first process."""
    if args.pid is None and args.exe is None:
        return None
    if args.pid is not None and args.exe is not None:
        raise _Usage("-p and -e both choose the process to debug: give one")
    processes = list_processes(read_log(trace.log_path))
    if args.pid is not None:
        if all(p.pid != args.pid for p in processes):
            raise _Fail(f"no process {args.pid} in this trace (see `ttdbg ps`)", 2)
        return args.pid
    for p in processes:
        if p.argv and (p.argv[0] == args.exe or os.path.basename(p.argv[0]) == args.exe):
            return p.pid
    raise _Fail(f"no process of the program {args.exe!r} in this trace (see `ttdbg ps`)", 2)


def _add_process_choice(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", "--pid", type=int, metavar="PID", help="debug process PID (see `ttdbg ps`)")
    parser.add_argument("-e", "--exe", metavar="NAME", help="debug the first process whose program is NAME")


def cmd_dap(args: argparse.Namespace) -> int:
    if args.trace is not None:
        _debuggable(open_trace(args.trace), "dap")  # a wrong TRACE fails here, in one line, before the protocol starts
    from .dap import run_dap
    return run_dap(args.trace)


def cmd_index(args: argparse.Namespace) -> int:
    from .query_cli import index_trace
    return index_trace(_debuggable(open_trace(args.trace), "index"), _say, force=args.force)


def cmd_query(args: argparse.Namespace) -> int:
    from .query_cli import run_query
    return run_query(list(args.words), _say, lambda trace: _chosen_pid(_debuggable(trace, "query"), args))


def cmd_timeline(args: argparse.Namespace) -> int:
    from .query import QueryError
    from .timeline_html import write_timeline
    try:
        return write_timeline(_debuggable(open_trace(args.trace), "timeline"), args.output, args.query, _say)
    except QueryError as exc:
        raise _Usage(str(exc)) from None


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    return run_demo(say=_say)


# -- plumbing ---------------------------------------------------------------------------------
class _Usage(Exception):
    pass


class _Fail(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _port(text: str) -> int:
    """argparse type for a TCP port: a usage error (exit 2) unless 0-65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range (0-65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ttdbg",
                                description="Time-travel debugging of x86-64, aarch64 and riscv64 Linux programs.")
    p.add_argument("--log", metavar="SPEC", help="log levels, e.g. debug or gdbstub=debug (or $TTDBG_LOG)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("record", help="run PROGRAM once under the emulator and record it")
    r.add_argument("-o", "--output", metavar="DIR", help="trace directory (default: under $TTDBG_TRACE_DIR)")
    r.add_argument("-f", "--force", action="store_true", help="replace an existing trace at DIR")
    r.add_argument("-q", "--quiet", action="store_true", help="do not print the trace location")
    r.add_argument("--stats", action="store_true", help="print instruction count and speed at the end")
    r.add_argument("--no-env", action="store_true",
                   help="run PROGRAM with an empty environment, so none of yours is stored in the trace")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show progress on stderr (default: when stderr is a terminal and stdin is not)")
    r.add_argument("--checkpoint-interval", type=int, default=1 << 28, metavar="N",
                   help="instructions between recorded state hashes (default 2^28)")
    r.add_argument("--chaos", action="store_true",
                   help="vary the threads' time slices and turns from a random seed (printed), to find races")
    r.add_argument("--chaos-seed", type=_seed, metavar="N", help="chaos mode with this seed (0 to 2**31-1)")
    r.add_argument("--slice", type=_slice, default=DEFAULT_SLICE, metavar="N",
                   help=f"instructions a thread runs before another gets its turn (default {DEFAULT_SLICE:,})")
    r.add_argument("--max-tasks", type=_task_limit, default=4096, metavar="N",
                   help="threads and processes at once; more fail with EAGAIN (default 4096)")
    r.add_argument("--sysroot", metavar="DIR",
                   help="a dynamic aarch64 or riscv64 program's loader and libraries (default: "
                        "/usr/aarch64-linux-gnu or /usr/riscv64-linux-gnu, as qemu-aarch64 -L)")
    r.add_argument("--board", choices=sorted(BOARDS), help="run PROGRAM as bare-metal firmware on this board")
    r.add_argument("--uart", metavar="BACKEND", help="with --board: UART0 on stdio (default), file:PATH, "
                   "tcp:PORT (a client on 127.0.0.1:PORT) or null")
    r.add_argument("--clock", choices=("virtual", "host"),
                   help="with --board: the guest's clock derived from the instruction count (virtual, the "
                        "default) or paced to real time (host: each check point's reading is logged)")
    r.add_argument("--load", type=_address, metavar="ADDR", help="with --board: PROGRAM is a raw binary loaded at ADDR")
    r.add_argument("--ram", type=_size, metavar="SIZE", help="with --board: RAM size, e.g. 128M (the default), 1G")
    r.add_argument("program", nargs=argparse.REMAINDER, metavar="PROGRAM [ARGS...]")
    r.set_defaults(func=cmd_record)

    rp = sub.add_parser("replay", help="replay a trace (under gdb, or to the end with -a)")
    rp.add_argument("trace", nargs="?", help="trace directory (default: the latest)")
    rp.add_argument("-a", "--autopilot", action="store_true", help="replay to the end without a debugger")
    rp.add_argument("--output", metavar="FILE", help="with -a: write the program's output to FILE")
    rp.add_argument("-q", "--quiet", action="store_true", help="with -a: discard the program's output")
    rp.add_argument("--stats", action="store_true", help="with -a: print what was verified")
    rp.add_argument("--uart", metavar="BACKEND", help="a board trace's UART0 output: stdio (default), file:PATH, null")
    rp.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    rp.add_argument("--gdb", metavar="PATH", help="the gdb to run (default: gdb on PATH, gdb-multiarch "
                                                   "for a trace of another architecture than the host's)")
    _add_process_choice(rp)
    rp.add_argument("gdb_args", nargs=argparse.REMAINDER, metavar="-- GDB-ARGS")
    rp.set_defaults(func=cmd_replay)

    s = sub.add_parser("serve", help="serve a trace to gdb (target remote)")
    s.add_argument("trace", nargs="?")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; IPv6 such as ::1 works too)")
    s.add_argument("--port", type=_port, default=1234, help="TCP port, 0-65535; 0 picks a free one (default 1234)")
    s.add_argument("--once", action="store_true", help="exit after the first gdb session")
    s.add_argument("--fresh", action="store_true", help="every connection starts at the beginning")
    _add_process_choice(s)
    s.set_defaults(func=cmd_serve)

    rl = sub.add_parser("repl", help="an interactive time-travel prompt on a trace")
    rl.add_argument("trace", nargs="?")
    rl.add_argument("--gdb", metavar="PATH", help="gdb for rich expressions, if installed (default: gdb, "
                    "gdb-multiarch for another architecture than the host's)")
    _add_process_choice(rl)
    rl.set_defaults(func=cmd_repl)

    da = sub.add_parser("dap", help="a Debug Adapter Protocol server on stdio (VS Code and other DAP clients)")
    da.add_argument("trace", nargs="?",
                    help="the trace to debug when launch/attach names none (default: the latest)")
    da.set_defaults(func=cmd_dap)

    ps = sub.add_parser("ps", help="list the processes of a trace (PID PPID EXIT CMD)")
    ps.add_argument("trace", nargs="?")
    ps.set_defaults(func=cmd_ps)

    i = sub.add_parser("info", help="summarize a trace, or list the system calls (--syscalls)")
    i.add_argument("trace", nargs="?")
    i.add_argument("--syscalls", action="store_true", help="list the system calls the emulated kernel knows")
    i.add_argument("--all", action="store_true", help="with --syscalls: also those it does not (-ENOSYS)")
    i.add_argument("--arch", choices=sorted(arch_names()), help="with --syscalls: numbered as this "
                   "architecture's programs and traces number them (default: x86-64)")
    i.set_defaults(func=cmd_info)

    pk = sub.add_parser("pack", help="make a trace self-contained (its own copy of every captured file), as rr pack")
    pk.add_argument("trace", nargs="?")
    pk.set_defaults(func=cmd_pack)

    d = sub.add_parser("dump", help="print the event log, one event a line")
    d.add_argument("trace", nargs="?")
    d.add_argument("--kind", metavar="KINDS", help="only these kinds, e.g. char_read,clock")
    d.set_defaults(func=cmd_dump)

    ix = sub.add_parser("index", help="store keyframes in a trace, so seeks and queries start near their target")
    ix.add_argument("trace", nargs="?")
    ix.add_argument("--force", action="store_true", help="rebuild them even if they are up to date")
    ix.set_defaults(func=cmd_index)

    qy = sub.add_parser("query", help="every write, read, call, line or event of the whole run",
                        description="ttdbg query [-p PID | -e NAME] [TRACE] KIND ARGS... [--from N] [--to M] "
                        "[--json] [--jobs N] [--cluster tcp://HOST:PORT] "
                        "(hits in that process only; default: the first); "
                        "KIND: syscalls [NAME], events [KIND], exec ADDRESS, lines FILE:LINE, "
                        "writes LOC[:LEN], reads LOC[:LEN], calls FUNCTION, values EXPR at LOC, "
                        "origin EXPR [--at N] [--depth D]")
    _add_process_choice(qy)
    qy.add_argument("words", nargs=argparse.REMAINDER, metavar="[TRACE] KIND ARGS...")
    qy.set_defaults(func=cmd_query)

    tlp = sub.add_parser("timeline", help="a self-contained HTML picture of the trace's events and query hits")
    tlp.add_argument("trace", nargs="?")
    tlp.add_argument("-o", "--output", default="trace.html", metavar="FILE", help="the page (default trace.html)")
    tlp.add_argument("--query", metavar="'KIND ARGS'", help="overlay the hits of a query, e.g. 'writes counter'")
    tlp.set_defaults(func=cmd_timeline)

    dm = sub.add_parser("demo", help="build, record and replay the bundled example")
    dm.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] | None = None
    if "replay" in argv and "--" in argv and argv.index("replay") < argv.index("--"):
        # `ttdbg replay [TRACE] -- GDB-ARGS`: everything after -- belongs to gdb.
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    logconfig.configure(args.log)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if extra is not None:
        args.gdb_args = [*(args.gdb_args or []), *extra]
    elif getattr(args, "gdb_args", None) and args.gdb_args[:1] == ["--"]:
        args.gdb_args = args.gdb_args[1:]
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except _Usage as exc:
        _say(str(exc))
        return EXIT_USAGE
    except _Fail as exc:
        _say(str(exc))
        return exc.status
    except ReplayError as exc:
        _say(str(exc))
        return exc.exit_status
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except BrokenPipeError:
        try:
            sys.stdout.close()
        except OSError:
            pass
        return 0
    except Exception as exc:  # a bug in ttdbg itself: one line, details on request
        log.debug("internal error", exc_info=True)
        _say(f"internal error: {type(exc).__name__}: {exc} (run with --log debug for the traceback)")
        return EXIT_INTERNAL


def entry() -> None:
    try:
        status = main()
    except KeyboardInterrupt:              # Ctrl-C outside a command (parsing, set-up)
        _say("interrupted")
        status = 130
    sys.exit(status)


if __name__ == "__main__":
    entry()
