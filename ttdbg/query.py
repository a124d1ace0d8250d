"""Omniscient queries: every write, read, call, line or event of a recorded run.

One grammar for the CLI (`ttdbg query`), the REPL (`query ...`) and gdb
(`monitor query ...`):

    syscalls [NAME] | events [KIND]          from the log, no replay
    exec ADDRESS|SYMBOL                      every execution of an instruction
    lines FILE:LINE                          every time the line's breakpoint address runs
    writes LOCATION[:LEN] | reads LOCATION[:LEN]   every access overlapping the range
    calls FUNCTION                           entries with ABI argument registers, returns
    values EXPR at LOCATION                  EXPR each time LOCATION runs
    options: --from N --to M --json --jobs N --cluster tcp://HOST:PORT

A LOCATION is an address, a symbol, `file.c:var` or a C lvalue over globals
(`items[2].total`, through the REPL's expression subset).  The engine
(replay.scan) runs the traps between keyframes in a process pool; this
module turns the question into a ScanSpec, whose `finish` (query_rows.py)
makes each segment's hits into rows in its worker.  Each row
has `goto`: the position `goto #N` travels to (for memory accesses, just
after the access, where a watchpoint stops; otherwise just before the
instruction).
"""

from __future__ import annotations

import json
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from replay import (
    Arch,
    DebugInfo,
    EventKind,
    ScanHit,
    ScanSpec,
    Timeline,
    TraceDir,
    WatchRange,
    ensure_keyframes,
    scan,
)

from .query_rows import (
    FORMS,
    CallPairing,
    ImageSource,
    Numbering,
    Places,
    RowMaker,
    index_cell,
    program_symbols,
    remember,
    show,
    syscall_of,
    table_cells,
)
from .render import pointer_registers, register_aliases
from .repl.expressions import INT_TYPES, LValue, Parser, tokens
from .repl.table import CommandError
from .symbols import CType, SymbolError, Symbols

KINDS = ("syscalls", "events", "exec", "lines", "writes", "reads", "calls", "values", "origin")
USAGE = ("query KIND ARGS... [--from N] [--to M] [--json] [--jobs N] [--cluster tcp://HOST:PORT]; "
         "KIND: syscalls [NAME], events [KIND], "
         "exec ADDRESS, lines FILE:LINE, writes LOC[:LEN], reads LOC[:LEN], calls FUNCTION, values EXPR at LOC, "
         "origin EXPR [--at N] [--depth D]")


class QueryError(Exception):
    """A question that cannot be asked (one line)."""


@dataclass
class Question:
    kind: str
    args: list[str]
    start: int = 0
    end: int | None = None
    json: bool = False
    jobs: int | None = None
    cluster: str | None = None       # a Dask scheduler's address: the scan's segments run there
    at: int | None = None            # origin: the position (default: the end)
    depth: int = 6                   # origin: levels of the tree


@dataclass
class Answer:
    rows: list[dict]
    summary: str
    notes: list[str] = field(default_factory=list)


def parse_question(words: list[str]) -> Question:
    """`KIND ARGS... [--from N] [--to M] [--json] [--jobs N] [--cluster ADDRESS]` as typed."""
    if not words:
        raise QueryError(f"usage: {USAGE}")
    kind = words[0]
    if kind not in KINDS:
        raise QueryError(f"unknown query kind {kind!r} (one of: {', '.join(KINDS)})")
    q = Question(kind, [])
    it = iter(words[1:])
    for w in it:
        if w in ("--from", "--to", "--jobs", "--at", "--depth"):
            value = next(it, None)
            if value is None:
                raise QueryError(f"{w} needs a number")
            try:
                n = int(value.replace(",", "").replace("_", ""), 0)
            except ValueError:
                raise QueryError(f"{w}: not a number: {value!r}") from None
            if n < 0 or (w == "--jobs" and n < 1):
                raise QueryError(f"{w}: out of range: {value}")
            if w == "--at":
                q.at = n
            elif w == "--depth":
                q.depth = max(1, min(n, 32))
            elif w == "--from":
                q.start = n
            elif w == "--to":
                q.end = n
            else:
                q.jobs = n
        elif w == "--json":
            q.json = True
        elif w == "--cluster":
            q.cluster = next(it, None)
            if q.cluster is None:
                raise QueryError("--cluster needs a scheduler's address (tcp://HOST:PORT)")
        else:
            q.args.append(w)
    return q


