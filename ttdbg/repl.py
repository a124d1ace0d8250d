"""`ttdbg repl`: an interactive time-travel prompt on a trace.

The `Repl` holds one DebugSession's debugging state (breakpoints, the
stepper, the gdb bridge, what was shown last) and runs one command line at
a time through `execute(line) -> str`; the command table in commands.py
dispatches.  `run_repl` wraps it in a prompt_toolkit PromptSession (history
file, Ctrl-R search, completion, a bottom toolbar with a progress bar) and
turns Ctrl-C during a long motion into the timeline's should_stop.  Errors
become one line (habit 7); nothing here exits the process.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from replay.errors import ReplayError
from replay.events import EventKind
from replay.machine import WatchKind, Watchpoint
from replay.timeline import Direction, StopReason, TimeStop
from replay.trace import TraceDir

from . import render
from .commands import CommandError, build_completer, lookup
from .expressions import INT_TYPES, LValue, Parser, format_int, tokens
from .gdbmi_bridge import BridgeError, GdbBridge
from .handle import describe as describe_signal
from .positions import parse_position
from .render import SourceCache, Style, XFormat
from .session import DebugSession
from .solibs import ImageSymbols, SharedLibraries
from .stepping import MotionError, Stepper
from .symbols import CType, Frame, SymbolError, Symbols

log = logging.getLogger(__name__)

FORWARD, BACKWARD = Direction.FORWARD, Direction.BACKWARD
HISTORY_PATH = os.path.join(os.path.expanduser("~"), ".local", "share", "ttdbg", "repl_history")
_KIND_WORD = {"write": WatchKind.WRITE, "read": WatchKind.READ, "access": WatchKind.ACCESS}
_WATCH_TITLE = {WatchKind.WRITE: "Hardware watchpoint", WatchKind.READ: "Hardware read watchpoint",
                WatchKind.ACCESS: "Hardware access (read/write) watchpoint"}
_SIGNAMES = {4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL",
             11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"}


@dataclass
class Breakpoint:
    number: int
    kind: str                       # "breakpoint" or "watchpoint"
    location: str                   # what the user typed
    address: int
    temporary: bool = False
    enabled: bool = True
    hits: int = 0
    watch: Watchpoint | None = None
    ctype: CType | None = None


class Repl:
    def __init__(self, session: DebugSession, *, gdb: str = "gdb", use_gdb: bool = True,
                 style: Style = render.PLAIN) -> None:
        self.session = session
        self.tl = session.timeline
        self.style = style
        self.symbols: Symbols | None = None
        data = session.read_captured(session.program)
        if data is not None:
            try:
                self.symbols = Symbols(data, session.program)
            except SymbolError as exc:
                log.warning("no symbols: %s", exc)
        self.libraries: SharedLibraries | None = None
        if session.header.interpreter:
            self.libraries = SharedLibraries(session.read_captured, session.files,
                                             lambda: self.tl.machine.mem.regions(), lambda: self.tl.position,
                                             session.program, session.header.interpreter)
        self.images = ImageSymbols(self.symbols, self.libraries)
        self.interrupt = threading.Event()
        self.progress = MotionProgress(self.tl, self.interrupt, style)
        self.stepper = Stepper(self.tl, self.symbols, should_stop=self.progress, images=self.images)
        self._frame = 0                  # the selected frame's level (`frame`, `up`, `down`)
        self.breakpoints: dict[int, Breakpoint] = {}
        self._next_bp = 1
        self.bridge = GdbBridge(session, gdb) if use_gdb and GdbBridge.available(gdb) else None
        self._told_no_gdb = False
        self._history = 0
        self._shown_regs: dict[str, int] | None = None
        self._last_regs: dict[str, int] | None = None
        self._sources = SourceCache()
        self._list_next: tuple[str, int] | None = None
        self._last_x = XFormat()
        self._next_x: int | None = None
        self._last_line = ""
        self.done = False
        self._last_regs = self._regs()

    # -- running one line ------------------------------------------------------------------
    def execute(self, line: str) -> str:
        """Run one command line; the text to show (errors are one line, never a traceback)."""
        text = line.strip()
        if not text:
            if not self._last_line:
                return ""
            text = self._last_line
        word, arg = _split_command(text)
        self.interrupt.clear()
        try:
            cmd = lookup(word)
            self._last_line = text if cmd.repeat else ""
            return cmd.handler(self, arg)
        except (CommandError, SymbolError, MotionError, BridgeError, ReplayError) as exc:
            self._last_line = ""
            return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        except KeyboardInterrupt:
            return "Interrupted."
        except Exception as exc:   # a bug: still one line at the prompt, the details in the log
            log.debug("command %r failed", text, exc_info=True)
            return f"Internal error: {type(exc).__name__}: {exc}"

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.close()

    def quit(self) -> str:
        self.done = True
        return ""

    # -- facts -----------------------------------------------------------------------------
    def _regs(self) -> dict[str, int]:
        return {n: self.tl.read_register(n) for n in render.GPRS}

    def _total(self) -> int:
        return self.tl.end.icount

    def where(self, pc: int | None = None, caller: bool = False) -> str:
        """`func at file:line` (or `func from LIBRARY`); `caller` looks up the line of a return address's call."""
        pc = self.tl.pc if pc is None else pc
        name, tail = self.frame_words(pc, caller)
        if name == "??" and not tail:
            return f"{pc:#x}"
        return f"{name} {tail}".rstrip()

    def frame_words(self, pc: int, caller: bool = False) -> tuple[str, str]:
        """(function name or `??`, `at FILE:LINE` / `from LIBRARY` / ``) as gdb's frame lines show them."""
        obj = self.images.object_at(pc)
        if obj is not None:
            name = obj.symbols.name_at(pc) if obj.symbols is not None else None
            return (name.split("+")[0] if name else "??"), f"from {obj.path}"
        if self.symbols is None:
            return "??", ""
        f = self.symbols.function_at(pc)
        name = f.name if f is not None else (self.symbols.name_at(pc) or "??").split("+")[0]
        row = self.symbols.line_at(pc - 1 if caller else pc)
        if row is not None:
            return name, f"at {os.path.basename(row.file)}:{row.line}"
        return name, ""

    def frame_text(self, pc: int, level: int) -> str:
        """`0x... in bump () at tally.c:16`: the address only for callers and places without lines."""
        name, tail = self.frame_words(pc, caller=level > 0)
        addr = f"{pc:#018x} in " if level > 0 or not tail.startswith("at ") else ""
        return f"{addr}{name} ()" + (f" {tail}" if tail else "")

    def toolbar(self) -> str:
        return render.progress_bar(self.tl.position, self._total(), self.where())

    def location_words(self) -> list[str]:
        if self.symbols is None:
            return []
        words = [f.name for f in self.symbols.functions]
        words += [os.path.basename(f) + ":" for f in self.symbols.files()]
        words += [s.name for s in self.symbols.symbols if s.is_function][:5000]
        return words

    def expression_words(self) -> list[str]:
        words = [f"${r}" for r in render.GPRS] + ["$pc", "$sp", "$fp"]
        if self.symbols is not None:
            words += list(self.symbols.globals)
            f = self.symbols.function_at(self.tl.pc)
            if f is not None:
                words += [v.name for v in f.variables]
        return words

    # -- reporting a stop ------------------------------------------------------------------------
    def report(self, stop: TimeStop, note: str = "", before: str = "") -> str:
        out = [note] if note else []
        reason = self._reason_line(stop)
        if reason:
            out.append(reason)
        changed = before != self.where().split(" at ")[0]
        out.append(self._here_text(show_function=changed and stop.reason != StopReason.BREAKPOINT
                                   or stop.reason == StopReason.WATCHPOINT,
                                   show_address=not (reason and stop.reason == StopReason.BREAKPOINT)))
        self._after_motion()
        return "\n".join(x for x in out if x)

    def _after_motion(self) -> None:
        self._frame = 0
        self._shown_regs = self._last_regs
        self._last_regs = self._regs()
        self._list_next = None
        if self.bridge is not None:
            self.bridge.refresh()

    def _reason_line(self, stop: TimeStop) -> str:
        r = stop.reason
        if r == StopReason.BREAKPOINT:
            hit = [b for b in self.breakpoints.values()
                   if b.kind == "breakpoint" and b.enabled and b.address == stop.address]
            if not hit:
                return ""
            lines = []
            for b in hit:
                b.hits += 1
                lines.append(f"{'Temporary breakpoint' if b.temporary else 'Breakpoint'} {b.number}, "
                             f"{self.frame_text(self.tl.pc, 0)}")
                if b.temporary:
                    self._remove(b.number)
            return "\n".join(lines)
        if r == StopReason.WATCHPOINT and stop.watch is not None:
            b = next((b for b in self.breakpoints.values() if b.watch == stop.watch), None)
            if b is None:
                return "Watchpoint hit."
            b.hits += 1
            title = f"\n{_WATCH_TITLE[stop.watch.kind]} {b.number}: {b.location}\n"
            now = self._watch_value(b)
            if stop.watch.kind == WatchKind.WRITE:
                old = self.stepper.last_watch_before.get(stop.watch)
                old_text = self._format_bytes(old, b) if old is not None else "?"
                return f"{title}\nOld value = {old_text}\nNew value = {now}"
            return f"{title}\nValue = {now}"
        if r == StopReason.HISTORY_START:
            return "\nNo more reverse-execution history."
        if r == StopReason.HISTORY_END:
            if stop.exit_status is not None:
                how = "normally" if stop.exit_status == 0 else f"with code {stop.exit_status:02o}"
                return (f"\nNo more reverse-execution history (the program exited {how}"
                        f" after instruction {self.tl.position:,}).")
            return "\nNo more reverse-execution history (the trace ends here)."
        if r == StopReason.SIGNALLED:
            name = _SIGNAMES.get(stop.signal, f"signal {stop.signal}")
            return f"\nProgram received signal {name} (recorded; it ends the run)."
        if r == StopReason.DELIVERY:
            return f"\nProgram received signal {describe_signal(stop.signal)}."
        if r == StopReason.INTERRUPTED:
            return "\nInterrupted."
        return ""

    def _here_text(self, show_function: bool = True, instructions: int = 3, show_address: bool = True) -> str:
        pc = self.tl.pc
        out = []
        row = self.symbols.line_at(pc) if self.symbols is not None else None
        if row is not None:
            if show_function:
                out.append(self.where(pc).replace(" at ", " () at ", 1))
            text = self._sources.line(row.file, row.line)
            out.append(f"{row.line}\t{text}" if text is not None else f"{row.line}\tin {row.file}")
        elif show_address:
            out.append(self.frame_text(pc, 0))
        out.append(render.disassembly(self._decode(pc, instructions), pc, self.images, self.style))
        out.append(self._position_line())
        return "\n".join(out)

    def _position_line(self) -> str:
        total = self._total()
        pct = 100.0 * self.tl.position / total if total else 100.0
        return self.style(f"[icount {self.tl.position:,} / {total:,}  {pct:.1f}%]", "dim")

    def _decode(self, address: int, count: int):
        insns = []
        for _ in range(count):
            insn = self.tl.machine.instruction_at(address)
            if insn is None:
                break
            insns.append(insn)
            address += insn.size
        return insns

    # -- motion --------------------------------------------------------------------------------
    def _motion(self, fn: Callable[[], TimeStop], note: str = "", count: int = 1) -> str:
        self.progress.start()
        try:
            return self._motion_inner(fn, note, count)
        finally:
            self.progress.done()

    def _motion_inner(self, fn: Callable[[], TimeStop], note: str = "", count: int = 1) -> str:
        before = self.where().split(" at ")[0]
        stop = TimeStop(StopReason.ARRIVED, self.tl.position, self.tl.pc)
        for _ in range(max(count, 1)):
            stop = fn()
            if stop.reason != StopReason.ARRIVED or self.interrupt.is_set():
                break
        return self.report(stop, note, before)

    def motion_stepi(self, count: int, direction: Direction) -> str:
        return self._motion(lambda: self.stepper.stepi(count, direction))

    def motion_nexti(self, count: int, direction: Direction) -> str:
        return self._motion(lambda: self.stepper.nexti(direction), count=count)

    def motion_line(self, count: int, over: bool, direction: Direction) -> str:
        notes: list[str] = []

        def one() -> TimeStop:
            m = self.stepper.step_line(over, direction)
            if m.note:
                notes.append(m.note)
            return m.stop
        before = self.where().split(" at ")[0]
        stop = TimeStop(StopReason.ARRIVED, self.tl.position, self.tl.pc)
        for _ in range(max(count, 1)):
            stop = one()
            if stop.reason != StopReason.ARRIVED or self.interrupt.is_set():
                break
        return self.report(stop, "\n".join(notes[:1]), before)

    def motion_finish(self, direction: Direction) -> str:
        frames = self.stepper.frames(2)
        if self.symbols is not None and frames:
            what = "Run till exit from" if direction == FORWARD else "Run back to call of"
            note = f"{what} #0  {self.frame_text(frames[0].pc, 0)}"
        else:
            note = ""
        m = self.stepper.finish(direction)
        text = self.report(m.stop, note, "")
        if direction == FORWARD and m.stop.reason == StopReason.ARRIVED:
            rax = self.tl.read_register("rax")
            self._history += 1
            text += f"\nValue returned is ${self._history} = {rax - (1 << 64) if rax >> 63 else rax}"
        return text

    def motion_cont(self, direction: Direction) -> str:
        return self._motion(lambda: self._cont(direction))

    def _cont(self, direction: Direction) -> TimeStop:
        return self.stepper.cont(direction)

    def motion_goto(self, arg: str) -> str:
        arg = arg.strip()
        if not arg:
            raise CommandError("Argument required (an instruction count, +N, -N, P%, start or end).")
        try:
            target = parse_position(arg, self.tl.position, self._total())
        except ValueError:
            raise CommandError(f'Invalid position "{arg}" (N, +N, -N, P%, start or end).') from None
        self.progress.start()
        self.progress.target = target
        try:
            stop = self.tl.seek(target, self.progress)
        finally:
            self.progress.done()
        return self.report(stop, "", "")

    def checkpoint(self, arg: str) -> str:
        name = arg.strip() or f"c{len(self.tl.bookmarks()) + 1}"
        at = self.tl.bookmark(name)
        return f"Checkpoint {name!r} at instruction {at:,} ({self.where()})."

    def restart(self, arg: str) -> str:
        name = arg.strip()
        if not name:
            raise CommandError("Argument required (a checkpoint name; see `info checkpoints`).")
        if name not in self.tl.bookmarks():
            raise CommandError(f'No checkpoint named "{name}".')
        return self.report(self.tl.restart(name), f"Restarted from {name!r}.", "")

    # -- breakpoints ------------------------------------------------------------------------------
    def _sync(self) -> None:
        self.tl.breakpoints.clear()
        self.tl.breakpoints.update(b.address for b in self.breakpoints.values()
                                   if b.kind == "breakpoint" and b.enabled)
        self.tl.watchpoints.clear()
        self.tl.watchpoints.update(b.watch for b in self.breakpoints.values()
                                   if b.watch is not None and b.enabled)

    def add_break(self, arg: str, temporary: bool) -> str:
        arg = arg.strip()
        if not arg:
            address = self.tl.pc
            arg = f"*{address:#x}"
        else:
            address = self.resolve(arg)
        b = Breakpoint(self._next_bp, "breakpoint", arg, address, temporary=temporary)
        self._next_bp += 1
        self.breakpoints[b.number] = b
        self._sync()
        title = "Temporary breakpoint" if temporary else "Breakpoint"
        return f"{title} {b.number} at {address:#x}{self._at(address)}"

    def resolve(self, arg: str) -> int:
        """A LOCATION in the program, else a function of a loaded shared library."""
        arg = arg.strip()
        try:
            if self.symbols is not None:
                return self.symbols.resolve(arg)
            if arg.startswith("*"):
                return _parse_int(arg[1:])
            error = SymbolError('No symbol table is loaded; use "break *ADDRESS".')
        except SymbolError as exc:
            error = exc
        name = arg[1:].strip() if arg.startswith("*") else arg
        if self.libraries is not None and re.fullmatch(r"[A-Za-z_.$][\w.$@]*", name):
            sym = self.libraries.find_function(name)
            if sym is not None and sym.is_ifunc:
                return self._ifunc_target(name, sym.address)
            if sym is not None:
                return sym.address
            if not self.libraries.objects():
                raise SymbolError(f'Function "{name}" not defined (no shared libraries are loaded '
                                  "yet at this point in time; `info sharedlibrary` shows them).")
        raise error

    def _ifunc_target(self, name: str, resolver: int) -> int:
        """The implementation an ifunc (strcpy, memcpy...) was bound to: the program's GOT slot."""
        slot = self.symbols.got_slots.get(name) if self.symbols is not None else None
        if slot is not None:
            try:
                target = struct.unpack("<Q", self.tl.read_memory(slot, 8))[0]
            except ReplayError:
                target = 0
            if self.images.object_at(target) is not None and target != resolver:
                return target
        raise SymbolError(f'"{name}" is an indirect function (ifunc) not bound yet here; '
                          f"its resolver is at {resolver:#x}: break after its first call, or use break *ADDRESS.")

    def _at(self, address: int) -> str:
        row = self.symbols.line_at(address) if self.symbols is not None else None
        if row is not None and self.images.object_at(address) is None:
            return f": file {os.path.basename(row.file)}, line {row.line}."
        name = self.images.name_at(address)
        obj = self.images.object_at(address)
        return (f" <{name}>" if name else "") + (f" (from {obj.path})" if obj is not None else "")

    def add_watch(self, arg: str, kind: str) -> str:
        words = arg.split()
        if not words:
            raise CommandError("Argument required (an expression or address to watch).")
        length = None
        if len(words) > 1 and re.fullmatch(r"\d+|0x[0-9a-fA-F]+", words[-1]):
            length = _parse_int(words[-1])
            words = words[:-1]
        expr = " ".join(words)
        if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", expr):
            lv = LValue(_parse_int(expr), None)
        else:
            lv = self.lvalue(expr)
        if lv.address is None:
            raise CommandError(f"Cannot watch constant value `{expr}'.")
        ctype = lv.ctype
        size = length or (ctype.size if ctype is not None and ctype.size else 4)
        if length and ctype is not None and ctype.size != length:
            ctype = None
        w = Watchpoint(lv.address, size, _KIND_WORD[kind])
        b = Breakpoint(self._next_bp, "watchpoint", expr, lv.address, watch=w, ctype=ctype)
        self._next_bp += 1
        self.breakpoints[b.number] = b
        self._sync()
        return f"{_WATCH_TITLE[w.kind]} {b.number}: {expr}"

    def _watch_value(self, b: Breakpoint) -> str:
        assert b.watch is not None
        try:
            raw = self.tl.read_memory(b.watch.address, b.watch.length)
        except ReplayError:
            return "<unreadable>"
        return self._format_bytes(raw, b)

    def _format_bytes(self, raw: bytes | None, b: Breakpoint) -> str:
        if raw is None:
            return "<unreadable>"
        ctype = b.ctype or INT_TYPES.get(len(raw))
        if ctype is None:
            return raw.hex()
        return render.value(raw, ctype, self.images)

    def _numbers(self, arg: str) -> list[int]:
        out = []
        for w in arg.replace(",", " ").split():
            if "-" in w:
                a, _, b = w.partition("-")
                out += list(range(_parse_int(a), _parse_int(b) + 1))
            else:
                out.append(_parse_int(w))
        for n in out:
            if n not in self.breakpoints:
                raise CommandError(f"No breakpoint number {n}.")
        return out

    def _remove(self, number: int) -> None:
        self.breakpoints.pop(number, None)
        self._sync()

    def delete_breaks(self, arg: str) -> str:
        numbers = self._numbers(arg) if arg.strip() else list(self.breakpoints)
        for n in numbers:
            self._remove(n)
        return ""

    def enable_breaks(self, arg: str, enabled: bool) -> str:
        numbers = self._numbers(arg) if arg.strip() else list(self.breakpoints)
        for n in numbers:
            self.breakpoints[n].enabled = enabled
        self._sync()
        return ""

    def info_breakpoints(self) -> str:
        if not self.breakpoints:
            return "No breakpoints or watchpoints."
        lines = ["Num     Type            Disp Enb Address            What"]
        for b in sorted(self.breakpoints.values(), key=lambda b: b.number):
            disp = "del " if b.temporary else "keep"
            enb = "y" if b.enabled else "n"
            if b.watch is not None:
                typ = {WatchKind.WRITE: "hw watchpoint", WatchKind.READ: "read watchpoint",
                       WatchKind.ACCESS: "acc watchpoint"}[b.watch.kind]
                lines.append(f"{b.number:<8}{typ:<16}{disp} {enb}   {'':<18} {b.location}")
            else:
                what = self.where(b.address) if self.symbols is not None else ""
                lines.append(f"{b.number:<8}{'breakpoint':<16}{disp} {enb}   {b.address:<#18x} {what}")
            if b.hits:
                lines.append(f"\tbreakpoint already hit {b.hits} time{'s' if b.hits > 1 else ''}")
        return "\n".join(lines)

    # -- looking -----------------------------------------------------------------------------------
    def info_registers(self, arg: str) -> str:
        regs = self._regs()
        names = [n.lstrip("$") for n in arg.split()]
        if names:
            aliases = {"pc": "rip", "sp": "rsp", "fp": "rbp"}
            picked = {}
            for n in names:
                n = aliases.get(n, n)
                if n not in regs:
                    try:
                        picked[n] = self.tl.read_register(n)
                    except KeyError:
                        raise CommandError(f"Invalid register `{n}'") from None
                else:
                    picked[n] = regs[n]
            regs = picked
        return render.registers(regs, self._shown_regs, self.style, self.images)

    def examine(self, arg: str) -> str:
        fmt_text = ""
        arg = arg.strip()
        if arg.startswith("/"):
            fmt_text, _, arg = arg[1:].partition(" ")
        try:
            xf = render.parse_xfmt(fmt_text, self._last_x)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if arg.strip():
            address = self._address_of(arg.strip())
        elif self._next_x is not None:
            address = self._next_x
        else:
            raise CommandError("Argument required (starting display address).")
        self._last_x = xf
        text = render.examine(self.tl.read_memory, address, xf, self.images,
                              lambda a, n: self._decode(a, n))
        if xf.fmt == "i":
            insns = self._decode(address, xf.count)
            self._next_x = insns[-1].address + insns[-1].size if insns else address
        elif xf.fmt != "s":
            self._next_x = address + xf.size * xf.count
        return text

    def _address_of(self, expr: str) -> int:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", expr):
            return int(expr, 0)
        lv = self.lvalue(expr)
        if lv.value is not None:
            return lv.value
        if lv.ctype is not None and lv.ctype.kind == "pointer" and lv.address is not None:
            return struct.unpack("<Q", self.tl.read_memory(lv.address, 8))[0]
        if lv.address is None:
            raise CommandError(f"Cannot take the address of `{expr}'.")
        return lv.address

    def print_expr(self, arg: str) -> str:
        fmt = ""
        arg = arg.strip()
        if arg.startswith("/"):
            fmt, _, arg = arg[1:].partition(" ")
        if not arg:
            raise CommandError("Argument required (an expression).")
        if self._gdb_ready():
            assert self.bridge is not None
            return self._gdb(f"print{'/' + fmt if fmt else ''} {arg}")
        text = self._print_local(arg, fmt)
        return self._no_gdb_note() + text

    def _gdb_ready(self) -> bool:
        if self.bridge is None or self.bridge.failed:
            return False
        try:
            self.bridge.start()
            return True
        except BridgeError as exc:
            log.info("gdb bridge unavailable: %s", exc)
            return False

    def _no_gdb_note(self) -> str:
        if self._told_no_gdb:
            return ""
        self._told_no_gdb = True
        why = "gdb is not available" if self.bridge is None else f"gdb failed to start ({self.bridge.failed})"
        return (f"(note: {why}: print handles $registers, variables, *ADDR, arr[i], s.m and p->m; "
                "richer expressions need gdb)\n")

    def _print_local(self, expr: str, fmt: str) -> str:
        lv = self.lvalue(expr)
        if lv.value is not None:
            v = lv.value
            text = format_int(v, fmt, lv.ctype)
            if lv.ctype is not None and lv.ctype.kind == "pointer" and not fmt:
                name = self.images.name_at(v)
                text = f"({lv.ctype.name}) {v:#x}" + (f" <{name}>" if name else "")
            if expr.lstrip("$") in ("pc", "rip"):
                name = self.images.name_at(v)
                text = f"(void (*)()) {v:#x}" + (f" <{name}>" if name else "")
        else:
            assert lv.address is not None
            ctype = lv.ctype
            if ctype is None:
                ctype = INT_TYPES[8]
            if ctype.size == 0 or ctype.kind == "other":
                sym = self.images.name_at(lv.address)
                text = f"{{<text variable, no debug info>}} {lv.address:#x}" + (f" <{sym}>" if sym else "")
            else:
                raw = self.tl.read_memory(lv.address, ctype.size)
                if fmt and ctype.kind not in ("array", "struct"):
                    text = format_int(int.from_bytes(raw, "little", signed=True), fmt, ctype)
                else:
                    text = render.value(raw, ctype, self.images)
        self._history += 1
        return f"${self._history} = {text}"

    def ptype(self, arg: str) -> str:
        if not arg.strip():
            raise CommandError("Argument required (an expression).")
        if self._gdb_ready():
            assert self.bridge is not None
            return self._gdb(f"ptype {arg.strip()}")
        lv = self.lvalue(arg.strip())
        name = lv.ctype.name if lv.ctype is not None else "long"
        return self._no_gdb_note() + f"type = {name}"

    def lvalue(self, expr: str) -> LValue:
        """The small C subset understood without gdb."""
        return Parser(self, tokens(expr), expr).parse()

    # -- frames -------------------------------------------------------------------------------
    def selected_frame(self) -> Frame:
        """The frame `frame`/`up`/`down` selected (frame 0 after any motion)."""
        frames = self.stepper.frames(self._frame + 1)
        if len(frames) <= self._frame:
            self._frame = 0
        return frames[self._frame]

    def frame_register(self, name: str) -> int:
        """A register as the selected frame sees it (unwound rip, rsp, rbp and saved registers)."""
        if self._frame:
            regs = self.selected_frame().regs
            if name in regs:
                return regs[name]
        return self.tl.read_register(name)

    def read_memory(self, address: int, length: int) -> bytes:
        return self.tl.read_memory(address, length)

    def frame_cfa(self) -> int:
        return self.selected_frame().cfa

    def select_frame(self, arg: str, relative: int = 0) -> str:
        """`frame [N]` (relative 0), `up [N]` (+1) and `down [N]` (-1)."""
        arg = arg.strip()
        if arg and not re.fullmatch(r"\d+", arg):
            raise CommandError(f'Invalid number "{arg}".')
        if relative == 0:
            level = int(arg) if arg else self._frame
            frames = self.stepper.frames(level + 1)
            if len(frames) <= level:
                raise CommandError(f"No frame at level {arg}.")
        else:
            count = int(arg) if arg else 1
            want = self._frame + relative * count
            frames = self.stepper.frames(max(want, self._frame) + 1)
            if relative > 0 and want >= len(frames):
                if not arg or self._frame == len(frames) - 1:
                    raise CommandError("Initial frame selected; you cannot go up.")
                want = len(frames) - 1
            if relative < 0 and want < 0:
                if not arg or self._frame == 0:
                    raise CommandError("Bottom (innermost) frame selected; you cannot go down.")
                want = 0
            level = want
        self._frame = level
        fr = frames[level]
        out = [f"#{level:<2} {self.frame_text(fr.pc, level)}"]
        row = self.symbols.line_at(fr.pc - 1 if level else fr.pc) \
            if self.symbols is not None and self.images.object_at(fr.pc) is None else None
        if row is not None:
            text = self._sources.line(row.file, row.line)
            out.append(f"{row.line}\t{text}" if text is not None else f"{row.line}\tin {row.file}")
        self._list_next = None
        return "\n".join(out)

    def _frame_pc(self) -> int:
        return self.selected_frame().pc if self._frame else self.tl.pc

    def _gdb(self, command: str) -> str:
        """A gdb command in the selected frame."""
        assert self.bridge is not None
        try:
            self.bridge.console(f"select-frame {self._frame}")
        except BridgeError as exc:
            log.info("gdb cannot select frame %d: %s", self._frame, exc)
        return self.bridge.console(command)

    def find_variable(self, name: str) -> LValue | None:
        sym = self.symbols
        if sym is None:
            return None
        f = sym.function_at(self._frame_pc())
        if f is not None:
            for v in f.variables:
                if v.name == name and v.frame_offset is not None:
                    cfa = self.frame_cfa()
                    if cfa:
                        return LValue(cfa + v.frame_offset, v.ctype)
        g = sym.globals.get(name)
        if g is not None:
            return LValue(g.address, g.ctype)
        s = sym.by_name.get(name)
        if s is not None:
            if s.is_function:
                return LValue(s.address, CType("function", 0, "other"))
            return LValue(s.address, INT_TYPES.get(s.size, CType(f"<data variable, {s.size} bytes>", 0, "other")))
        return None

    def info_locals(self) -> str:
        if self._gdb_ready():
            assert self.bridge is not None
            return self._gdb("info locals") or "No locals."
        sym = self.symbols
        f = sym.function_at(self._frame_pc()) if sym is not None else None
        if f is None:
            return "No symbol table info available."
        cfa = self.frame_cfa()
        lines = []
        for v in f.variables:
            if v.frame_offset is None or not cfa:
                continue
            try:
                raw = self.tl.read_memory(cfa + v.frame_offset, max(v.ctype.size, 1))
                lines.append(f"{v.name} = {render.value(raw, v.ctype, self.images)}")
            except ReplayError:
                lines.append(f"{v.name} = <unreadable>")
        return "\n".join(lines) or "No locals."

    def backtrace(self, arg: str) -> str:
        if arg.strip() and self._gdb_ready():
            assert self.bridge is not None
            return self.bridge.console(f"bt {arg.strip()}")
        frames = self.stepper.frames()
        return "\n".join(f"#{fr.level:<2} {self.frame_text(fr.pc, fr.level)}" for fr in frames)

    def info_frame(self) -> str:
        level = self._frame
        frames = self.stepper.frames(level + 2)
        if len(frames) <= level:
            level = self._frame = 0
        f0 = frames[level]
        caller = frames[level + 1] if len(frames) > level + 1 else None
        name, tail = self.frame_words(f0.pc, caller=level > 0)
        where = f"{name} ({tail[3:]})" if tail.startswith("at ") else f"{name}" + (f" ({tail})" if tail else "")
        lines = [f"Stack level {level}, frame at {f0.cfa:#x}:",
                 f" rip = {f0.pc:#x} in {where}" + (f"; saved rip = {caller.pc:#x}" if caller else "")]
        links = []
        if caller is not None:
            links.append(f"called by frame at {caller.cfa:#x}")
        if level > 0:
            links.append(f"caller of frame at {frames[level - 1].cfa:#x}")
        if links:
            lines.append(" " + ", ".join(links))
        lines.append(f" rsp = {f0.regs['rsp']:#x}, rbp = {f0.regs['rbp']:#x}")
        if f0.cfa:
            lines.append(f" Saved registers:\n  rip at {f0.cfa - 8:#x}")
        return "\n".join(lines)

    def disassemble(self, arg: str) -> str:
        pc = self._frame_pc()
        arg = arg.strip()
        at = pc
        if arg:
            at = self.resolve(arg if not arg[0].isdigit() else "*" + arg)
        lo, hi = at, at + 64
        title = f"{at:#x}"
        image = self.images.image_at(at)
        if image is not None:
            f = image.function_at(at)
            found = image.symbolize(at)
            if f is not None:
                lo, hi, title = f.low, f.high, f.name
            elif found is not None and found[0].size:
                lo, hi, title = found[0].address, found[0].address + found[0].size, found[0].name
        insns = []
        addr = lo
        while addr < hi and len(insns) < 400:
            insn = self.tl.machine.instruction_at(addr)
            if insn is None:
                break
            insns.append(insn)
            addr += insn.size
        body = render.disassembly(insns, pc, self.images, self.style)
        return f"Dump of assembler code for function {title}:\n{body}\nEnd of assembler dump."

    def list_source(self, arg: str) -> str:
        arg = arg.strip()
        sym = self.symbols
        if sym is None:
            raise CommandError("No symbol table is loaded.")
        if arg:
            if re.fullmatch(r"\d+", arg):
                base = self._list_next[0] if self._list_next else self._current_file()
                file, center = base, int(arg)
            else:
                row = sym.line_at(sym.resolve(arg))
                if row is None:
                    raise CommandError(f'No line number information available for "{arg}".')
                file, center = row.file, row.line
            first = max(center - 5, 1)
        elif self._list_next is not None:
            file, first = self._list_next
        else:
            row = sym.line_at(self._frame_pc() - (1 if self._frame else 0))
            if row is None:
                raise CommandError("No line number information available for the current address.")
            file, first = row.file, max(row.line - 5, 1)
        if not file:
            raise CommandError("No default source file.")
        lines = self._sources.lines(file)
        if lines is None:
            raise CommandError(f"{first}\tin {file} (the source file is not readable here)")
        if first > len(lines):
            raise CommandError(f"Line number {first} out of range; \"{file}\" has {len(lines)} lines.")
        last = first + 9
        row = sym.line_at(self.tl.pc)
        current = row.line if row is not None and row.file == file else None
        self._list_next = (file, last + 1)
        return render.source_lines(self._sources, file, first, last, current, self.style)

    def _current_file(self) -> str:
        row = self.symbols.line_at(self.tl.pc) if self.symbols is not None else None
        if row is not None:
            return row.file
        files = self.symbols.files() if self.symbols is not None else []
        return files[0] if files else ""

    def when(self) -> str:
        total = self._total()
        pct = 100.0 * self.tl.position / total if total else 100.0
        return (f"Current instruction: {self.tl.position:,} of {total:,} ({pct:.1f}%), "
                f"pc {self.tl.pc:#x} in {self.where()}")

    def info_sharedlibrary(self) -> str:
        objects = self.libraries.objects() if self.libraries is not None else []
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

    def info_checkpoints(self) -> str:
        marks = self.tl.bookmarks()
        if not marks:
            return "No checkpoints."
        return "\n".join(f"{n:<16} {i:>15,}" for n, i in sorted(marks.items(), key=lambda x: x[1]))

    def info_trace(self) -> str:
        from .cli import trace_info
        return trace_info(self.session.trace)

    def events(self, arg: str) -> str:
        words = arg.split()
        kinds = None
        lo = hi = None
        show_all = False
        for w in words:
            if w == "all":
                show_all = True
            elif re.fullmatch(r"[\d,_]+(-|\.\.)[\d,_]+", w):
                a, b = re.split(r"-|\.\.", w)
                lo, hi = _parse_int(a), _parse_int(b)
            else:
                try:
                    kinds = {EventKind[k.strip().upper()] for k in w.split(",") if k.strip()}
                except KeyError as exc:
                    names = ", ".join(k.name.lower() for k in EventKind)
                    raise CommandError(f"Unknown event kind {exc.args[0]!r} (one of: {names}).") from None
        evs = list(enumerate(self.session.contents.events))
        if kinds is not None:
            evs = [(i, e) for i, e in evs if e.kind in kinds]
        if lo is not None and hi is not None:
            evs = [(i, e) for i, e in evs if lo <= e.icount <= hi]
        elif not show_all:
            pos = self.tl.position
            split = next((k for k, (_, e) in enumerate(evs) if e.icount > pos), len(evs))
            evs = evs[max(split - 5, 0):split + 5]
        if not evs:
            return "No events."
        width = len(f"{evs[-1][1].icount:,}")
        out = []
        marked = False
        for i, e in evs:
            if not marked and e.icount > self.tl.position:
                out.append(self.style(f"{'=> here':>{width}}  (icount {self.tl.position:,})", "bold"))
                marked = True
            out.append(f"{e.icount:>{width},} #{i:<5} {e.describe()}")
        if not marked:
            out.append(self.style(f"{'=> here':>{width}}  (icount {self.tl.position:,})", "bold"))
        out.append("(goto ICOUNT travels to an event)")
        return "\n".join(out)

    def banner(self) -> str:
        s = self.session
        note = "" if self.symbols is None or self.symbols.has_dwarf else \
            " (no debug info: build with -g for lines and variables)"
        return (f"ttdbg repl: {s.program}, {self._total():,} instructions recorded{note}.\n"
                f"Type \"help\" for commands; Ctrl-R searches history; Ctrl-C stops a long motion.\n"
                + self._here_text())


