"""The gdb stub's Target, implemented over a DebugSession's Timeline.

This is the only place where the gdb protocol's notions (stop replies,
Z-packet kinds, gdb register numbers, host I/O) meet the engine's
(TimeStop, Watchpoint, machine register names).  Writes are refused, as rr
refuses them during replay.
"""

from __future__ import annotations

import errno
import logging
import re
import shlex
from collections.abc import Iterable

from gdbstub import (
    BreakKind,
    Capability,
    Direction,
    HostStat,
    RegisterInfo,
    StopKind,
    StopReason,
    TargetDescription,
    TargetError,
    ThreadInfo,
)
from gdbstub.target import ShouldStop
from replay import DebugInfo, MemoryRegion, ReplayError, TimeStop, WatchKind, Watchpoint
from replay import Direction as TimeDirection
from replay import StopReason as TimeReason

from .positions import parse_position
from .process_events import PointKind, ProcessEvent, ProcessPoint, ProcessPoints, Reported
from .session import DebugSession
from .thread_steps import NoSuchThread, ThreadSteps

log = logging.getLogger(__name__)

_WATCH_KIND = {BreakKind.WRITE: WatchKind.WRITE, BreakKind.READ: WatchKind.READ,
               BreakKind.ACCESS: WatchKind.ACCESS}
_EVENT_STOP = {Reported.FORK: StopKind.FORK, Reported.VFORK: StopKind.VFORK,
               Reported.VFORK_DONE: StopKind.VFORK_DONE, Reported.EXEC: StopKind.EXEC}
_WATCH_STOP = {WatchKind.WRITE: StopKind.WATCH, WatchKind.READ: StopKind.RWATCH,
               WatchKind.ACCESS: StopKind.AWATCH}
_SYSCALL_STOP = {TimeReason.SYSCALL_ENTRY: StopKind.SYSCALL_ENTRY, TimeReason.SYSCALL_RETURN: StopKind.SYSCALL_RETURN}
SIGTRAP = 5
_ADDRESS_SPACE = 1 << 64
# gdb opens a handful of files at a time; each open holds a whole captured file.
_MAX_HOST_FDS = 64
_TASK_FILE = re.compile(r"task/(\d+)/(.+)")     # /proc/PID/task/TID/NAME, after /proc/PID/
# Named checkpoints are never thinned: bound what one gdb can pile up.