# -- what the program's symbols say ----------------------------------------------------------
class GlobalScope:
    """Expressions over globals and registers (the REPL's subset, without frames)."""

    def __init__(self, symbols: Symbols | None, registers: Callable[[str], int],
                 memory: Callable[[int, int], bytes], arch: Arch | None = None) -> None:
        self.symbols = symbols
        self._registers = registers
        self._memory = memory
        self._aliases = register_aliases(arch) if arch is not None else {}
        self.pointer_registers = pointer_registers(arch) if arch is not None else frozenset()

    def frame_register(self, name: str) -> int:
        return self._registers(self._aliases.get(name, name))

    def read_memory(self, address: int, length: int) -> bytes:
        return self._memory(address, length)

    def find_variable(self, name: str) -> LValue | None:
        sym = self.symbols
        if sym is None:
            return None
        g = sym.globals.get(name)
        if g is not None:
            return LValue(g.address, g.ctype)
        s = sym.by_name.get(name)
        if s is not None and not s.is_function:
            return LValue(s.address, INT_TYPES.get(s.size, CType(f"<data variable, {s.size} bytes>", s.size, "other")))
        return None


class StopScope(GlobalScope):
    """Expressions where a scan stopped: the locals and parameters of the function
    at pc (DWARF: in a register, at a register plus an offset, or at the frame
    base, the CFA, plus an offset; location lists pick the piece for pc), then globals.
    DWARF's register numbers are named by the architecture's description."""

    def __init__(self, symbols: Symbols | None, pc: int, registers: Callable[[str], int],
                 memory: Callable[[int, int], bytes], arch: Arch) -> None:
        super().__init__(symbols, registers, memory, arch)
        self.pc = pc
        self._dwarf = arch.debug.dwarf_registers if arch.debug is not None else ()

    def _dwarf_register(self, number: int) -> int | None:
        name = self._dwarf[number] if 0 <= number < len(self._dwarf) else None
        return None if name is None else self.frame_register(name)

    def find_variable(self, name: str) -> LValue | None:
        f = self.symbols.function_at(self.pc) if self.symbols is not None else None
        for v in (f.variables if f is not None else ()):
            where = v.location_at(self.pc) if v.name == name else None
            if where is None:
                continue
            kind, regno, offset = where
            if kind == "fbreg":
                cfa = self._cfa() if f.frame_base_cfa else None
                if cfa is not None:
                    return LValue(cfa + offset, v.ctype)
                continue
            value = self._dwarf_register(regno)
            if value is None:
                continue
            if kind == "reg":
                return LValue(None, v.ctype, value)
            return LValue((value + offset) & ((1 << 64) - 1), v.ctype)
        return super().find_variable(name)

    def _cfa(self) -> int | None:
        row = self.symbols.cfi_row(self.pc) if self.symbols is not None else None
        rule = row.get("cfa") if row is not None else None
        base = self._dwarf_register(rule.reg) if getattr(rule, "reg", None) is not None else None
        return None if base is None else base + rule.offset


def _lvalue(scope: GlobalScope, text: str) -> LValue:
    if ":" in text and not text.startswith("0x"):
        text = text.rpartition(":")[2]        # file.c:var: the file only disambiguates
    try:
        return Parser(scope, tokens(text), text).parse()
    except CommandError as exc:
        raise QueryError(str(exc)) from None


def _int(text: str) -> int | None:
    try:
        return int(text.replace(",", ""), 0)
    except ValueError:
        return None


