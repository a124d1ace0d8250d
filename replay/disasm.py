"""Capstone, in one place: instruction decoding for the engine and the UIs."""

from __future__ import annotations

import ctypes
import importlib
from dataclasses import dataclass
from functools import lru_cache

import capstone
from capstone import x86_const

from .arch import X86_64, Arch
from .icount import DecoderLayout, InsnClass

_LEGACY_PREFIXES = frozenset({0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3})


@dataclass(frozen=True)
class Instruction:
    address: int
    size: int
    mnemonic: str
    op_str: str

    def text(self) -> str:
        return f"{self.mnemonic} {self.op_str}".rstrip()


class Disassembler:
    """One architecture's decoder, shared by the counter (through its C handle) and Python."""

    def __init__(self, arch: Arch = X86_64) -> None:
        self.arch = arch
        mode = 0
        for name in arch.cs_mode.split("+"):          # "RISCV64+RISCVC": flags combined
            mode |= getattr(capstone, f"CS_MODE_{name}")
        self._cs = capstone.Cs(getattr(capstone, f"CS_ARCH_{arch.cs_arch}"), mode)

    def native_handles(self) -> tuple[int, int, int]:
        """(cs_disasm address, cs_free address, handle) for the C counter."""
        lib = capstone._cs
        disasm = ctypes.cast(lib.cs_disasm, ctypes.c_void_p).value
        free = ctypes.cast(lib.cs_free, ctypes.c_void_p).value
        return int(disasm or 0), int(free or 0), int(self._cs.csh.value)

    def decoder_layout(self, trapped: frozenset[str], vex_allowed: frozenset[str]) -> DecoderLayout:
        """How the C counter finds an instruction's id, size and bytes in
        Capstone's cs_insn, and the class of each instruction (by mnemonic).
        `trapped` and `vex_allowed` name x86-64 instructions; on another
        architecture every instruction is UNPREFIXED (no x86 prefix check) but
        the architecture's own `trapped` ones."""
        if self.arch is X86_64:
            classes = bytearray(x86_const.X86_INS_ENDING)
            for names, cls in ((vex_allowed, InsnClass.VEX_OK), (trapped, InsnClass.TRAP)):
                for name in names:
                    classes[getattr(x86_const, f"X86_INS_{name.upper()}")] = cls
        else:
            classes = bytearray([InsnClass.UNPREFIXED]) * 65536
            consts = importlib.import_module(f"capstone.{self.arch.cs_arch.lower()}_const")
            for name in self.arch.trapped:
                classes[getattr(consts, f"{self.arch.cs_arch}_INS_{name.upper()}")] = InsnClass.TRAP
        insn = capstone._cs_insn
        return DecoderLayout(ctypes.sizeof(insn), insn.id.offset, insn.size.offset, insn.bytes.offset,
                             bytes(classes))

    def vex_encoded(self, code: bytes) -> bool:
        """Whether the instruction in `code` has a VEX, EVEX or XOP prefix (as
        _icount.c's vex_encoded decides, for messages)."""
        if self.arch is not X86_64:
            return False
        i = 0
        while i < len(code) and (code[i] in _LEGACY_PREFIXES or code[i] & 0xF0 == 0x40):
            i += 1
        if i >= len(code):
            return False
        return code[i] in (0xC4, 0xC5, 0x62) or (code[i] == 0x8F and i + 1 < len(code) and code[i + 1] & 0x1F >= 8)

    def instruction_index(self, code: bytes, base: int, pc: int) -> int | None:
        """How many instructions of `code` (at `base`) lie before `pc`."""
        n = 0
        for addr, _size, _m, _o in self._cs.disasm_lite(code, base):
            if addr == pc:
                return n
            if addr > pc:
                return None
            n += 1
        return n if base + len(code) == pc else None

    def decode(self, code: bytes, base: int, limit: int = 0) -> list[Instruction]:
        out = []
        for addr, size, mnem, ops in self._cs.disasm_lite(code, base, limit):
            out.append(Instruction(addr, size, mnem, ops))
        return out


@lru_cache(maxsize=1)
def shared_disassembler() -> Disassembler:
    return Disassembler()
