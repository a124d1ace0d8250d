"""What the program's ELF file and DWARF say about addresses: names, lines, frames, variables.

The REPL needs to turn `main`, `loop.c:14` and `*0x401136` into addresses,
addresses back into `main+12 at loop.c:14`, and a stopped machine into a
backtrace and a few local variables.  Everything here is read once from the
recorded program image (the trace's captured copy, so the answers match the
recording even if the file on disk changed) through pyelftools, and shifted
by the load bias for PIE programs (replay/loader.py maps ET_DYN main images
at PIE_BASE).  Nothing here runs the guest: callers pass a `read_memory`
and register values.
"""

from __future__ import annotations

import bisect
import io
import logging
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.dwarf.callframe import FDE, CFARule, RegisterRule
from elftools.dwarf.locationlists import LocationEntry, LocationParser
from elftools.elf.elffile import ELFFile

from replay import PIE_BASE, Arch, shared_disassembler

log = logging.getLogger(__name__)

ReadMemory = Callable[[int, int], bytes]


class SymbolError(Exception):
    """A location or expression the symbols cannot resolve (message is one line)."""


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int
    is_function: bool
    is_ifunc: bool = False            # STT_GNU_IFUNC: the address is the resolver, not the code


@dataclass(frozen=True)
class LineRow:
    address: int
    file: str
    line: int
    is_stmt: bool
    end_sequence: bool


@dataclass(frozen=True)
class CType:
    """A C type as far as the REPL needs it: a name, a size, and how to show it."""

    name: str
    size: int
    kind: str = "int"                 # int, uint, float, char, pointer, array, struct, other
    element: "CType | None" = None    # arrays and pointers
    count: int = 0                    # arrays
    members: tuple[tuple[str, int, "CType"], ...] = ()   # structs: (name, offset, type)


@dataclass(frozen=True)
class Variable:
    name: str
    ctype: CType
    address: int | None = None        # globals (biased)
    frame_offset: int | None = None   # locals: offset from the frame base (the CFA at -O0)
    register: int | None = None       # a DWARF register number
    # A DWARF location list (optimized code): (low, high, where) with where ("reg", regno, 0),
    # ("breg", regno, offset) or ("fbreg", -1, offset), each for pcs in [low, high).
    pieces: tuple[tuple[int, int, tuple[str, int, int]], ...] = ()

    def location_at(self, pc: int) -> tuple[str, int, int] | None:
        """Where the variable is when pc runs: ("reg", regno, 0), ("breg", regno, offset),
        ("fbreg", -1, offset), or None (not known there); regno is a DWARF register number."""
        if self.frame_offset is not None:
            return ("fbreg", -1, self.frame_offset)
        if self.register is not None:
            return ("reg", self.register, 0)
        for low, high, where in self.pieces:
            if low <= pc < high:
                return where
        return None


@dataclass
class Function:
    name: str
    low: int
    high: int
    file: str = ""
    line: int = 0
    variables: list[Variable] = field(default_factory=list)
    frame_base_cfa: bool = True       # DW_AT_frame_base is DW_OP_call_frame_cfa (as gcc emits)
    params: list[Variable] = field(default_factory=list)   # the formal parameters in order (location or not)


@dataclass(frozen=True)
class Frame:
    level: int
    pc: int
    cfa: int
    regs: dict[str, int]