class ValueProbe:
    """Evaluates EXPR where the scan stops (runs in the workers: picklable)."""

    def __init__(self, trace_path: str, program_digest: str, program: str, expr: str) -> None:
        self.trace_path = trace_path
        self.program_digest = program_digest
        self.program = program
        self.expr = expr

    def __call__(self, tl: Timeline, hit: ScanHit) -> object:
        symbols = program_symbols(self.trace_path, self.program_digest, self.program)
        scope = StopScope(symbols, hit.pc, tl.read_register, tl.read_memory, tl.arch)
        try:
            lv = Parser(scope, tokens(self.expr), self.expr).parse()
            if lv.value is not None and lv.ctype is not None and lv.ctype.size in (1, 2, 4, 8) \
                    and lv.ctype.kind in ("int", "uint", "char", "pointer"):
                size = lv.ctype.size        # a variable in a register: its type's low bytes
                return (lv.ctype.kind, (lv.value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"), size)
            if lv.value is not None:
                return ("int", lv.value, 8)
            size = lv.ctype.size if lv.ctype is not None and lv.ctype.size else 8
            kind = lv.ctype.kind if lv.ctype is not None else "int"
            return (kind, tl.read_memory(lv.address or 0, min(size, 4096)), size)
        except (CommandError, Exception) as exc:    # a bad pointer at one hit is that hit's value
            return ("error", str(exc), 0)


class CallProbe:
    """At a function's entry: argument registers, stack pointer, return address (on the
    stack, or in the link register); at its returns: the stack pointer (as at the entry)
    and the result register."""

    def __init__(self, entry: int, debug: DebugInfo, sp: str) -> None:
        self.entry = entry
        self.sp = sp
        self.args = debug.argument_registers[:6]
        self.result = debug.return_register
        self.link = debug.link_register
        # What each stop reads, in one call: sp, (the link register,) the arguments; sp and the result.
        self.at_entry = (sp, *((self.link,) if self.link else ()), *self.args)
        self.at_return = (sp, self.result)

    def __call__(self, tl: Timeline, hit: ScanHit) -> object:
        if hit.pc == self.entry:
            values = tl.read_registers(self.at_entry)
            sp = values[0]
            if self.link:
                return ("entry", sp, values[1], values[2:])
            return ("entry", sp, struct.unpack("<Q", tl.read_memory(sp, 8))[0], values[1:])
        return ("ret", *tl.read_registers(self.at_return))


# -- the engine-facing part ----------------------------------------------------------------------
class QueryRunner:
    """Answers questions about one trace (the timeline is used for symbols'
    memory, code and the end; it is left where it was)."""

    def __init__(self, trace: TraceDir, contents, timeline: Timeline, symbols: Symbols | None,
                 name_at: Callable[[int], str | None] | None = None,
                 note: Callable[[str], None] | None = None, source: ImageSource | None = None) -> None:
        self.trace = trace
        self.contents = contents
        self.tl = timeline
        self.symbols = symbols
        self.places = Places(symbols, name_at)   # pc -> function, file, line
        self.name_at = self.places.name_at
        self.note = note or (lambda m: None)
        self.pid = timeline.pid                  # the debugged process: scans see it alone
        h = contents.header
        # What the scan's workers need to name places themselves (this process uses self.places).
        self.source = source or ImageSource(trace.path, h.program, h.program_sha256)
        remember(self.source, self.places)

    # -- log queries --------------------------------------------------------------------------
    def _log_rows(self, q: Question) -> list[dict]:
        rows = []
        want = q.args[0].lower() if q.args else None
        numbers = self.tl.arch.syscall_numbers      # the trace's architecture's, as its log's
        for i, ev in enumerate(self.contents.events):
            if ev.icount < q.start or (q.end is not None and ev.icount >= q.end):
                continue
            text = ev.describe()
            if q.kind == "events":
                if want and ev.kind.name.lower() != want:
                    continue
                rows.append(self._row(ev.icount, None, self.tl.runner(max(ev.icount - 1, 0)), event=i,
                                      kind=ev.kind.name.lower(),
                                      detail=text.partition(" ")[2], goto=ev.icount))
                continue
            name = syscall_of(ev, text)
            if name is None or (want and name != want):
                continue
            number = ev.sysno if ev.kind == EventKind.SYSCALL else numbers.get(name)
            detail = text.partition(" ")[2]
            rows.append(self._row(ev.icount, None, self.tl.runner(max(ev.icount - 1, 0)), event=i, syscall=name,
                                  number=number, detail=detail.removeprefix(f"{name} (nr {number}) "),
                                  goto=ev.icount))
        return rows

    # -- scans -------------------------------------------------------------------------------
    def _symbols_needed(self) -> Symbols:
        if self.symbols is None:
            raise QueryError("the program has no symbols: use addresses")
        return self.symbols

    def _code_address(self, text: str) -> int:
        n = _int(text.lstrip("*"))
        if n is not None:
            return n
        sym = self._symbols_needed()
        name = text.lstrip("*")
        f = sym.function_named(name)
        if f is not None:
            return f.low
        s = sym.by_name.get(name)
        if s is not None:
            return s.address
        try:
            return sym.resolve(text)
        except SymbolError as exc:
            raise QueryError(str(exc)) from None

    def _range(self, text: str) -> tuple[int, int, CType | None]:
        m = re.fullmatch(r"(.*?):(\d+)", text)
        length = None
        if m and not re.fullmatch(r".*\.[ch]", m.group(1)):
            text, length = m.group(1), int(m.group(2))
        n = _int(text)
        if n is not None:
            return n, length or 8, None
        scope = GlobalScope(self.symbols, self.tl.read_register, self.tl.read_memory, self.tl.arch)
        lv = _lvalue(scope, text)
        if lv.address is None:
            raise QueryError(f"{text} is not in memory")
        size = lv.ctype.size if lv.ctype is not None and lv.ctype.size else 8
        return lv.address, length or size, lv.ctype

    def ask(self, q: Question, jobs: int | None = None,
            emit: Callable[[list], None] | None = None, form: str = "rows") -> Answer:
        """The answer; with `emit`, the rows of a scan go to it as they are found
        (in order, numbered) instead of into the answer, so many hits need not fit
        in memory at once (log queries and origin still return their rows).  `form`
        is what `emit` gets: rows (dicts), or, made in the scan's workers, `json`
        or `table` lines of text (q.json picks which the CLI prints)."""
        if form not in FORMS or (form != "rows" and emit is None):
            raise ValueError(f"form {form!r} (text needs emit)")
        if q.kind in ("syscalls", "events"):
            if len(q.args) > 1:
                raise QueryError(f"{q.kind} takes at most one name")
            rows = self._log_rows(q)
            return self._finish(rows, f"{len(rows)} hits from the log (no replay)", [])
        store = ensure_keyframes(self.trace, self.note)
        if q.kind == "origin":
            return self._origin(q)
        cpu = time.process_time()
        spec, ctype = self._plan(q)
        if self.source.interpreter:
            self.source.mapped()      # the libraries' map, read here once (forked workers inherit it)
        spec = replace(spec, finish=RowMaker(q.kind, self.source, form, ctype))
        merge = CallPairing(form) if q.kind == "calls" else Numbering(form)
        rows: list = []

        def out(found: list) -> None:       # a part's rows, numbered, to `emit` in one go (one write)
            if emit is None:
                rows.extend(found)
            elif found:
                emit(found)

        result = scan(self.trace, spec, q.start, q.end, jobs=q.jobs or jobs, store=store, pid=self.pid,
                      cluster=q.cluster, on_part=lambda part: out(merge(part)))
        out(merge.flush())
        now = time.process_time()
        workers = " + ".join(f"{result.cpu[w]:.2f}" for w in sorted(result.cpu, key=result.cpu.get, reverse=True))
        # CPU seconds: this process (since it started, its own segments left out: with --jobs 1
        # they count as the worker's), and each worker's; on an idle machine the scan takes
        # about this process's part plus the busiest worker's.
        summary = (f"{merge.count} hits, {result.scanned:,} instructions scanned in {result.seconds:.2f} s "
                   f"by {result.workers} worker{'s' if result.workers != 1 else ''} "
                   f"({result.segments} segment{'s' if result.segments != 1 else ''}"
                   f"{' on ' + q.cluster if q.cluster else ''}); "
                   f"CPU s: here {now - result.cpu_here:.2f} ({now - cpu - result.cpu_here:.2f} in this query)"
                   f"{', workers ' + workers if workers else ''}")
        return Answer(rows, summary, result.notes)

    def _origin(self, q: Question) -> Answer:
        if not q.args:
            raise QueryError("usage: origin EXPR [--at N] [--depth D]")
        started = time.monotonic()
        end = self.tl.end.icount
        at = end if q.at is None else min(q.at, end)
        here = self.tl.position
        self.tl.seek(at)              # for the lvalue, and for decoding code mapped later (libraries)
        try:
            address, size, ctype = self._range(" ".join(q.args))
            value = self.tl.read_memory_prefix(address, size)
            return self._explain(q, at, address, size, ctype, value, started)
        finally:
            self.tl.seek(here)

    def _explain(self, q: Question, at: int, address: int, size: int, ctype: CType | None, value: bytes,
                 started: float) -> Answer:
        from .origin import OriginTracer
        end = self.tl.end.icount

        def insn(pc: int) -> str:
            i = self.tl.instruction_at(pc)
            return i.text() if i is not None else "?"
        tracer = OriginTracer(self.trace, end, insn, self.contents.events,
                              lambda ev: syscall_of(ev, ev.describe()) or ev.kind.name.lower(), pid=self.pid)
        root = tracer.explain(address, size, value, at, q.depth)
        rows: list[dict] = []

        def walk(node, level: int, parent: int | None) -> None:
            row = self._row(node.icount if node.icount is not None else -1, node.pc, depth=level,
                            parent=parent, step=node.what, address=node.address, size=node.size,
                            value=show(node.value, ctype if level == 0 else None) if node.value else "",
                            text=node.text, goto=(node.icount + 1) if node.icount is not None else 0)
            rows.append(row)
            me = len(rows)
            for child in node.children:
                walk(child, level + 1, me)
        walk(root, 0, None)
        summary = (f"{len(rows)} steps, {tracer.scanned:,} instructions scanned in "
                   f"{time.monotonic() - started:.2f} s by 1 worker")
        return self._finish(rows, summary, [])

    def _finish(self, rows: list[dict], summary: str, notes: list[str]) -> Answer:
        for i, row in enumerate(rows, 1):
            row["index"] = i
        return Answer(rows, summary, notes)

    def _plan(self, q: Question) -> tuple[ScanSpec, CType | None]:
        """The scan for a question, and the type its memory values are shown as."""
        a = q.args
        if q.kind == "exec":
            if len(a) != 1:
                raise QueryError("usage: exec ADDRESS|SYMBOL")
            addr = self._code_address(a[0])
            return ScanSpec(collect=frozenset({addr})), None
        if q.kind == "lines":
            if len(a) != 1 or ":" not in a[0]:
                raise QueryError("usage: lines FILE:LINE")
            file, _, line = a[0].rpartition(":")
            try:
                addr = self._symbols_needed().resolve_line(file, int(line))
            except (SymbolError, ValueError) as exc:
                raise QueryError(str(exc) or f"bad line {a[0]}") from None
            return ScanSpec(collect=frozenset({addr})), None
        if q.kind in ("writes", "reads"):
            if len(a) != 1:
                raise QueryError(f"usage: {q.kind} LOCATION[:LEN]")
            address, length, ctype = self._range(a[0])
            if not 0 < length <= 4096:
                raise QueryError("a watched range is 1 to 4096 bytes")
            spec = ScanSpec(watches=(WatchRange(address, length, q.kind[:-1]),))
            return spec, ctype
        if q.kind == "calls":
            if len(a) != 1:
                raise QueryError("usage: calls FUNCTION")
            return self._calls_plan(a[0])
        if q.kind == "values":
            if "at" not in a or a.index("at") == 0 or a.index("at") == len(a) - 1:
                raise QueryError("usage: values EXPR at LOCATION")
            cut = len(a) - 1 - a[::-1].index("at")
            expr, where = " ".join(a[:cut]), " ".join(a[cut + 1:])
            sym = self._symbols_needed()
            try:
                addr = sym.resolve(where) if _int(where) is None else _int(where)
            except SymbolError as exc:
                raise QueryError(str(exc)) from None
            h = self.contents.header
            probe = ValueProbe(self.trace.path, h.program_sha256, h.program, expr)
            # the expression's syntax and names, checked before the scan
            _lvalue(StopScope(self.symbols, addr, lambda n: 0, lambda x, n: bytes(n), self.tl.arch), expr)
            return ScanSpec(stops=frozenset({addr}), probe=probe), None
        raise QueryError(f"usage: {USAGE}")

    def _calls_plan(self, name: str) -> tuple[ScanSpec, CType | None]:
        entry = self._code_address(name)
        sym = self.symbols
        f = sym.function_at(entry) if sym is not None else None
        high = f.high if f is not None and f.low == entry else None
        if high is None and sym is not None:
            found = sym.symbolize(entry)
            if found is not None and found[1] == 0 and found[0].size:
                high = entry + found[0].size
        if high is None:
            raise QueryError(f"the extent of {name} is unknown (no symbol size): cannot find its returns")
        debug = self.tl.arch.debug
        assert debug is not None            # the CLI refuses an architecture without it
        rets = set()
        pc = entry
        while pc < high:
            insn = self.tl.instruction_at(pc)
            if insn is None:
                break
            if insn.mnemonic in debug.return_mnemonics:
                rets.add(pc)
            pc += insn.size
        spec = ScanSpec(stops=frozenset({entry, *rets}), probe=CallProbe(entry, debug, self.tl.arch.sp))
        return spec, None

    # -- rows ---------------------------------------------------------------------------------
    def _row(self, icount: int, pc: int | None, thread: int | None = None, **fields: object) -> dict:
        """A row; `thread`: the tid that ran the instruction after `icount` (default: the log's say)."""
        if thread is None:
            thread = self.tl.runner(max(icount, 0))
        return {"icount": icount, "pc": pc, **self.places.at(pc), "thread": thread, **fields}


# -- output ------------------------------------------------------------------------------------
def render_json(rows: list[dict]) -> str:
    return "\n".join(json.dumps({k: v for k, v in r.items() if k != "goto"}) for r in rows)


def render_tree(rows: list[dict]) -> str:
    out = []
    for r in rows:
        where = r["function"] or ""
        if r["file"]:
            where += f" at {r['file']}:{r['line']}"
        at = f"{r['icount']:,}" if r["icount"] >= 0 else "-"
        head = f"#{r['index']:<3} {'  ' * r['depth']}{r['step']}"
        value = f" = {r['value']}" if r["value"] != "" else ""
        text = f"  {r['text']}" if r["text"] else ""
        pc = f" {r['pc']:#x}" if r["pc"] is not None else ""
        out.append(f"{head}{value}  [{at}{pc} {where}]{text}  ({r['address']:#x}, {r['size']} bytes)")
    return "\n".join(out)


def render_table(kind: str, rows: list[dict]) -> str:
    if kind == "origin":
        return render_tree(rows)
    if not rows:
        return "No hits."
    return "\n".join(f"{index_cell(r['index'])}  " + "  ".join(table_cells(kind, r)) for r in rows)


def goto_target(rows: list[dict], text: str) -> int:
    """The position of hit `#N` of the last query."""
    m = re.fullmatch(r"#(\d+)", text.strip())
    if m is None:
        raise QueryError(f"not a hit number: {text!r} (goto #N)")
    n = int(m.group(1))
    if not rows:
        raise QueryError("no query hits: run a query first")
    if not 1 <= n <= len(rows):
        raise QueryError(f"no hit #{n} (the last query had {len(rows)})")
    return rows[n - 1]["goto"]