class ReplayTarget:
    """A gdbstub Target over one debugging session."""

    capabilities = frozenset({
        Capability.REVERSE_STEP, Capability.REVERSE_CONTINUE, Capability.SW_BREAK,
        Capability.HW_BREAK, Capability.WATCH_WRITE, Capability.WATCH_READ,
        Capability.WATCH_ACCESS, Capability.HOST_IO, Capability.AUXV, Capability.EXEC_FILE,
        Capability.MONITOR, Capability.PASS_SIGNALS, Capability.PROCESS_EVENTS, Capability.CATCH_SYSCALLS,
    })

    def __init__(self, session: DebugSession) -> None:
        self.session = session
        self.timeline = session.timeline
        debug = self.timeline.arch.debug
        if debug is None:
            raise ReplayError(f"gdb cannot debug {self.timeline.arch.name} programs yet")
        self._debug = debug
        self.description = describe(debug)
        self.pid = session.pid
        self._break_kinds: dict[int, BreakKind] = {}
        self._last = self._translate(self.timeline.here())
        self._stop_tid = self.timeline.current_tid
        self._steps = ThreadSteps(self.timeline)
        self._past_end = False
        self._exit_at_end = False      # `monitor exit`: a continue at the end reports the exit
        self._query_hits: list[dict] = []       # the last `monitor query`'s rows, for `monitor goto #N`
        self._query_runner = None               # made by the first `monitor query`
        self._program_signals: frozenset[int] | None = None
        self._host_fds: dict[int, bytes] = {}
        self._next_fd = 3
        self._points = ProcessPoints(session.contents.events, self.pid)
        self._reports: dict[str, bool] = {"fork": False, "vfork": False, "exec": False}   # what gdb asked
        self._vforked: set[int] = set()         # vfork children reported, whose VFORK_DONE is to come
        self._catch: tuple[frozenset[int] | None, bool] = (None, False)   # gdb's QCatchSyscalls

    # -- connections ----------------------------------------------------------------------
    def begin_session(self, *, rewind: bool = False) -> None:
        """Forget what the previous gdb left behind; with `rewind`, go back to instruction 0.

        A gdb that vanished mid-continue leaves its breakpoints inserted, and one that
        ran past the end saw the process exit: the next gdb must find a stopped process
        with no traps of its own, where the last one left it (or at the start).
        """
        tl = self.timeline
        for addr in list(tl.breakpoints):
            tl.remove_breakpoint(addr)
        for watch in list(tl.watchpoints):
            tl.remove_watchpoint(watch)
        self._break_kinds.clear()
        self._host_fds.clear()
        self._past_end = False
        self._exit_at_end = False
        self._reports = dict.fromkeys(self._reports, False)
        self._vforked.clear()
        self._catch = (None, False)
        tl.catch_syscalls(*self._catch)
        if rewind:
            tl.seek(0)
        # a plain stop (gdb shows the frame), or the signal waiting to be delivered here
        self._last = self._translate(tl.here())
        self._stop_tid = tl.current_tid

    # -- state --------------------------------------------------------------------------
    def stop_reason(self) -> StopReason:
        return self._last

    @property
    def tid(self) -> int:
        """The thread of the last stop: after a step, the thread that made the
        instruction (backwards: whose instruction was undone), else the engine's
        (the one at the breakpoint, the one that wrote)."""
        return self._stop_tid

    def threads(self) -> list[ThreadInfo]:
        return [ThreadInfo(t.tid, t.name) for t in self.timeline.threads()]

    def read_registers(self, tid: int | None = None) -> list[int | None]:
        tl = self.timeline
        if tid is None:                     # the stop's thread, if it is still there
            tid = self._stop_tid if self._stop_tid in {t.tid for t in tl.threads()} else None
        if tid == tl.current_tid:
            tid = None
        values: list[int | None] = []
        for reg in self._debug.registers:
            if reg.unavailable:
                values.append((1 << 64) - 1)
                continue
            try:
                values.append(tl.read_register(reg.source, tid))
            except KeyError:
                values.append(None)
            except ReplayError as exc:      # no such thread (any more, or yet) here
                raise TargetError(errno.ESRCH, str(exc)) from None
        return values

    def write_register(self, regnum: int, value: int, tid: int | None = None) -> None:
        raise TargetError(errno.EPERM, "registers cannot be changed during replay")

    def read_memory(self, addr: int, length: int) -> bytes:
        out = self.timeline.read_memory_prefix(addr, length)
        if not out and length:
            raise TargetError(errno.EFAULT, f"cannot access memory at {addr:#x}")
        return out

    def write_memory(self, addr: int, data: bytes) -> None:
        raise TargetError(errno.EPERM, "memory cannot be changed during replay")

    # -- motion ------------------------------------------------------------------------------
    def resume(self, step: bool, direction: Direction, should_stop, tid: int | None = None) -> StopReason:
        """Run or step.  At the end of the recording a forward resume stops there
        again ("No more reverse-execution history"), as `record full` replay does
        at the end of its log, so gdb keeps the process and can go back; only after
        `monitor exit` does it report how the recorded run ended (gdb then
        considers the process gone)."""
        tl = self.timeline
        tdir = TimeDirection.BACKWARD if direction == Direction.BACKWARD else TimeDirection.FORWARD
        at_end = (tdir == TimeDirection.FORWARD and not tl.held_signal and tl.at_end
                  and self._at_recorded_end())
        if at_end and self._exit_at_end and not step:
            self._past_end = True
            return self._remember(self._translate(tl.end_stop(), final=True))
        if at_end:
            return self._remember(self._translate(TimeStop(TimeReason.HISTORY_END, tl.position, tl.pc)))
        made_by = 0
        try:
            if step:      # a step never stops at a caught call (as ptrace's single step)
                tl.catch_syscalls(None, enabled=False)
                try:
                    stop, made_by = self._step(self._stop_tid if tid is None else tid, tdir, should_stop,
                                               chosen=tid is not None)
                finally:
                    tl.catch_syscalls(*self._catch)
            elif tdir == TimeDirection.FORWARD and any(self._reports.values()):
                stop, event = self._cont_to_process_event(should_stop)
                if event is not None:
                    self._stop_tid = tl.current_tid
                    self._past_end = False
                    return self._remember(self._translate(stop, event=event))
            else:
                stop = tl.cont(tdir, should_stop)
            if stop.reason == TimeReason.WATCHPOINT and self._debug.gdb_steps_over_watchpoints:
                stop = self._before_access(stop, tdir)
        except ReplayError as exc:
            log.error("%s", exc)
            raise TargetError(errno.EIO, str(exc)) from None
        live = {t.tid for t in tl.threads()}
        stop_tid = made_by if step and stop.reason == TimeReason.ARRIVED else (stop.tid or tl.current_tid)
        self._stop_tid = stop_tid if stop_tid in live else tl.current_tid   # it made its exit
        self._past_end = False
        ran_into_exit = stop.reason == TimeReason.HISTORY_END and stop.exit_status is not None
        return self._remember(self._translate(stop, step, final=self._exit_at_end and not step and ran_into_exit))

    def _step(self, tid: int, tdir: TimeDirection, should_stop: ShouldStop, chosen: bool) -> tuple[TimeStop, int]:
        """One instruction of thread `tid` (thread_steps.py); a thread gone is ESRCH when gdb
        chose it, else (gdb's current thread made its exit) the next thread steps."""
        try:
            return self._steps.step(tid, tdir, should_stop, chosen=chosen)
        except NoSuchThread as exc:
            raise TargetError(errno.ESRCH, str(exc)) from None

    def _before_access(self, stop: TimeStop, tdir: TimeDirection) -> TimeStop:
        """A watchpoint stop as gdb expects it where watchpoints trap before the access
        (aarch64): the accessing instruction not yet run, in the direction of motion.
        gdb then steps over it itself, the watchpoint removed, and reports the change
        there: just after the access forward, just before it in reverse, as on x86-64.
        The engine stops just after a forward access and just before a reverse one."""
        tl = self.timeline
        tl.seek(tl.position - 1 if tdir == TimeDirection.FORWARD else tl.position + 1)
        return TimeStop(stop.reason, tl.position, tl.pc, stop.address, stop.watch, tid=stop.tid)

    # -- forks and execs (process_events.py) --------------------------------------------------
    def process_events(self, fork: bool, vfork: bool, exec: bool) -> None:
        self._reports = {"fork": fork, "vfork": vfork, "exec": exec}

    def _cont_to_process_event(self, should_stop: ShouldStop) -> tuple[TimeStop, ProcessEvent | None]:
        """Continue forward to the next stop or process event gdb asked for: (the stop, None),
        or (the arrival, the event).  Points gdb does not hear of are passed by (a breakpoint
        right there still stops: gdb never stood there to step over it)."""
        tl = self.timeline
        while True:
            point = next((p for p in self._points.after(tl.position) if self._may_report(p)), None)
            stop = tl.cont(TimeDirection.FORWARD, should_stop, until=None if point is None else point.icount)
            if point is None or stop.reason != TimeReason.ARRIVED or stop.icount != point.icount:
                return stop, None
            event = self._event_at(point)
            if event is not None:
                return stop, event
            if tl.pc in tl.breakpoints:
                return TimeStop(TimeReason.BREAKPOINT, stop.icount, stop.pc, address=stop.pc, tid=stop.tid), None

    def _may_report(self, point: ProcessPoint) -> bool:
        if point.kind == PointKind.FORK:
            return self._reports["fork"] or self._reports["vfork"]
        if point.kind == PointKind.EXEC:
            return self._reports["exec"]
        return point.child in self._vforked

    def _event_at(self, point: ProcessPoint) -> ProcessEvent | None:
        """The stop gdb hears of at `point` (the timeline stands there); None: none."""
        tl = self.timeline
        if point.kind == PointKind.FORK:
            vfork = tl.vfork_child() == point.child
            if not self._reports["vfork" if vfork else "fork"]:
                return None
            if vfork:
                self._vforked.add(point.child)
            return ProcessEvent(Reported.VFORK if vfork else Reported.FORK, point.child)
        if point.kind == PointKind.CHILD_DONE:
            self._vforked.discard(point.child)
            return ProcessEvent(Reported.VFORK_DONE)
        # A new program: gdb takes every breakpoint and watchpoint out (it inserts its
        # breakpoints again, at their places in the new program).
        for addr in list(tl.breakpoints):
            tl.remove_breakpoint(addr)
        for watch in list(tl.watchpoints):
            tl.remove_watchpoint(watch)
        self._break_kinds.clear()
        return ProcessEvent(Reported.EXEC, path=tl.program)

    def _at_recorded_end(self) -> bool:
        return self.timeline.position >= self.timeline.end.icount

    def _remember(self, reason: StopReason) -> StopReason:
        self._last = reason
        return reason

    def _translate(self, stop: TimeStop, step: bool = False, *, final: bool = False,
                   event: ProcessEvent | None = None) -> StopReason:
        """The one mapping of the engine's stops to the stub's.  `final`: at the
        end of the recording, report how the recorded run ended (after `monitor
        exit`: gdb then considers the process gone).  `event`: the fork or exec
        gdb hears of where `stop` arrived."""
        if event is not None:
            return StopReason(_EVENT_STOP[event.kind], child=event.child or None, path=event.path or None)
        r = stop.reason
        if final and r == TimeReason.SIGNALLED:
            return StopReason(StopKind.TERMINATED, signal=_gdb_signal(stop.signal))
        if final and r == TimeReason.HISTORY_END and stop.exit_status is not None:
            return StopReason(StopKind.EXITED, exit_status=stop.exit_status)
        if r == TimeReason.BREAKPOINT:
            kind = self._break_kinds.get(stop.address or 0, BreakKind.SOFTWARE)
            return StopReason(StopKind.HW_BREAK if kind == BreakKind.HARDWARE else StopKind.SW_BREAK)
        if r == TimeReason.WATCHPOINT and stop.watch is not None:
            return StopReason(_WATCH_STOP[stop.watch.kind], address=stop.watch.address)
        if r == TimeReason.HISTORY_START:
            return StopReason(StopKind.REPLAY_BEGIN)
        if r == TimeReason.HISTORY_END:
            return StopReason(StopKind.REPLAY_END)
        if r in (TimeReason.SIGNALLED, TimeReason.DELIVERY):
            return StopReason(StopKind.SIGNAL, signal=_gdb_signal(stop.signal))
        if r == TimeReason.INTERRUPTED:
            return StopReason(StopKind.INTERRUPTED, signal=2)
        if r in _SYSCALL_STOP:
            return StopReason(_SYSCALL_STOP[r], syscall=stop.syscall)
        return StopReason(StopKind.SIGNAL, SIGTRAP)

    def insert_breakpoint(self, kind: BreakKind, addr: int, length: int) -> None:
        _check_range(kind, addr, length)
        if kind in (BreakKind.SOFTWARE, BreakKind.HARDWARE):
            self._break_kinds[addr] = kind
            # The replayed program is a user-space process: nothing at or above the top of
            # the user half is ever mapped for it, so no instruction there can run.
            if addr < self._debug.user_end:     # above it: accepted, and never hit
                self.timeline.add_breakpoint(addr)
        else:
            self.timeline.add_watchpoint(Watchpoint(addr, length, _WATCH_KIND[kind]))

    def remove_breakpoint(self, kind: BreakKind, addr: int, length: int) -> None:
        _check_range(kind, addr, length)
        if kind in (BreakKind.SOFTWARE, BreakKind.HARDWARE):
            self._break_kinds.pop(addr, None)
            self.timeline.remove_breakpoint(addr)
        else:
            self.timeline.remove_watchpoint(Watchpoint(addr, length, _WATCH_KIND[kind]))

    # -- signals ---------------------------------------------------------------------------------
    def pass_signals(self, signals: frozenset[int]) -> None:
        """gdb's `handle SIG nostop noprint pass` list: delivered without a stop."""
        self.timeline.pass_signals = frozenset(_host_signal(s) for s in signals)

    def catch_syscalls(self, numbers: frozenset[int] | None, enabled: bool) -> None:
        """gdb's `catch syscall`: the numbers are the trace's architecture's, as its log's
        (aarch64's write is 64); continues stop at each call's entry and return."""
        self._catch = (numbers, enabled)
        self.timeline.catch_syscalls(numbers, enabled)

    def program_signals(self, signals: frozenset[int]) -> None:
        """Which signals gdb lets reach the program.  A replay delivers what was
        recorded whatever gdb resumes with (as `record full` replay does), so this
        is only remembered."""
        self._program_signals = frozenset(_host_signal(s) for s in signals)

    # -- process facts -------------------------------------------------------------------------
    def auxv(self) -> bytes:
        return self.session.auxv

    def exec_file(self) -> str:
        """The debugged process's program here (after an exec, the new one)."""
        return self.session.program

    def host_open(self, path: str, flags: int, mode: int) -> int:
        if flags & 3:
            raise TargetError(errno.EACCES, "the trace's files are read-only")
        try:                                # a captured file missing or corrupt in the trace: EIO
            data = self._proc_file(path)
            if data is None:
                data = self.session.read_captured(path)
        except ReplayError as exc:
            raise TargetError(errno.EIO, str(exc)) from None
        if data is None:
            raise TargetError(errno.ENOENT, f"{path} is not in the trace")
        if len(self._host_fds) >= _MAX_HOST_FDS:
            raise TargetError(errno.EMFILE, f"{_MAX_HOST_FDS} files already open")
        fd = self._next_fd
        self._next_fd += 1
        self._host_fds[fd] = data
        return fd

    def _proc_name(self, path: str) -> str | None:
        """`maps` for /proc/PID/maps (or /proc/self/maps); None for a path outside them."""
        for prefix in (f"/proc/{self.pid}/", "/proc/self/"):
            if path.startswith(prefix):
                return path[len(prefix):]
        return None

    def _proc_file(self, path: str) -> bytes | None:
        """A /proc file of the replayed process, from the trace alone: the engine's
        (maps, at the current position), then the ones the recording's header and
        auxv fix for the whole run, then the executable itself for `exe`.  Any other
        /proc name is absent (ENOENT): never the host's."""
        name = self._proc_name(path)
        if name is None:
            return None
        tid = None
        task = _TASK_FILE.fullmatch(name)          # task/TID/NAME: a live thread's own directory
        if task is not None:
            tid, name = int(task.group(1)), task.group(2)
            if tid not in {t.tid for t in self.timeline.threads()}:
                raise TargetError(errno.ENOENT, f"{path}: no thread {tid} here")
        data = self.timeline.proc_file(name, tid)
        if data is not None:
            return data
        header = self.session.header
        fixed = {
            "auxv": lambda: self.session.auxv,
            "cmdline": lambda: _nul_joined(header.argv),
            "environ": lambda: _nul_joined(header.env),
            "exe": lambda: self.session.read_captured(self.session.program),
        }
        make = fixed.get(name)
        if make is None:
            raise TargetError(errno.ENOENT, f"{path}: the trace does not make this /proc file")
        return make()

    def host_readlink(self, path: str) -> str:
        """/proc/PID/exe and /proc/PID/cwd as the recording saw them."""
        links = {"exe": self.session.program, "cwd": self.session.header.cwd}
        name = self._proc_name(path)
        if name not in links:
            raise TargetError(errno.ENOENT if name is not None else errno.EINVAL,
                              f"{path} is not a link the trace knows")
        return links[name]

    def host_pread(self, fd: int, count: int, offset: int) -> bytes:
        data = self._host_fds.get(fd)
        if data is None:
            raise TargetError(errno.EBADF)
        return data[offset:offset + count]

    def host_close(self, fd: int) -> None:
        if self._host_fds.pop(fd, None) is None:
            raise TargetError(errno.EBADF)

    def host_fstat(self, fd: int) -> HostStat:
        data = self._host_fds.get(fd)
        if data is None:
            raise TargetError(errno.EBADF)
        return HostStat(size=len(data))

    # -- monitor -------------------------------------------------------------------------------
    def monitor(self, command: str, should_stop: ShouldStop) -> str:
        try:
            words = shlex.split(command)
        except ValueError as exc:
            return f"monitor: {exc}\n"
        if not words:
            return _MONITOR_HELP
        name, args = words[0], words[1:]
        tl = self.timeline
        try:
            if name == "when":
                return f"{self.session.when()}\n"
            if name == "query":
                return self._query(command.strip()[len("query"):])
            if name == "goto" and len(args) == 1:
                target = self._query_hit(args[0]) if args[0].startswith("#") else \
                    parse_position(args[0], tl.position, tl.end.icount)
                stop = tl.seek(target, should_stop)
                self._last = self._translate(stop, True)
                self._stop_tid = tl.current_tid
                done = "Now at"
                if stop.reason == TimeReason.INTERRUPTED:
                    log.info("monitor goto interrupted at instruction %d", tl.position)
                    done = "Interrupted at"
                return (f"{done} instruction {tl.position:,}, pc {tl.pc:#x}.\n"
                        "Run `maintenance flush register-cache` (`flushregs`) so gdb rereads the registers.\n")
            if name == "checkpoint":
                mark = self.session.checkpoint(args[0] if args else None)
                return f"Checkpoint {mark.name!r} at instruction {mark.icount:,}.\n"
            if name in ("checkpoints", "info-checkpoints"):
                marks = self.session.checkpoints()
                if not marks:
                    return "No checkpoints.\n"
                return "".join(f"{mark}\n" for mark in marks)
            if name == "restart" and len(args) == 1:
                stop = self.session.restart(args[0])
                self._last = self._translate(stop, True)
                self._stop_tid = tl.current_tid
                return (f"Restarted from {args[0]!r} at instruction {tl.position:,}.\n"
                        "Run `maintenance flush register-cache` (`flushregs`) so gdb rereads the registers.\n")
            if name == "info" and args == ["mem"]:
                return info_mem(self.timeline.memory_map())
            if name == "info" and args == ["board"]:
                return self.session.board_state() + "\n"
            if name == "info" and not args:
                return self.session.summary() + "\n"
            if name == "exit":
                self._exit_at_end = True
                return ("At the end of the recording, `continue` now reports how the program ended;\n"
                        "gdb then considers the process gone.\n")
            if name == "help":
                return _MONITOR_HELP
        except (ReplayError, ValueError) as exc:
            return f"monitor {name}: {exc}\n"
        return f"Unknown monitor command {command!r}.\n" + _MONITOR_HELP

    def _query(self, text: str) -> str:
        """`monitor query ...`: the table (or JSON lines), notes and the summary."""
        from .query import QueryError, parse_question, render_json, render_table  # imports the REPL: late
        from .query_cli import ask, runner_for
        notes: list[str] = []
        try:
            question = parse_question(shlex.split(text))
            if self._query_runner is None:
                self._query_runner = runner_for(self.session, notes.append)
            answer = ask(self._query_runner, question)
        except QueryError as exc:
            return f"monitor query: {exc}\n"
        self._query_hits = answer.rows
        body = render_json(answer.rows) if question.json else render_table(question.kind, answer.rows)
        tail = [f"note: {n}" for n in (*notes, *answer.notes)] + [answer.summary]
        return "\n".join([body, *tail] if body else tail) + "\n"

    def _query_hit(self, text: str) -> int:
        from .query import QueryError, goto_target
        try:
            return goto_target(self._query_hits, text)
        except QueryError as exc:
            raise ValueError(str(exc)) from None

    def kill(self) -> None:
        pass

    def detach(self) -> None:
        pass