class Symbols:
    """Symbols, line table, DWARF variables and CFI of one ELF image at a load bias."""

    def __init__(self, data: bytes, path: str = "", bias: int | None = None) -> None:
        self.path = path
        try:
            self._elf = ELFFile(io.BytesIO(data))
        except ELFError as exc:
            raise SymbolError(f"{path}: {exc}") from None
        self.is_dyn = self._elf["e_type"] == "ET_DYN"
        self.bias = (PIE_BASE if self.is_dyn else 0) if bias is None else bias
        self.symbols: list[Symbol] = []
        self.by_name: dict[str, Symbol] = {}
        self.rows: list[LineRow] = []
        self._row_addrs: list[int] = []
        self.functions: list[Function] = []
        self._func_lows: list[int] = []
        self.globals: dict[str, Variable] = {}
        self.got_slots: dict[str, int] = {}   # PLT import name -> its GOT slot (biased)
        self._fdes: list[tuple[int, int, FDE]] | None = None
        self._fde_lows: list[int] = []
        self._read_symbols()
        self._read_plt()
        self.has_dwarf = self._elf.has_dwarf_info() and self._elf.get_section_by_name(".debug_info") is not None
        if self.has_dwarf:
            try:
                self._read_dwarf()
            except Exception as exc:   # pyelftools raises many kinds on odd DWARF
                log.warning("cannot read DWARF of %s: %s", path, exc)
        self._sym_addrs = [s.address for s in self.symbols]

    # -- ELF symbols ---------------------------------------------------------------
    def _read_symbols(self) -> None:
        seen: set[tuple[str, int]] = set()
        for secname in (".symtab", ".dynsym"):
            sec = self._elf.get_section_by_name(secname)
            if sec is None:
                continue
            for sym in sec.iter_symbols():
                kind = sym["st_info"]["type"]
                # pyelftools names STT_GNU_IFUNC (10) STT_LOOS
                if kind not in ("STT_FUNC", "STT_OBJECT", "STT_GNU_IFUNC", "STT_LOOS") or not sym.name:
                    continue
                if sym["st_shndx"] == "SHN_UNDEF" or sym["st_value"] == 0:
                    continue
                name = sym.name.split("@")[0]
                key = (name, sym["st_value"])
                if key in seen:
                    continue
                seen.add(key)
                s = Symbol(name, sym["st_value"] + self.bias, sym["st_size"], kind != "STT_OBJECT",
                           kind in ("STT_GNU_IFUNC", "STT_LOOS"))
                self.symbols.append(s)
                prev = self.by_name.get(name)
                if prev is None or (prev.size == 0 and s.size):
                    self.by_name[name] = s
        self.symbols.sort(key=lambda s: (s.address, -s.size))

    def _read_plt(self) -> None:
        """Name the PLT stubs `printf@plt` (pyelftools does not synthesize them)."""
        rela = self._elf.get_section_by_name(".rela.plt")
        plt = self._elf.get_section_by_name(".plt.sec") or self._elf.get_section_by_name(".plt")
        if rela is None or plt is None:
            return
        dynsym = self._elf.get_section_by_name(".dynsym")
        if dynsym is None:
            return
        # Each stub's jump reads its GOT slot; match slot -> symbol through the relocations.
        slot_name = {}
        for rel in rela.iter_relocations():
            sym = dynsym.get_symbol(rel["r_info_sym"])
            if sym is not None and sym.name:
                slot_name[rel["r_offset"]] = sym.name.split("@")[0]
                self.got_slots.setdefault(slot_name[rel["r_offset"]], rel["r_offset"] + self.bias)
        code = plt.data()
        base = plt["sh_addr"]
        for insn in shared_disassembler().decode(code, base):
            if insn.mnemonic in ("jmp", "bnd jmp") and "[rip +" in insn.op_str:
                try:
                    disp = int(insn.op_str.split("[rip + ")[1].rstrip("]"), 16)
                except (IndexError, ValueError):
                    continue
                slot = insn.address + insn.size + disp
                name = slot_name.get(slot)
                if name:
                    stub = insn.address - (insn.address - base) % 16
                    s = Symbol(f"{name}@plt", stub + self.bias, 16, True)
                    self.symbols.append(s)
                    self.by_name.setdefault(s.name, s)
        self.symbols.sort(key=lambda s: (s.address, -s.size))

    def symbolize(self, address: int) -> tuple[Symbol, int] | None:
        """The symbol containing `address` (or the nearest one before a sized-0 one)."""
        i = bisect.bisect_right(self._sym_addrs, address) - 1
        while i >= 0:
            s = self.symbols[i]
            if s.address <= address < s.address + max(s.size, 1):
                return s, address - s.address
            if address - s.address > 1 << 16:
                return None
            i -= 1
        return None

    def name_at(self, address: int) -> str | None:
        found = self.symbolize(address)
        if found is None:
            return None
        s, off = found
        return f"{s.name}+{off}" if off else s.name

    # -- DWARF: lines, functions, variables ------------------------------------------------
    def _read_dwarf(self) -> None:
        dwarf = self._elf.get_dwarf_info()
        lists = dwarf.location_lists()
        self._locations = LocationParser(lists) if lists is not None else None
        for cu in dwarf.iter_CUs():
            lp = dwarf.line_program_for_CU(cu)
            files: list[str] = []
            top = cu.get_top_DIE()
            comp = top.attributes.get("DW_AT_comp_dir")
            comp_dir = comp.value.decode(errors="replace") if comp is not None and isinstance(comp.value, bytes) else ""
            if lp is not None:
                version = lp["version"]
                inc = [d.decode(errors="replace") if isinstance(d, bytes) else str(d)
                       for d in lp["include_directory"]]
                for fe in lp["file_entry"]:
                    name = fe.name.decode(errors="replace") if isinstance(fe.name, bytes) else str(fe.name)
                    di = fe.dir_index
                    if not os.path.isabs(name):
                        if version >= 5:
                            d = inc[di] if 0 <= di < len(inc) else comp_dir
                        else:
                            d = inc[di - 1] if 0 < di <= len(inc) else comp_dir
                        if d and not os.path.isabs(d) and comp_dir:
                            d = os.path.join(comp_dir, d)
                        name = os.path.join(d, name) if d else name
                    files.append(name)
                for entry in lp.get_entries():
                    st = entry.state
                    if st is None:
                        continue
                    idx = st.file if version >= 5 else st.file - 1
                    fname = files[idx] if 0 <= idx < len(files) else "??"
                    self.rows.append(LineRow(st.address + self.bias, fname, st.line, bool(st.is_stmt),
                                             bool(st.end_sequence)))
            self._cu = cu
            self._walk(top, files, None)
        self.rows.sort(key=lambda r: (r.address, not r.end_sequence))
        self._row_addrs = [r.address for r in self.rows]
        self.functions.sort(key=lambda f: f.low)
        self._func_lows = [f.low for f in self.functions]

    def _walk(self, die, files: list[str], func: Function | None) -> None:
        for child in die.iter_children():
            tag = child.tag
            if tag == "DW_TAG_subprogram":
                f = self._function(child, files)
                if f is not None:
                    self.functions.append(f)
                    self._walk(child, files, f)
            elif tag == "DW_TAG_lexical_block" and func is not None:
                self._walk(child, files, func)
            elif tag in ("DW_TAG_variable", "DW_TAG_formal_parameter"):
                var = self._variable(child)
                if tag == "DW_TAG_formal_parameter" and func is not None and die.tag == "DW_TAG_subprogram":
                    name = child.attributes.get("DW_AT_name")
                    func.params.append(var or Variable(name.value.decode(errors="replace") if name else "?",
                                                       self._type(child)))
                if var is None:
                    continue
                if func is not None and var.frame_offset is not None:
                    if func.frame_base_cfa:     # else the offset is from a base this reader does not compute
                        func.variables.append(var)
                elif func is not None and (var.register is not None or var.pieces):
                    func.variables.append(var)
                elif var.address is not None:
                    self.globals.setdefault(var.name, var)

    def _function(self, die, files: list[str]) -> Function | None:
        attrs = die.attributes
        if "DW_AT_low_pc" not in attrs or "DW_AT_high_pc" not in attrs:
            return None
        name = attrs.get("DW_AT_name")
        low = attrs["DW_AT_low_pc"].value
        high = attrs["DW_AT_high_pc"]
        high_v = high.value if high.form == "DW_FORM_addr" else low + high.value
        f = Function(name.value.decode(errors="replace") if name else "??", low + self.bias, high_v + self.bias)
        if "DW_AT_decl_line" in attrs:
            f.line = attrs["DW_AT_decl_line"].value
        fb = attrs.get("DW_AT_frame_base")
        f.frame_base_cfa = bool(fb is not None and isinstance(fb.value, list) and fb.value == [0x9c])
        return f

    def _variable(self, die) -> Variable | None:
        attrs = die.attributes
        name = attrs.get("DW_AT_name")
        loc = attrs.get("DW_AT_location")
        if name is None or loc is None:
            return None
        vname = name.value.decode(errors="replace")
        if not isinstance(loc.value, list):
            pieces = self._location_list(die, loc)
            return Variable(vname, self._type(die), pieces=pieces) if pieces else None
        if not loc.value:
            return None
        ctype = self._type(die)
        expr = loc.value
        if expr[0] == 0x03 and len(expr) == 9:             # DW_OP_addr
            return Variable(vname, ctype, address=struct.unpack("<Q", bytes(expr[1:9]))[0] + self.bias)
        where = _simple_location(expr)
        if where is not None and where[0] == "fbreg":
            return Variable(vname, ctype, frame_offset=where[2])
        if where is not None and where[0] == "reg":
            return Variable(vname, ctype, register=where[1])
        return None

    def _location_list(self, die, attr) -> tuple[tuple[int, int, tuple[str, int, int]], ...]:
        """The pieces of a location list that say simply where the value is."""
        if self._locations is None:
            return ()
        try:
            entries = self._locations.parse_from_attribute(attr, self._cu["version"], die)
        except Exception:                # noqa: BLE001 - an odd list: the variable is not shown
            return ()
        top = self._cu.get_top_DIE().attributes.get("DW_AT_low_pc")
        base = top.value if top is not None else 0
        out = []
        for e in entries:
            if not isinstance(e, LocationEntry):
                continue                  # a base address entry: pyelftools applies it (is_absolute)
            where = _simple_location(e.loc_expr)
            if where is None:
                continue
            shift = 0 if getattr(e, "is_absolute", False) else base
            out.append((e.begin_offset + shift + self.bias, e.end_offset + shift + self.bias, where))
        return tuple(out)

    def _type(self, die, depth: int = 0) -> CType:
        if depth > 8 or "DW_AT_type" not in die.attributes:
            return CType("void", 0, "other")
        t = die.get_DIE_from_attribute("DW_AT_type")
        tag = t.tag
        name = t.attributes.get("DW_AT_name")
        tname = name.value.decode(errors="replace") if name else ""
        size = t.attributes["DW_AT_byte_size"].value if "DW_AT_byte_size" in t.attributes else 0
        if tag == "DW_TAG_base_type":
            enc = t.attributes["DW_AT_encoding"].value if "DW_AT_encoding" in t.attributes else 5
            kind = {4: "float", 6: "char", 8: "char", 7: "uint", 2: "uint"}.get(enc, "int")
            if kind == "char" and size != 1:
                kind = "int"
            return CType(tname, size, kind)
        if tag in ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type"):
            inner = self._type(t, depth + 1)
            return CType(tname or inner.name, inner.size, inner.kind, inner.element, inner.count, inner.members) \
                if tag == "DW_TAG_typedef" else inner
        if tag == "DW_TAG_pointer_type":
            inner = self._type(t, depth + 1)
            return CType(f"{inner.name} *", 8, "pointer", inner)
        if tag == "DW_TAG_array_type":
            inner = self._type(t, depth + 1)
            count = 0
            for sub in t.iter_children():
                if sub.tag == "DW_TAG_subrange_type":
                    if "DW_AT_count" in sub.attributes:
                        count = sub.attributes["DW_AT_count"].value
                    elif "DW_AT_upper_bound" in sub.attributes:
                        count = sub.attributes["DW_AT_upper_bound"].value + 1
                    break
            return CType(f"{inner.name} [{count}]", inner.size * count, "array", inner, count)
        if tag in ("DW_TAG_structure_type", "DW_TAG_union_type"):
            members = []
            if depth < 4:
                for m in t.iter_children():
                    if m.tag == "DW_TAG_member" and "DW_AT_name" in m.attributes:
                        off = m.attributes.get("DW_AT_data_member_location")
                        members.append((m.attributes["DW_AT_name"].value.decode(errors="replace"),
                                        off.value if off is not None and isinstance(off.value, int) else 0,
                                        self._type(m, depth + 1)))
            kw = "struct" if tag == "DW_TAG_structure_type" else "union"
            return CType(f"{kw} {tname}".strip(), size, "struct", members=tuple(members))
        if tag == "DW_TAG_enumeration_type":
            return CType(f"enum {tname}".strip(), size or 4, "int")
        return CType(tname or tag.replace("DW_TAG_", ""), size, "other")

    # -- queries ---------------------------------------------------------------------------
    def function_at(self, address: int) -> Function | None:
        i = bisect.bisect_right(self._func_lows, address) - 1
        if i >= 0 and self.functions[i].low <= address < self.functions[i].high:
            return self.functions[i]
        return None

    def function_named(self, name: str) -> Function | None:
        for f in self.functions:
            if f.name == name:
                return f
        return None

    def line_at(self, address: int) -> LineRow | None:
        """The line-table row covering `address` (None outside any sequence)."""
        i = bisect.bisect_right(self._row_addrs, address) - 1
        if i < 0:
            return None
        row = self.rows[i]
        if row.end_sequence:
            return None
        # The row must belong to a sequence that continues past `address`.
        j = i + 1
        while j < len(self.rows) and self.rows[j].address == row.address:
            j += 1
        if j >= len(self.rows):
            return None
        return row

    def is_line_start(self, address: int) -> bool:
        i = bisect.bisect_left(self._row_addrs, address)
        while i < len(self.rows) and self.rows[i].address == address:
            if self.rows[i].is_stmt and not self.rows[i].end_sequence:
                return True
            i += 1
        return False

    def after_prologue(self, func: Function) -> int:
        """gdb's breakpoint address for a function: its second line-table row."""
        lines = [r for r in self.rows if func.low <= r.address < func.high and not r.end_sequence]
        first = lines[0].line if lines else None
        for r in lines:
            if r.address > func.low and r.line != first:
                return r.address
        return func.low

    def files(self) -> list[str]:
        return sorted({r.file for r in self.rows})

    def resolve_line(self, file: str, line: int) -> int:
        """The lowest is_stmt address of the first line >= `line` in `file` that has code."""
        matches = [r for r in self.rows if not r.end_sequence and r.is_stmt
                   and (r.file == file or os.path.basename(r.file) == os.path.basename(file)
                        or r.file.endswith("/" + file))]
        if not matches:
            raise SymbolError(f'No source file named {file}.')
        best = min((r.line for r in matches if r.line >= line), default=None)
        if best is None:
            raise SymbolError(f"Line {line} is out of range for \"{file}\".")
        addrs = sorted(r.address for r in matches if r.line == best)
        # Prefer the first address after a function's prologue when the line is a function's opening.
        addr = addrs[0]
        f = self.function_at(addr)
        if f is not None and addr == f.low:
            addr = self.after_prologue(f)
        return addr

    def default_file(self, pc: int) -> str | None:
        """gdb's default source file for a bare `LINE`: the one at `pc`, else main's."""
        row = self.line_at(pc)
        if row is None:
            main = self.function_named("main")
            row = self.line_at(main.low) if main is not None else None
        return row.file if row is not None else None

    def resolve(self, text: str, pc: int | None = None) -> int:
        """A breakpoint LOCATION: `*ADDR`, `FUNC`, `FILE:LINE`, or `LINE` in the default file (see default_file)."""
        text = text.strip()
        if text.isdigit():
            file = self.default_file(pc) if pc is not None else None
            if file is None:
                raise SymbolError("No default source file; use FILE:LINE.")
            return self.resolve_line(file, int(text))
        if text.startswith("*"):
            try:
                return int(text[1:].strip(), 0)
            except ValueError:
                sym = self.by_name.get(text[1:].strip())
                if sym is None:
                    raise SymbolError(f'No symbol "{text[1:].strip()}".') from None
                return sym.address
        if ":" in text:
            file, _, line = text.rpartition(":")
            try:
                return self.resolve_line(file, int(line))
            except ValueError:
                raise SymbolError(f'Malformed location "{text}".') from None
        f = self.function_named(text)
        if f is not None:
            return self.after_prologue(f)
        sym = self.by_name.get(text)
        if sym is not None and sym.is_function:
            return sym.address
        try:
            return int(text, 0)
        except ValueError:
            pass
        raise SymbolError(f'Function "{text}" not defined.')

    def describe(self, address: int) -> str:
        """`main+12 at loop.c:14` (as much as is known)."""
        parts = []
        name = self.name_at(address)
        if name:
            parts.append(name)
        row = self.line_at(address)
        if row is not None:
            parts.append(f"at {os.path.basename(row.file)}:{row.line}")
        return " ".join(parts)

    # -- call frame information --------------------------------------------------------------
    def _load_fdes(self) -> None:
        self._fdes = []
        try:
            dwarf = self._elf.get_dwarf_info()
            # both tables, as gdb reads them: riscv64's gcc puts the program's own FDEs in
            # .debug_frame only, while the static libc's are in .eh_frame
            entries = [*(dwarf.EH_CFI_entries() if dwarf.has_EH_CFI() else ()),
                       *(dwarf.CFI_entries() if dwarf.has_CFI() else ())]
        except Exception as exc:
            log.debug("no CFI in %s: %s", self.path, exc)
            return
        for e in entries:
            if isinstance(e, FDE):
                lo = e["initial_location"] + self.bias
                self._fdes.append((lo, lo + e["address_range"], e))
        self._fdes.sort(key=lambda t: t[0])
        self._fde_lows = [t[0] for t in self._fdes]

    def cfi_row(self, pc: int) -> dict | None:
        if self._fdes is None:
            self._load_fdes()
        assert self._fdes is not None
        i = bisect.bisect_right(self._fde_lows, pc) - 1
        if i < 0 or not (self._fdes[i][0] <= pc < self._fdes[i][1]):
            return None
        table = self._fdes[i][2].get_decoded().table
        best = None
        for row in table:
            if row["pc"] + self.bias <= pc:
                best = row
            else:
                break
        return best

    def unwind(self, regs: dict[str, int], read: ReadMemory, arch: Arch, limit: int = 64) -> list[Frame]:
        """Frames from the innermost out, by CFI where present, else by the frame-pointer chain."""
        return unwind(regs, read, lambda pc: self, arch, limit)