def _parse_int(text: str) -> int:
    try:
        return int(text.strip().replace(",", "").replace("_", ""), 0)
    except ValueError:
        raise CommandError(f'Invalid number "{text.strip()}".') from None


def _split_command(text: str) -> tuple[str, str]:
    """`x/4xg $sp` -> ("x", "/4xg $sp"); `b main` -> ("b", "main")."""
    m = re.match(r"([A-Za-z?][\w-]*)(.*)$", text, re.S)
    if m is None:
        word, _, rest = text.partition(" ")
        return word, rest.strip()
    word, rest = m.group(1), m.group(2)
    return word, rest if rest.startswith("/") else rest.strip()


# -- the interactive loop ------------------------------------------------------------------------
def make_prompt_session(repl: Repl, *, input=None, output=None, history=None):
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    if history is None:
        try:
            os.makedirs(os.path.dirname(HISTORY_PATH), exist_ok=True)
            history = FileHistory(HISTORY_PATH)
        except OSError:
            history = InMemoryHistory()
    return PromptSession(history=history, completer=build_completer(repl), complete_while_typing=False,
                         bottom_toolbar=repl.toolbar, input=input, output=output,
                         enable_history_search=False)


class MotionProgress:
    """The should_stop of every motion: Ctrl-C, and a progress line on a
    terminal when a motion runs for more than half a second."""

    def __init__(self, tl, interrupt: threading.Event, style) -> None:
        self.tl = tl
        self.interrupt = interrupt
        self.enabled = sys.stderr.isatty()
        self.target: int | None = None
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def start(self) -> None:
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if self.enabled and now - self._started > 0.5 and now - self._last > 0.25:
            self._last = now
            total = self.tl.end.icount or 1
            goal = f" -> {self.target:,}" if self.target is not None else ""
            bar = render.progress_bar(self.tl.position, total)
            sys.stderr.write(f"\r{bar}{goal}  (Ctrl-C stops)\x1b[K")
            sys.stderr.flush()
            self._shown = True
        return self.interrupt.is_set()

    def done(self) -> None:
        self.target = None
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False


def interact(repl: Repl, prompt_session, write: Callable[[str], None]) -> None:
    """Read lines until `quit` or end of input; Ctrl-C at the prompt clears the line."""
    previous = None
    while not repl.done:
        try:
            line = prompt_session.prompt("(ttdbg) ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            write("quit")
            break
        try:
            if threading.current_thread() is threading.main_thread():
                previous = signal.signal(signal.SIGINT, lambda *_: repl.interrupt.set())
            out = repl.execute(line)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
                previous = None
        if out:
            write(out)


def run_repl(trace: TraceDir, gdb: str = "gdb") -> int:
    import sys

    session = DebugSession(trace)
    repl = Repl(session, gdb=gdb, style=Style.for_stream(sys.stdout))

    def write(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    try:
        write(repl.banner())
        if not sys.stdin.isatty():
            # Scripted input (a pipe or file): plain lines, no prompt_toolkit.
            for line in sys.stdin:
                out = repl.execute(line)
                if out:
                    write(out)
                if repl.done:
                    break
            return 0
        interact(repl, make_prompt_session(repl), write)
    finally:
        repl.close()
    return 0


