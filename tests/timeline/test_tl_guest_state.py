"""What the Timeline answers about the guest, so front ends never reach behind it.

Each answer is compared with the same fact read another way: the bytes
with read_memory, the maps file with the regions, the instruction with
the registers and the next position, the stop with the held signal.
"""

from __future__ import annotations

import pytest

from replay import Direction, MemoryRegion, ReplayError, StopReason, Timeline


@pytest.fixture(scope="module")
def tl(work) -> Timeline:
    timeline = work.timeline()
    timeline.seek(2_000_000)
    return timeline


def test_memory_map_and_the_maps_file(tl: Timeline) -> None:
    regions = tl.memory_map()
    assert all(isinstance(r, MemoryRegion) and r.start < r.end for r in regions)
    assert all(a.end <= b.start for a, b in zip(regions, regions[1:]))          # sorted, disjoint
    rsp = tl.read_register("rsp")
    stack = [r for r in regions if r.start <= rsp < r.end]
    assert [r.name for r in stack] == ["[stack]"] and stack[0].prot & 3 == 3
    maps = tl.proc_file("maps")
    assert maps is not None
    for r in regions:
        if r.name:
            assert r.name in maps.decode()
    first = maps.decode().splitlines()[0].split()[0]
    assert int(first.split("-")[0], 16) == regions[0].start
    assert tl.proc_file("mountinfo") is None
    status = tl.proc_file("status").decode()
    assert f"\nPid:\t{tl.pid}\n" in status and "\nState:\tt (tracing stop)\n" in status
    assert tl.proc_file("stat").decode().startswith(f"{tl.pid} (")


def test_read_memory_prefix_stops_at_the_first_unmapped_byte(tl: Timeline) -> None:
    regions = tl.memory_map()
    ends = [r for r, nxt in zip(regions, (*regions[1:], None)) if nxt is None or nxt.start > r.end]
    r = ends[0]
    assert tl.read_memory_prefix(r.end - 8, 64) == tl.read_memory(r.end - 8, 8)
    assert tl.read_memory_prefix(r.start, 16) == tl.read_memory(r.start, 16)
    assert tl.read_memory_prefix(r.end, 16) == b""
    with pytest.raises(ReplayError):
        tl.read_memory(r.end - 8, 64)


def test_instruction_at_the_pc_is_the_next_step(tl: Timeline) -> None:
    for _ in range(20):
        pc = tl.pc
        insn = tl.instruction_at(pc)
        assert insn is not None and insn.address == pc and insn.size >= 1
        assert tl.read_memory(pc, insn.size)                          # its bytes are there
        before = tl.position
        tl.step(1)
        assert tl.position == before + 1
        if insn.mnemonic not in ("call", "jmp", "ret", "syscall") and not insn.mnemonic.startswith("j"):
            assert tl.pc == pc + insn.size
    assert tl.instruction_at(0) is None


def test_here_is_where_the_timeline_stands(tl: Timeline) -> None:
    tl.seek(1_234_567)
    here = tl.here()
    assert (here.reason, here.icount, here.pc) == (StopReason.ARRIVED, 1_234_567, tl.pc)
    tl.step(1, Direction.BACKWARD)
    assert tl.here().icount == 1_234_566