def unwind(regs: dict[str, int], read: ReadMemory, image_at: Callable[[int], "Symbols | None"],
           arch: Arch, limit: int = 64) -> list[Frame]:
    """Frames from the innermost out across images: each frame is unwound with
    the CFI of the image that contains its pc (`image_at`), else by the
    frame-pointer chain; the walk ends at `main`, at a return address of 0, or
    where the CFI marks the return address undefined (`_start`).  `regs` holds
    the registers DebugRegs.names lists, by the architecture's names."""
    d = arch.debug
    assert d is not None
    names, pc_name, sp_name, fp_name, link = d.dwarf_registers, arch.pc, arch.sp, d.fp, d.link_register
    ra_column = names.index(link or pc_name)
    push = d.call_push
    frames: list[Frame] = []
    regs = dict(regs)
    for level in range(limit):
        pc = regs[pc_name]
        image = image_at(pc)
        row = image.cfi_row(pc) if image is not None else None
        try:
            if row is not None and isinstance(row.get("cfa"), CFARule) and row["cfa"].reg is not None:
                cfa = regs[names[row["cfa"].reg]] + row["cfa"].offset
                ra_rule = row.get(ra_column)
                if isinstance(ra_rule, RegisterRule) and ra_rule.type == RegisterRule.UNDEFINED:
                    frames.append(Frame(level, pc, cfa, regs))     # the outermost frame (_start)
                    break
                new = dict(regs)
                for num, rule in row.items():
                    if isinstance(num, int) and isinstance(rule, RegisterRule) and num < len(names) \
                            and names[num] is not None:
                        if rule.type == RegisterRule.OFFSET:
                            new[names[num]] = _u64(read(cfa + rule.arg, 8))
                        elif rule.type == RegisterRule.VAL_OFFSET:
                            new[names[num]] = (cfa + rule.arg) & (1 << 64) - 1
                        elif rule.type == RegisterRule.REGISTER and rule.arg < len(names) and names[rule.arg]:
                            new[names[num]] = regs[names[rule.arg]]
                if isinstance(ra_rule, RegisterRule) and ra_rule.type == RegisterRule.OFFSET:
                    ra = new[names[ra_column]]
                else:                   # no rule: still in the link register, or at the CFA's top
                    ra = regs[link] if link else _u64(read(cfa - 8, 8))
            else:
                fp = regs[fp_name]
                func = image.function_at(pc) if image is not None else None
                new = dict(regs)
                if level == 0 and func is not None and pc == func.low:
                    cfa = regs[sp_name] + push              # nothing of the frame made yet
                    ra = regs[link] if link else _u64(read(regs[sp_name], 8))
                elif not link and level == 0 and func is not None and pc == func.low + 1:
                    cfa = regs[sp_name] + 16                # x86-64: after push rbp
                    new[fp_name] = _u64(read(regs[sp_name], 8))
                    ra = _u64(read(cfa - 8, 8))
                else:
                    if fp == 0:
                        frames.append(Frame(level, pc, 0, regs))
                        break
                    # the frame record: the caller's frame pointer and the return address
                    to_cfa, to_fp, to_ra = d.frame_record
                    cfa = fp + to_cfa
                    new[fp_name] = _u64(read(fp + to_fp, 8))
                    ra = _u64(read(fp + to_ra, 8))
        except Exception:               # unreadable stack, odd rules: the walk ends here
            frames.append(Frame(level, pc, 0, regs))
            break
        frames.append(Frame(level, pc, cfa, regs))
        if ra == 0 or (cfa <= regs[sp_name] - 8 if push else cfa < regs[sp_name]):
            break
        new[pc_name] = ra
        new[sp_name] = cfa
        regs = new
        func = image.function_at(pc) if image is not None else None
        if func is not None and func.name == "main":
            break
    return frames


