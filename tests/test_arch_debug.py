"""Each architecture's debugger data (replay/arch/: Arch.debug) is consistent with its
engine registers, and the stub's target description made from it is what gdb expects."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gdbstub import target_xml
from replay.arch import AARCH64, ARCHES, X86_64
from ttdbg.gdb_target import describe


@pytest.mark.parametrize("arch", [a for a in ARCHES if a.debug is not None], ids=lambda a: a.name)
def test_every_register_the_debuggers_name_is_an_engine_register(arch):
    d = arch.debug
    engine = set(arch.registers)
    gdb_regs = [r for r in d.registers if not r.unavailable]
    assert {r.source for r in gdb_regs} <= engine
    assert {n for n in d.dwarf_registers if n} <= engine
    assert {*d.general_registers, *d.argument_registers, d.return_register, d.fp, *d.expedite} <= engine | {
        r.name for r in d.registers}
    assert d.link_register is None or d.link_register in engine
    assert arch.pc in {r.source for r in gdb_regs} and arch.sp in {r.source for r in gdb_regs}
    names = [r.name for r in d.registers]
    assert len(names) == len(set(names))
    xml = target_xml(describe(d))
    root = ET.fromstring(xml)                       # well formed, every type defined once
    assert root.find("architecture").text == d.gdb_architecture
    assert [r.get("name") for r in root.iter("reg")] == names
    used = {r.type for r in d.registers}
    assert set(d.types) <= used


def test_x86_64_description_is_gdbs_numbering():
    """gdb's amd64 numbering (the stub has no table of its own any more: this is the only one)."""
    d = describe(X86_64.debug)
    names = [r.name for r in d.registers]
    assert names[:3] == ["rax", "rbx", "rcx"] and names[16] == "rip" and names[17] == "eflags"
    assert d.g_packet_size == 560


def test_aarch64_description_is_gdbs_numbering():
    d = describe(AARCH64.debug)
    names = [r.name for r in d.registers]
    assert names[:31] == [f"x{i}" for i in range(31)] and names[31:34] == ["sp", "pc", "cpsr"]
    assert names[34:66] == [f"v{i}" for i in range(32)] and names[66:] == ["fpsr", "fpcr", "tpidr"]
    assert d.g_packet_size == 31 * 8 + 8 + 8 + 4 + 32 * 16 + 4 + 4 + 8
    features = {r.feature for r in d.registers}
    assert features == {"org.gnu.gdb.aarch64.core", "org.gnu.gdb.aarch64.fpu", "org.gnu.gdb.aarch64.tls"}
    assert [r.name for r in d.registers if r.expedite] == ["x29", "sp", "pc"]
