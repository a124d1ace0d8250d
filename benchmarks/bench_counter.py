"""What the exact instruction counter costs per block, split from Unicorn's own cost.

    python benchmarks/bench_counter.py [--arch aarch64] [--rounds N] [--repeat K] [--counter-lib SO ...]

Runs the work() function of benchmarks/alu.c (built as bench_record_replay.py
builds it) directly in a Machine, from its entry to its return, in one
process, with different block hooks:

  no hooks            the counter's hook removed: Unicorn's own speed
  empty C hook        one UC_HOOK_BLOCK whose C callback does nothing
                      (Unicorn 2.1 calls a lone block hook directly from the
                      translated block, without helper_uc_tracecode)
  two empty C hooks   two such hooks: now each block calls helper_uc_tracecode,
                      which walks the hook list
  block counter (+1)  one C hook that adds 1 to a counter (also gives the
                      number of blocks run)
  ttdbg counter       replay/_icount.c's tt_block_hook, as record and replay use it
  ttdbg counter + empty   the counter and an empty hook: the counter through
                      helper_uc_tracecode
  --counter-lib SO    a scratch build of _icount.c (same symbols) in place of
                      the installed one, to compare a change in one process

The empty hooks are a C file compiled here (gcc) into a temporary directory.
Times are the thread's CPU time (time.thread_time), not wall time, so
that waiting for a core on a loaded machine does not count; each row is the
best of K runs, the rows interleaved so load changes hit all of them alike.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_record_replay import build, symbol  # noqa: E402
from elftools.elf.elffile import ELFFile  # noqa: E402
from unicorn import UC_HOOK_BLOCK, UC_PROT_ALL  # noqa: E402
from unicorn.arm64_const import UC_ARM64_REG_LR, UC_ARM64_REG_SP, UC_ARM64_REG_X0  # noqa: E402
from unicorn.unicorn_py3 import unicorn as _ucmod  # noqa: E402
from unicorn.x86_const import UC_X86_REG_RDI, UC_X86_REG_RSP  # noqa: E402

from replay import icount  # noqa: E402
from replay.arch import AARCH64, X86_64  # noqa: E402
from replay.machine import Machine  # noqa: E402

HOOKS_C = r"""
#include <stdint.h>
void tt_empty_hook(void *uc, uint64_t addr, uint32_t size, void *user)
{ (void)uc; (void)addr; (void)size; (void)user; }
void tt_plus_one_hook(void *uc, uint64_t addr, uint32_t size, void *user)
{ (void)uc; (void)addr; (void)size; ++*(volatile uint64_t *)user; }
"""

SENTINEL = 0x1000            # work() returns here: the end of the run
STACK_TOP = 0x7FFF_0000_0000


def hook_library(tmp: str) -> ctypes.CDLL:
    src = os.path.join(tmp, "hooks.c")
    so = os.path.join(tmp, "hooks.so")
    Path(src).write_text(HOOKS_C)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", so, src], check=True)
    return ctypes.CDLL(so)


def load_program(machine: Machine, prog: str) -> None:
    """Map the ELF's loadable segments as one RWX region, a stack and the sentinel page."""
    uc = machine.uc
    with open(prog, "rb") as f:
        elf = ELFFile(f)
        segs = [(s["p_vaddr"], s["p_memsz"], s.data()) for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    lo = min(v for v, _, _ in segs) & ~0xFFF
    hi = (max(v + m for v, m, _ in segs) + 0xFFF) & ~0xFFF
    uc.mem_map(lo, hi - lo, UC_PROT_ALL)
    for vaddr, _, data in segs:
        uc.mem_write(vaddr, data)
    uc.mem_map(SENTINEL, 0x1000, UC_PROT_ALL)
    uc.mem_map(STACK_TOP - 0x10000, 0x10000, UC_PROT_ALL)


def add_block_hook(machine: Machine, callback: int, user: int) -> None:
    h = ctypes.c_size_t()
    err = _ucmod.uclib.uc_hook_add(machine.uc._uch, ctypes.byref(h), UC_HOOK_BLOCK, ctypes.c_void_p(callback),
                                   ctypes.c_void_p(user), ctypes.c_uint64(1), ctypes.c_uint64(0))
    assert err == 0, err


def run(arch_name: str, prog: str, rounds: int, variant: str, hooks: ctypes.CDLL,
        counter_lib: str | None = None) -> tuple[float, int]:
    """(seconds, the variant's count: instructions for a counter, blocks for +1, else 0)."""
    arch = X86_64 if arch_name == "x86_64" else AARCH64
    machine = Machine(arch)
    load_program(machine, prog)
    uc = machine.uc
    work = symbol(prog, "work")
    if arch is X86_64:
        uc.mem_write(STACK_TOP - 8, SENTINEL.to_bytes(8, "little"))
        uc.reg_write(UC_X86_REG_RSP, STACK_TOP - 8)
        uc.reg_write(UC_X86_REG_RDI, rounds)
    else:
        uc.reg_write(UC_ARM64_REG_SP, STACK_TOP)
        uc.reg_write(UC_ARM64_REG_LR, SENTINEL)
        uc.reg_write(UC_ARM64_REG_X0, rounds)
    empty = ctypes.cast(hooks.tt_empty_hook, ctypes.c_void_p).value
    plus_one = ctypes.cast(hooks.tt_plus_one_hook, ctypes.c_void_p).value
    blocks = ctypes.c_uint64(0)
    state = machine.counter.state
    keep = None
    if variant != "ttdbg counter" and variant != "ttdbg counter + empty":
        machine.remove_counter_for_baseline()
    if variant == "empty C hook":
        add_block_hook(machine, empty, 0)
    elif variant == "two empty C hooks":
        add_block_hook(machine, empty, 0)
        add_block_hook(machine, empty, 0)
    elif variant == "block counter (+1)":
        add_block_hook(machine, plus_one, ctypes.addressof(blocks))
    elif variant == "ttdbg counter + empty":
        add_block_hook(machine, empty, 0)
    elif counter_lib:
        keep = _counter_from(machine, counter_lib)
        add_block_hook(machine, keep.block_hook, keep.address)
        state = keep.state
    t = time.thread_time()
    uc.emu_start(work, SENTINEL)
    seconds = time.thread_time() - t
    assert machine.pc == SENTINEL, hex(machine.pc)
    count = blocks.value if variant == "block counter (+1)" else state.icount
    if keep is not None:
        keep.close()
    return seconds, count


def _counter_from(machine: Machine, path: str) -> icount.Counter:
    """A second Counter on `machine`'s Unicorn, from the scratch library at `path`."""
    saved = icount._LIB
    try:
        with mock.patch.object(icount.importlib.util, "find_spec",
                               lambda _name: types.SimpleNamespace(origin=path)):
            icount._LIB = icount._load_library()
        uclib = _ucmod.uclib
        cs_disasm, cs_free, cs_handle = machine.disasm.native_handles()
        from replay import cpu
        decoder = machine.disasm.decoder_layout(cpu.TRAPPED, cpu.VEX_ALLOWED)
        return icount.Counter(machine._handle, ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value,
                              ctypes.cast(uclib.uc_mem_read, ctypes.c_void_p).value,
                              cs_disasm, cs_free, cs_handle, decoder)
    finally:
        icount._LIB = saved


BASE_VARIANTS = ("no hooks", "empty C hook", "two empty C hooks", "block counter (+1)", "ttdbg counter",
                 "ttdbg counter + empty")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=("x86_64", "aarch64"), default="x86_64")
    parser.add_argument("--rounds", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--counter-lib", action="append", default=[], metavar="SO")
    parser.add_argument("--only", action="append", default=[],
                        help="run only this row (by name; --counter-lib rows always run)")
    args = parser.parse_args()
    prog = build("alu", args.arch)
    rows: list[tuple[str, str | None]] = [(v, None) for v in BASE_VARIANTS]
    rows += [(f"counter lib {os.path.basename(p)}", os.path.abspath(p)) for p in args.counter_lib]
    if args.only:
        rows = [r for r in rows if r[0] in args.only or r[1]]
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-counter-") as tmp:
        hooks = hook_library(tmp)
        for _ in range(args.repeat):
            for name, lib in rows:
                s, n = run(args.arch, prog, args.rounds, name, hooks, lib)
                best[name] = min(best.get(name, s), s)
                counts[name] = n
    insns = counts.get("ttdbg counter") or next((n for k, n in counts.items() if k.startswith("counter lib")), 0)
    blocks = counts.get("block counter (+1)", 0)
    for name, lib in rows:
        if lib and counts[name] != insns:
            raise SystemExit(f"{name}: counted {counts[name]:,} instructions, the installed counter {insns:,}")
    print(f"guest: work({args.rounds}) of {os.path.relpath(prog)}: {insns:,} instructions"
          + (f", {blocks:,} blocks ({insns / blocks:.1f} instructions a block)" if blocks and insns else ""))
    print(f"loadavg: {open('/proc/loadavg').read().split()[0]}")
    base = best.get("no hooks")
    print(f"{'':26}{'CPU s':>9}{'MIPS':>8}{'vs none':>9}{'ns/block over none':>20}")
    for name, _ in rows:
        s = best[name]
        mips = insns / s / 1e6 if insns else 0
        extra = f"{(s - base) / blocks * 1e9:20.2f}" if base and blocks else ""
        ratio = f"{base / s:8.2f}x" if base else ""
        print(f"{name:26}{s:9.3f}{mips:8.0f} {ratio}{extra}")


if __name__ == "__main__":
    main()