def unwound_registers(arch: Arch) -> tuple[str, ...]:
    """The registers `unwind` reads: those DWARF numbers, the pc, the stack and frame pointers."""
    d = arch.debug
    assert d is not None
    return tuple(dict.fromkeys([*(n for n in d.dwarf_registers if n), arch.pc, arch.sp, d.fp]))


def _simple_location(expr: list[int]) -> tuple[str, int, int] | None:
    """One DWARF location expression that is a register (DW_OP_regN), a register
    plus an offset (DW_OP_bregN) or the frame base plus an offset (DW_OP_fbreg);
    registers by their DWARF numbers (the architecture's description names them)."""
    if not expr:
        return None
    op = expr[0]
    if 0x50 <= op <= 0x6f and len(expr) == 1:
        return ("reg", op - 0x50, 0)
    if op == 0x90 and len(expr) == 2 and expr[1] < 0x80:                 # DW_OP_regx, a one-byte ULEB128
        return ("reg", expr[1], 0)
    # The offset's SLEB128 must end the expression (no DW_OP_stack_value, deref, piece after it).
    ends = next((i for i, b in enumerate(expr[1:], 2) if not b & 0x80), None) == len(expr)
    if 0x70 <= op <= 0x8f and ends:
        return ("breg", op - 0x70, _sleb(expr[1:]))
    if op == 0x91 and ends:
        return ("fbreg", -1, _sleb(expr[1:]))
    return None


def _u64(b: bytes) -> int:
    return struct.unpack("<Q", b[:8].ljust(8, b"\0"))[0]


def _sleb(data: list[int]) -> int:
    result = shift = 0
    for byte in data:
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte & 0x40:
                result -= 1 << shift
            break
    return result