def describe(debug: DebugInfo) -> TargetDescription:
    """The stub's description of an architecture, from the engine's table of it (replay/arch/)."""
    expedite = set(debug.expedite)
    return TargetDescription(
        architecture=debug.gdb_architecture, osabi=debug.osabi, types=debug.types,
        registers=tuple(RegisterInfo(name=r.name, bitsize=r.bitsize, type=r.type, regnum=i, feature=r.feature,
                                     group=r.group, expedite=r.name in expedite)
                        for i, r in enumerate(debug.registers)))


_PROT_READ, _PROT_WRITE = 1, 2   # Linux's PROT_* bits, as MemoryRegion.prot holds them


def info_mem(regions: Iterable[MemoryRegion]) -> str:
    """`monitor info mem` in QEMU's x86-64 format, which GEF and pwndbg parse:
    `start-end size attrs` per run of adjacent pages with the same protection, attrs
    being u (user page: all of them), r (readable) or -, w (writable) or -."""
    runs: list[list[int]] = []
    for r in regions:
        prot = r.prot & (_PROT_READ | _PROT_WRITE)
        if runs and runs[-1][1] == r.start and runs[-1][2] == prot:
            runs[-1][1] = r.end
        else:
            runs.append([r.start, r.end, prot])
    return "".join(
        f"{start:016x}-{end:016x} {end - start:016x} u{'r' if prot & _PROT_READ else '-'}"
        f"{'w' if prot & _PROT_WRITE else '-'}\n"
        for start, end, prot in runs)


