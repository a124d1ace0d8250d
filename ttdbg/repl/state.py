"""What one REPL keeps between commands.

`ReplState` holds the debugging session and what the REPL adds to it: the
program's and libraries' symbols, the stepper, the user's breakpoints
(`Breakpoints`, mirrored into the timeline through its add/remove methods),
what was shown last (`View`: the selected frame, registers for change
highlighting, `list` and `x` continuation, `$N` history), and the optional
gdb bridge.  Command handlers are plain functions over it; nothing here
formats output.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from replay import Instruction, ThreadInfo, Timeline, Watchpoint

from .. import render
from ..gdb_program import default_gdb
from ..gdbmi_bridge import GdbBridge
from ..render import SourceCache, Style, XFormat
from ..session import DebugSession
from ..solibs import ImageSymbols, SharedLibraries
from ..stepping import Stepper
from ..symbols import CType, SymbolError, Symbols
from ..thread_steps import ThreadSteps
from .progress import MotionProgress

log = logging.getLogger(__name__)


@dataclass
class Breakpoint:
    number: int
    kind: str                       # "breakpoint", "watchpoint" or "catchpoint" (`catch syscall`)
    location: str                   # what the user typed
    address: int
    temporary: bool = False
    enabled: bool = True
    hits: int = 0
    watch: Watchpoint | None = None
    ctype: CType | None = None
    syscalls: frozenset[int] | None = None    # a catchpoint's call numbers (None: every call)


class Breakpoints:
    """The user's numbered breakpoints and watchpoints; the enabled ones armed in the timeline."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.by_number: dict[int, Breakpoint] = {}
        self._next = 1
        self._armed: set[int] = set()
        self._armed_watches: set[Watchpoint] = set()

    def add(self, kind: str, location: str, address: int, *, temporary: bool = False,
            watch: Watchpoint | None = None, ctype: CType | None = None,
            syscalls: frozenset[int] | None = None) -> Breakpoint:
        b = Breakpoint(self._next, kind, location, address, temporary=temporary, watch=watch, ctype=ctype,
                       syscalls=syscalls)
        self._next += 1
        self.by_number[b.number] = b
        self.sync()
        return b

    def remove(self, number: int) -> None:
        self.by_number.pop(number, None)
        self.sync()

    def sync(self) -> None:
        """Arm exactly the enabled breakpoints and watchpoints in the timeline."""
        want = {b.address for b in self.by_number.values() if b.kind == "breakpoint" and b.enabled}
        for address in self._armed - want:
            self.tl.remove_breakpoint(address)
        for address in want - self._armed:
            self.tl.add_breakpoint(address)
        self._armed = want
        watches = {b.watch for b in self.by_number.values() if b.watch is not None and b.enabled}
        for w in self._armed_watches - watches:
            self.tl.remove_watchpoint(w)
        for w in watches - self._armed_watches:
            self.tl.add_watchpoint(w)
        self._armed_watches = watches
        catches = [b.syscalls for b in self.by_number.values() if b.kind == "catchpoint" and b.enabled]
        every = any(numbers is None for numbers in catches)
        self.tl.catch_syscalls(None if every else frozenset().union(*catches), bool(catches))

    def __bool__(self) -> bool:
        return bool(self.by_number)

    def __contains__(self, number: int) -> bool:
        return number in self.by_number

    def __getitem__(self, number: int) -> Breakpoint:
        return self.by_number[number]

    def numbers(self) -> list[int]:
        return list(self.by_number)

    def values(self) -> list[Breakpoint]:
        return list(self.by_number.values())


@dataclass
class View:
    """What was shown last, for the next command."""
    frame: int = 0                              # the selected frame's level (`frame`, `up`, `down`)
    shown_regs: dict[str, int] | None = None    # registers before the last motion (changes highlighted)
    last_regs: dict[str, int] | None = None     # registers after it
    sources: SourceCache = field(default_factory=SourceCache)
    list_next: tuple[str, int] | None = None    # where a bare `list` continues
    last_x: XFormat = field(default_factory=XFormat)
    next_x: int | None = None                   # where a bare `x` continues
    history: int = 0                            # the last `$N` printed
    told_no_gdb: bool = False
    last_line: str = ""                         # what an empty line repeats
    thread: int | None = None                   # `thread N`'s tid (None: the thread running here)
    stop_tid: int | None = None                 # the thread of the last stop reported
    query_hits: list = field(default_factory=list)    # the last `query`'s rows, for `goto #N`
    query_runner: object = None                 # made by the first `query` (symbols read once)


class ReplState:
    def __init__(self, session: DebugSession, *, gdb: str | None = None, use_gdb: bool = True,
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
                                             lambda: self.tl.memory_map(), lambda: self.tl.position,
                                             session.program, session.header.interpreter)
        self.images = ImageSymbols(self.symbols, self.libraries)
        self.interrupt = threading.Event()
        self.progress = MotionProgress(self.tl, self.interrupt)
        self.stepper = Stepper(self.tl, self.symbols, should_stop=self.progress, images=self.images,
                               steps=ThreadSteps(self.tl))
        self.breakpoints = Breakpoints(self.tl)
        gdb = gdb or default_gdb(self.tl.arch)
        self.bridge = GdbBridge(session, gdb) if use_gdb and GdbBridge.available(gdb) else None
        self.thread_numbers: dict[int, int] = {self.tl.pid: 1}   # tid -> gdb-style thread number
        self.view = View(stop_tid=self.tl.current_tid)
        self.view.last_regs = self.regs()
        self.done = False

    # -- threads: registers and frames are the selected thread's ---------------------------
    @property
    def tid(self) -> int:
        """The selected thread (`thread N`), else the one running here."""
        return self.view.thread if self.view.thread is not None else self.tl.current_tid

    def reg(self, name: str) -> int:
        return self.tl.read_register(name, self.view.thread)

    @property
    def pc(self) -> int:
        return self.tl.pc if self.view.thread is None else self.reg(self.tl.arch.pc)

    def regs(self) -> dict[str, int]:
        """`info registers`' registers (the architecture's general ones), by name."""
        debug = self.tl.arch.debug
        assert debug is not None                # the CLI refuses an architecture without it
        return {n: self.reg(n) for n in debug.general_registers}

    def threads(self) -> tuple[ThreadInfo, ...]:
        """The live threads here, each given a number on first sight (the main thread is 1)."""
        threads = self.tl.threads()
        for t in threads:
            if t.tid not in self.thread_numbers:
                self.thread_numbers[t.tid] = max(self.thread_numbers.values()) + 1
        return threads

    def moving(self) -> None:
        """A stepping motion starts: it moves the selected thread (gdb's rule), when there are several."""
        self.stepper.thread = self.tid if len(self.tl.threads()) > 1 else None

    def thread_number(self, tid: int) -> int:
        if tid not in self.thread_numbers:
            self.threads()
        return self.thread_numbers.get(tid, 0)

    @property
    def total(self) -> int:
        return self.tl.end.icount

    def decode(self, address: int, count: int) -> list[Instruction]:
        """Up to `count` instructions from `address` (fewer where the code ends)."""
        insns = []
        for _ in range(count):
            insn = self.tl.instruction_at(address)
            if insn is None:
                break
            insns.append(insn)
            address += insn.size
        return insns
