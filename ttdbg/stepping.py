"""Source-level motion over the timeline: step, next, finish, both directions.

The Timeline moves by instructions and stops at breakpoints/watchpoints;
this module turns that into gdb's line-level commands using the line table
and frames from `symbols.Symbols`:

  step / next      single-step until a new line starts; `next` (and `step`
                   into code without line info) runs over a call with a
                   temporary breakpoint on its return address, checked
                   against the stack pointer so recursion does not fool it;
  finish           temporary breakpoint on the caller's return address;
  reverse variants step back one instruction at a time; stepping back out
                   of a callee's `ret` onto the instruction after its call
                   is skipped with a reverse continue to the call site, and
                   a reverse line step finishes at the *first* instruction
                   of the previous line, as in gdb.

It also owns the "watch stops only when the value changes" rule, since the
engine reports every write: a write that leaves the bytes unchanged is
continued past, in both directions.

With several threads a motion moves one thread (`thread`, as gdb steps the
selected one): its instructions are the steps (thread_steps.py), its
registers are the ones read, and a temporary breakpoint counts only when that
thread reaches it.  Without `thread`, the instructions of whichever thread
runs are the steps.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from replay import Direction, StopReason, Timeline, TimeStop, WatchKind, Watchpoint

from .symbols import Frame, Symbols, unwound_registers

if TYPE_CHECKING:
    from .solibs import ImageSymbols
    from .thread_steps import ThreadSteps

FORWARD, BACKWARD = Direction.FORWARD, Direction.BACKWARD


class MotionError(Exception):
    """A motion that cannot start here (one-line message)."""


@dataclass(frozen=True)
class Motion:
    """Where a motion ended; `stop.reason` ARRIVED means it did what was asked."""

    stop: TimeStop
    note: str = ""


class Stepper:
    def __init__(self, timeline: Timeline, symbols: Symbols | None,
                 should_stop: Callable[[], bool] | None = None, images: ImageSymbols | None = None,
                 steps: ThreadSteps | None = None) -> None:
        self.tl = timeline
        self.steps = steps
        self.thread: int | None = None    # the thread motions move (None: whichever runs)
        self.sym = symbols
        self.images = images          # the program and its shared libraries, for frames through libc
        self.should_stop = should_stop or (lambda: False)
        self.last_watch_before: dict[Watchpoint, bytes | None] = {}   # values before the last watch stop
        arch = timeline.arch
        assert arch.debug is not None           # the CLI refuses an architecture without it
        self.arch, self.abi = arch, arch.debug
        self.sp_name = arch.sp
        self.push = arch.debug.call_push     # what a call pushes: at a callee's entry sp = caller's - push

    # -- facts -----------------------------------------------------------------------
    def _tid(self) -> int | None:
        """The moving thread, for register reads (None: it is the one running here)."""
        t = self.thread
        return None if t is None or t == self.tl.current_tid else t

    def reg(self, name: str) -> int:
        return self.tl.read_register(name, self._tid())

    @property
    def pc(self) -> int:
        tid = self._tid()
        return self.tl.pc if tid is None else self.tl.read_register(self.arch.pc, tid)

    def _step1(self, direction: Direction) -> TimeStop:
        """One instruction of the moving thread (of whichever runs, without one)."""
        if self.thread is None or self.steps is None:
            return self.tl.step(1, direction, self.should_stop)
        stop, _ = self.steps.step(self.thread, direction, self.should_stop)
        if self.thread not in {t.tid for t in self.tl.threads()}:
            self.thread = None                    # it made its exit
        return stop

    def _ours_here(self) -> bool:
        """At a breakpoint: is it the moving thread that is about to run the instruction?"""
        return self.thread is None or self.steps is None or self.tl.runner() == self.thread

    def read_u64(self, address: int) -> int:
        return struct.unpack("<Q", self.tl.read_memory(address, 8))[0]

    def frames(self, limit: int = 64, tid: int | None = None) -> list[Frame]:
        """Thread `tid`'s stack (None: the running thread's), innermost first."""
        regs = {n: self.tl.read_register(n, tid) for n in unwound_registers(self.arch)}
        if self.images is not None:
            return self.images.unwind(regs, self._read, self.arch, limit)
        if self.sym is None:
            return [Frame(0, regs[self.arch.pc], 0, regs)]
        return self.sym.unwind(regs, self._read, self.arch, limit)

    def sp(self) -> int:
        return self.reg(self.sp_name)

    def _is_call(self, insn) -> bool:
        return insn is not None and insn.mnemonic in self.abi.call_mnemonics

    def _return_address_at_ret(self) -> int:
        """At a return instruction: where it goes (the link register, or the top of the stack)."""
        link = self.abi.link_register
        return self.reg(link) if link else self.read_u64(self.sp())

    def _read(self, address: int, length: int) -> bytes:
        return self.tl.read_memory(address, length)

    def _line(self, pc: int):
        return self.sym.line_at(pc) if self.sym is not None else None

    def _func(self, pc: int):
        return self.sym.function_at(pc) if self.sym is not None else None

    def _here(self) -> TimeStop:
        return TimeStop(StopReason.ARRIVED, self.tl.position, self.pc)

    # -- continuing, with the value-change rule for `watch` ---------------------------------
    def cont(self, direction: Direction) -> TimeStop:
        while True:
            before = self._watched_values()
            stop = self.tl.cont(direction, self.should_stop)
            w = stop.watch
            if (stop.reason == StopReason.WATCHPOINT and w is not None and w.kind == WatchKind.WRITE
                    and w in before and self._value(w) == before[w]):
                continue
            if w is not None:
                self.last_watch_before = {w: before.get(w)}
            return stop

    def _watched_values(self) -> dict[Watchpoint, bytes | None]:
        return {w: self._value(w) for w in self.tl.watchpoints if w.kind == WatchKind.WRITE}

    def _value(self, w: Watchpoint) -> bytes | None:
        try:
            return self.tl.read_memory(w.address, w.length)
        except Exception:
            return None

    def run_to(self, address: int, direction: Direction, cond: Callable[[], bool]) -> TimeStop:
        """Continue to `address` where `cond()` holds; any other stop is returned as is."""
        tl = self.tl
        added = address not in tl.breakpoints
        if added:
            tl.add_breakpoint(address)
        try:
            while True:
                stop = self.cont(direction)
                if stop.reason == StopReason.BREAKPOINT and stop.pc == address:
                    if self._ours_here() and cond():
                        return TimeStop(StopReason.ARRIVED, stop.icount, stop.pc)
                    if self.should_stop():
                        return TimeStop(StopReason.INTERRUPTED, stop.icount, stop.pc)
                    continue
                return stop
        finally:
            if added:
                tl.remove_breakpoint(address)

    # -- instruction motion ------------------------------------------------------------------
    def stepi(self, count: int, direction: Direction) -> TimeStop:
        if self.thread is None:
            return self.tl.step(count, direction, self.should_stop)
        stop = self._here()
        for _ in range(count):
            stop = self._step1(direction)
            if stop.reason != StopReason.ARRIVED or self.should_stop():
                break
        return stop

    def nexti(self, direction: Direction) -> TimeStop:
        if direction == BACKWARD:
            return self._back_one(over=True)
        insn = self.tl.instruction_at(self.pc)
        if self._is_call(insn):
            sp = self.sp()
            ret = insn.address + insn.size
            stop = self._step1(FORWARD)
            if stop.reason != StopReason.ARRIVED:
                return stop
            return self.run_to(ret, FORWARD, lambda sp=sp: self.sp() >= sp)
        return self._step1(FORWARD)

    def _back_one(self, over: bool) -> TimeStop:
        """One instruction back; with `over`, a whole call is undone at once."""
        prev_pc, prev_sp = self.pc, self.sp()
        stop = self._step1(BACKWARD)
        if stop.reason != StopReason.ARRIVED:
            return stop
        insn = self.tl.instruction_at(self.pc)
        if insn is None or insn.mnemonic not in self.abi.return_mnemonics:
            return stop
        try:
            came_back = self._return_address_at_ret() == prev_pc
        except Exception:
            came_back = False
        if not came_back or not (over or self._line(self.pc) is None):
            return stop
        call = self._call_site(prev_pc)
        if call is not None:
            return self.run_to(call, BACKWARD, lambda: self.sp() == prev_sp)
        # Unknown call encoding: step back until the stack is back where it was.
        while not self.should_stop():
            stop = self._step1(BACKWARD)
            if stop.reason != StopReason.ARRIVED:
                return stop
            if self.sp() == prev_sp and self._is_call_ending_at(self.pc, prev_pc):
                return stop
        return TimeStop(StopReason.INTERRUPTED, self.tl.position, self.pc)

    def _is_call_ending_at(self, address: int, end: int) -> bool:
        insn = self.tl.instruction_at(address)
        return self._is_call(insn) and insn.address + insn.size == end

    def _call_site(self, return_address: int) -> int | None:
        for length in self.abi.call_sizes:
            if self._is_call_ending_at(return_address - length, return_address):
                return return_address - length
        return None

    # -- line motion ------------------------------------------------------------------------
    def step_line(self, over: bool, direction: Direction) -> Motion:
        if direction == FORWARD and self.tl.held_signal and self.sym is not None:
            entered = self._into_handler()
            if entered is not None:
                return Motion(entered)
        if self.sym is None or self._line(self.pc) is None:
            names = self.images or self.sym
            fn = names.name_at(self.pc) if names is not None else None
            where = f" {fn.split('+')[0]}" if fn else ""
            if direction == FORWARD:
                stop = self.finish(FORWARD)
                return Motion(stop.stop, f"Single stepping until exit from function{where},\n"
                                         "which has no line number information.")
            return Motion(self._back_one(over=True), "")
        if direction == FORWARD:
            return Motion(self._step_forward(over))
        return Motion(self._step_backward(over))

    def _into_handler(self) -> TimeStop | None:
        """At a signal's delivery, gdb's step and next go into the handler, to its first line.
        None when the delivery entered nothing with lines (an ignored signal): step as usual."""
        sym = self.sym
        assert sym is not None
        stop = self._step1(FORWARD)          # makes the delivery
        if stop.reason != StopReason.ARRIVED:
            return stop
        f = sym.function_at(self.pc)
        if f is None or self.pc != f.low or sym.line_at(self.pc) is None:
            return None
        body = sym.after_prologue(f)
        return self.run_to(body, FORWARD, lambda: True) if body != self.pc else stop

    def _step_forward(self, over: bool) -> TimeStop:
        tl, sym = self.tl, self.sym
        assert sym is not None
        row0 = sym.line_at(self.pc)
        func0 = sym.function_at(self.pc)
        while True:
            if self.should_stop():
                return TimeStop(StopReason.INTERRUPTED, tl.position, self.pc)
            insn = tl.instruction_at(self.pc)
            if self._is_call(insn):
                sp = self.sp()
                ret = insn.address + insn.size
                stop = self._step1(FORWARD)
                if stop.reason != StopReason.ARRIVED:
                    return stop
                f = sym.function_at(self.pc)
                if over or f is None or sym.line_at(self.pc) is None:
                    stop = self.run_to(ret, FORWARD, lambda sp=sp: self.sp() >= sp)
                    if stop.reason != StopReason.ARRIVED:
                        return stop
                    continue
                if self.pc == f.low:
                    body = sym.after_prologue(f)
                    if body != self.pc:
                        # in this very call (not a deeper recursion): its frame is at most the caller's
                        return self.run_to(body, FORWARD, lambda sp=sp: self.sp() <= sp - self.push)
                return stop
            stop = self._step1(FORWARD)
            if stop.reason != StopReason.ARRIVED:
                return stop
            row = sym.line_at(self.pc)
            if row is None:
                return stop                      # returned into (or jumped to) code without lines
            f = sym.function_at(self.pc)
            if sym.is_line_start(self.pc) and (row.line != row0.line or row.file != row0.file or f is not func0):
                return stop

    def _step_backward(self, over: bool) -> TimeStop:
        tl, sym = self.tl, self.sym
        assert sym is not None
        row0 = sym.line_at(self.pc)
        func0 = sym.function_at(self.pc)
        assert row0 is not None
        start = tl.position
        stop = self._to_line_start()
        if tl.position != start or stop.reason != StopReason.ARRIVED:
            return stop                          # from mid-line: to the line's start first, as gdb does
        while True:
            if self.should_stop():
                return TimeStop(StopReason.INTERRUPTED, tl.position, self.pc)
            stop = self._back_one(over)
            if stop.reason != StopReason.ARRIVED:
                return stop
            row = sym.line_at(self.pc)
            if row is None:
                return stop
            f = sym.function_at(self.pc)
            if row.line != row0.line or row.file != row0.file or f is not func0:
                break
        stop = self._to_line_start()
        f = sym.function_at(self.pc)
        if (stop.reason == StopReason.ARRIVED and f is not None and self.pc == f.low and f is func0
                and tl.position > 0):
            # Backed into this function's prologue: like gdb, go on to the caller's line.
            stop = self._step1(BACKWARD)
            if stop.reason == StopReason.ARRIVED and sym.line_at(self.pc) is not None:
                stop = self._to_line_start()
        return stop

    def _to_line_start(self) -> TimeStop:
        """Back to the first instruction of this execution of the current line."""
        tl, sym = self.tl, self.sym
        assert sym is not None
        row1 = sym.line_at(self.pc)
        f1 = sym.function_at(self.pc)
        while row1 is not None:
            if self.should_stop():
                return TimeStop(StopReason.INTERRUPTED, tl.position, self.pc)
            here = tl.position
            if f1 is not None and self.pc == f1.low:
                break
            stop = self._back_one(over=True)
            if stop.reason == StopReason.HISTORY_START:
                break
            if stop.reason != StopReason.ARRIVED:
                return stop
            row = sym.line_at(self.pc)
            if row is None or row.line != row1.line or row.file != row1.file or sym.function_at(self.pc) is not f1:
                tl.seek(here)
                break
        return self._here()

    def finish(self, direction: Direction) -> Motion:
        frames = self.frames(2, self._tid())
        if direction == FORWARD:
            if len(frames) < 2 or not frames[0].cfa:
                raise MotionError('"finish" not meaningful in the outermost frame.')
            cfa = frames[0].cfa
            ra = frames[1].pc
            stop = self.run_to(ra, FORWARD, lambda: self.sp() >= cfa)
            return Motion(stop)
        pc = self.pc
        entry = None
        f = self._func(pc)
        if f is not None:
            entry = f.low
        elif self.images is not None or self.sym is not None:
            found = (self.images or self.sym).symbolize(pc)
            entry = found[0].address if found else None
        if entry is None or not frames[0].cfa:
            raise MotionError('"reverse-finish" not meaningful here (no function bounds known).')
        cfa = frames[0].cfa
        if pc != entry:
            stop = self.run_to(entry, BACKWARD, lambda: self.sp() == cfa - self.push)
            if stop.reason != StopReason.ARRIVED:
                return Motion(stop)
        return Motion(self._step1(BACKWARD))