def _nul_joined(strings: tuple[str, ...]) -> bytes:
    """/proc/PID/cmdline and environ: each string followed by a NUL."""
    return b"".join(s.encode("utf-8", "surrogateescape") + b"\0" for s in strings)


def _check_range(kind: BreakKind, addr: int, length: int) -> None:
    """Refuse (EINVAL) an address, or a watched range, that does not fit in 64 bits."""
    if addr >= _ADDRESS_SPACE:
        raise TargetError(errno.EINVAL, f"address {addr:#x} does not fit in 64 bits")
    if kind in _WATCH_KIND and addr + max(length, 1) > _ADDRESS_SPACE:
        raise TargetError(errno.EINVAL, f"watched range {addr:#x}+{length:#x} wraps past 2^64")


_MONITOR_HELP = """ttdbg monitor commands:
  monitor when              current instruction count and total
  monitor goto N            go to instruction N (also +N, -N, 50%, start, end, #HIT)
  monitor query KIND ...    every hit over the whole trace (writes, reads, calls, lines, exec,
                            values, syscalls, events); then monitor goto #N
  monitor checkpoint [NAME] remember this position
  monitor checkpoints       list remembered positions
  monitor restart NAME      return to a remembered position
  monitor info              trace summary
  monitor info mem          the memory map here, as QEMU's monitor prints it
  monitor info board        a board's devices here: UART FIFO, interrupts, timer
  monitor exit              let `continue` at the end report the recorded exit
"""


def _gdb_signal(linux_signal: int) -> int:
    """The remote protocol numbers signals as gdb does (gdb/signals.def), not as Linux."""
    return _LINUX_TO_GDB.get(linux_signal, _GDB_UNKNOWN)


def _host_signal(gdb_signal: int) -> int:
    """A gdb signal number as Linux's (0 for gdb's signals Linux has not, e.g. SIGPRIO)."""
    return _GDB_TO_LINUX.get(gdb_signal, 0)


# Linux x86-64 signal numbers -> gdb's: 1-6, 8, 9, 11, 13-15, 21, 22 and 24-28 agree;
# realtime signals 33-63 are gdb's 45-75; SIGSTKFLT has no gdb number.
_GDB_UNKNOWN = 143
_LINUX_TO_GDB = {n: n for n in (1, 2, 3, 4, 5, 6, 8, 9, 11, 13, 14, 15, 21, 22, 24, 25, 26, 27, 28)} | {
    7: 10, 10: 30, 12: 31, 17: 20, 18: 19, 19: 17, 20: 18, 23: 16, 29: 23, 30: 32, 31: 12, 32: 77, 64: 78,
    **{n: n + 12 for n in range(33, 64)}}
_GDB_TO_LINUX = {g: n for n, g in _LINUX_TO_GDB.items()}
