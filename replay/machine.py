"""The emulated CPU: Unicorn, the exact instruction counter, faults.

The architecture (x86-64, aarch64, riscv64) is a description from replay/arch/; the
x86-64 specifics below (CPUID, rdtsc, hlt) apply to x86-64 only.

This is the only module that talks to Unicorn directly.  A Machine runs
guest code until an exact instruction count, a time slice, an interrupt
request, a fault, or a stop requested by the guest OS layer (exit), and
reports which as a `RunStop`.  It knows nothing of Linux: system calls,
rdtsc and invalid instructions are handed to a `GuestOS` object.

Hazards from ../shared/UNICORN-FACTS.md handled here:
 - the CPU model and every CPUID answer come from cpu.py, which advertises
   exactly what Unicorn executes correctly;
 - Unicorn runs rdrand with host randomness and some VEX (AVX) instructions
   with wrong results: the counter finds them when it decodes a block and
   stops before them (StopCause.SPECIAL); rdrand/rdseed are handed to the OS
   layer, the others become SIGILL with a note naming the instruction;
 - rdtsc/rdtscp are hooked through the raw C API (the binding refuses them);
 - code hooks added after translation are not applied to cached blocks, so
   the precise-count hook is added only after removing the block's cache.
"""

from __future__ import annotations

import ctypes
import enum
import hashlib
import importlib
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import unicorn
from unicorn import (
    UC_ERR_FETCH_PROT,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_INSN_INVALID,
    UC_ERR_READ_PROT,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_PROT,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_BLOCK,
    UC_HOOK_CODE,
    UC_HOOK_INSN,
    UC_HOOK_INTR,
    UC_HOOK_MEM_INVALID,
    UC_HOOK_MEM_READ,
    UC_HOOK_MEM_WRITE,
    UC_MEM_WRITE,
    Uc,
    UcError,
)
from unicorn import arm64_const as A
from unicorn import riscv_const as RV
from unicorn import x86_const as X
from unicorn.unicorn_py3 import unicorn as _ucmod
from unicorn.unicorn_py3.arch.intel import HOOK_INSN_CPUID_CFUNC

from . import cpu
from .arch import X86_64, Arch
from .arch.aarch64 import CNTFRQ_EL0, CNTPCT_EL0, CNTVCT_EL0, COUNTER_FREQUENCY
from .arch.riscv64 import MSTATUS_FS_INITIAL
from .disasm import Disassembler, Instruction
from .errors import ReplayError
from .icount import NO_LIMIT, Counter, Special, StopCause
from .linux.signals import SIGILL, SIGSEGV
from .memory import AddressSpace
from .page_images import MemoryImage, PageImager

_UNTIL = (1 << 64) - 1   # an address never executed: run until told to stop

_DELIBERATELY_INVALID = frozenset({"ud0", "ud1", "ud2", "udf"})   # SIGILL on every CPU: no note
_X87 = frozenset(f"st{i}" for i in range(8))


class StopKind(enum.Enum):
    LIMIT = "limit"            # reached the requested instruction count exactly
    BREAKPOINT = "breakpoint"  # about to execute a breakpoint address (exact)
    WATCH = "watch"            # a watched access (see Machine.hits; not exact)
    SLICE = "slice"            # a time slice ended (at a block boundary)
    INTERRUPTED = "interrupted"
    FAULT = "fault"            # the guest faulted; see signal/address
    HALTED = "halted"          # the guest OS layer stopped the machine


@dataclass(frozen=True)
class RunStop:
    """Why Machine.run returned (engine-internal: the process turns it into an Outcome)."""

    kind: StopKind
    icount: int
    pc: int
    signal: int = 0
    address: int = 0
    detail: str = ""
    note: str = ""     # for the user: why ttdbg refused an instruction (one `ttdbg:` line)
    intno: int = -1    # a CPU exception's Unicorn interrupt number (boards emulate hvc, smc, hlt)


class WatchKind(enum.Enum):
    WRITE = "write"
    READ = "read"
    ACCESS = "access"


@dataclass(frozen=True)
class Watchpoint:
    address: int
    length: int
    kind: WatchKind


@dataclass(slots=True)
class Hit:
    """A breakpoint or watchpoint hit at an exact instruction count (read-only by
    convention: a frozen dataclass costs 3 us to make, and a query scan makes one per hit).

    For a breakpoint, `icount` is the position before the instruction at
    `pc` runs.  For a watchpoint, `icount` is the position before the
    accessing instruction at `pc`, so the access completes at icount + 1.
    """

    icount: int
    pc: int
    watch: Watchpoint | None = None
    address: int = 0
    size: int = 0
    value: int = 0
    is_write: bool = False


@dataclass(frozen=True)
class MachineState:
    """What Machine.save() keeps: the CPU (an opaque Unicorn context, never
    changed once taken), the exact instruction count and guest memory."""

    icount: int
    cpu: object
    memory: MemoryImage


class GuestOS(Protocol):
    def on_syscall(self, machine: "Machine") -> None: ...
    def on_rdtsc(self, machine: "Machine", with_aux: bool) -> tuple[int, int]: ...


SysregKey = tuple[int, int, int, int, int]      # (op0, op1, crn, crm, op2)


class SystemRegisters(Protocol):
    """System registers a board's devices implement (aarch64: the generic timer).
    `icount` is the exact count before the mrs/msr instruction."""

    def read_sysreg(self, key: SysregKey, icount: int) -> int | None: ...     # None: Unicorn's own
    def write_sysreg(self, key: SysregKey, value: int, icount: int) -> bool: ...   # False: Unicorn's own


class Machine:
    """One CPU with exact instruction counting and host-backed RAM."""

    def __init__(self, arch: Arch = X86_64) -> None:
        self.arch = arch
        consts = importlib.import_module(f"unicorn.{arch.uc_consts}")
        self._regs: dict[str, int] = {n: getattr(consts, c) for n, c in arch.registers.items()}
        self._pc_id = self._regs[arch.pc]
        self._hashed = tuple(self._regs[n] for n in arch.hashed)
        mode = 0
        for name in arch.uc_mode.split("+"):           # "THUMB+MCLASS": flags combined
            mode |= getattr(unicorn, f"UC_MODE_{name}")
        self.uc = Uc(getattr(unicorn, f"UC_ARCH_{arch.uc_arch}"), mode)
        self.uc.ctl_set_cpu_model(getattr(consts, arch.uc_cpu_model))
        self.disasm = Disassembler(arch)
        cs_disasm, cs_free, cs_handle = self.disasm.native_handles()
        decoder = self.disasm.decoder_layout(cpu.TRAPPED, cpu.VEX_ALLOWED)
        uclib = _ucmod.uclib
        handle = self.uc._uch.value if hasattr(self.uc._uch, "value") else self.uc._uch
        self._handle = handle
        self.counter = Counter(handle, ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value,
                               ctypes.cast(uclib.uc_mem_read, ctypes.c_void_p).value,
                               cs_disasm, cs_free, cs_handle, decoder)
        self._code_write_hooks: dict[tuple[int, int], int] = {}
        self._index_cache: dict[tuple[int, int, int], int] = {}
        self.mem = AddressSpace(self.uc, on_code_changed=self.forget_code,
                                on_region_change=self._on_region_change)
        self.os: GuestOS | None = None
        self._halt: RunStop | None = None
        self._trap: tuple[int, int] | None = None   # (intno, pc)
        self._trap_stop: StopKind | None = None
        self._in_syscall = False
        self._mem_fault: tuple[int, int] | None = None
        self._callbacks: list[object] = []           # keep ctypes callbacks alive
        self._bp_hooks: dict[int, int] = {}
        self._watch_hooks: dict[Watchpoint, list[int]] = {}
        # The pc at a watch hook, read straight through the C API (the binding's
        # reg_read took 9 us of a hit's ~30 in a scan).
        self._pc_value = ctypes.c_uint64()
        self._batches: dict[tuple[str, ...], tuple] = {}            # regs(): the C arrays per name tuple
        self._write_batches: dict[tuple[str, ...], tuple[object, object, object]] = {}   # set_regs()
        self._pc_read = (uclib.uc_reg_read, self.uc._uch, self._pc_id, ctypes.byref(self._pc_value))
        self.collect_hits = False     # record hits instead of stopping at them
        self.hits: list[Hit] = []
        self.skip_breakpoint_icount = -1
        # Polled after each system call (cheap: a flag): True stops the run at
        # the next block boundary, so Ctrl-C works however busy the guest is.
        self.should_stop: Callable[[], bool] | None = None
        self._sysregs: SystemRegisters | None = None
        self._run_limit = NO_LIMIT

        # Called after each system call (the recording's scheduler: a thread woken may end the slice).
        self.after_syscall: Callable[[], None] | None = None
        self._block_hook = self._add_raw_hook(UC_HOOK_BLOCK, self.counter.block_hook, 1, 0)
        self.uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        self.uc.hook_add(UC_HOOK_MEM_INVALID, self._on_mem_invalid)
        _CPU_SETUP.get(arch.name, lambda _m: None)(self)     # (a board's CPU: set up by the board)
        self._pristine = self.uc.context_save()      # the CPU a new process (or exec) starts with

    def _setup_x86_64(self) -> None:
        self.uc.hook_add(UC_HOOK_INSN, self._on_syscall, None, 1, 0, X.UC_X86_INS_SYSCALL)
        for insn, aux in ((X.UC_X86_INS_RDTSC, False), (X.UC_X86_INS_RDTSCP, True)):
            self._add_tsc_hook(insn, aux)
        self._add_insn_hook(X.UC_X86_INS_CPUID, self._on_cpuid)
        # SSE on, as Linux leaves it: CR0.MP set, CR0.EM clear; CR4.OSFXSR|OSXMMEXCPT.
        cr0 = self.uc.reg_read(X.UC_X86_REG_CR0)
        self.uc.reg_write(X.UC_X86_REG_CR0, (cr0 & ~4) | 2)
        self.uc.reg_write(X.UC_X86_REG_CR4, self.uc.reg_read(X.UC_X86_REG_CR4) | 0x600)
        # The FPU state Linux starts a process with (Unicorn starts with zeros:
        # x87 single precision once anything loads the control word, and every
        # exception unmasked): fninit's control word, MXCSR's default.
        self.uc.reg_write(X.UC_X86_REG_FPCW, 0x037F)
        self.uc.reg_write(X.UC_X86_REG_MXCSR, 0x1F80)
        # User mode runs with interrupts enabled (Unicorn starts with RFLAGS 0x2): pushf shows IF.
        self.uc.reg_write(X.UC_X86_REG_EFLAGS, 0x202)
        # Linux's user selectors (__USER_CS, __USER_DS); Unicorn starts them at 0.  It accepts
        # them in long mode without a GDT and stays in 64-bit mode; ds/es/fs/gs stay 0, as on Linux.
        self.uc.reg_write(X.UC_X86_REG_CS, 0x33)
        self.uc.reg_write(X.UC_X86_REG_SS, 0x2B)

    def _setup_aarch64(self) -> None:
        # System calls arrive as interrupt arch.syscall_interrupt (_on_interrupt).
        self.uc.hook_add(UC_HOOK_INSN, self._on_mrs, None, 1, 0, A.UC_ARM64_INS_MRS)
        # FP/SIMD on at EL0, as Linux leaves it (CPACR_EL1.FPEN = 0b11).
        self.uc.reg_write(A.UC_ARM64_REG_CPACR_EL1, self.uc.reg_read(A.UC_ARM64_REG_CPACR_EL1) | (3 << 20))

    def _setup_riscv64(self) -> None:
        # System calls arrive as interrupt arch.syscall_interrupt (_on_interrupt);
        # CSR reads and the other SYSTEM instructions are trapped (riscv64_system.py).
        # The FPU on, as Linux starts a process (mstatus.FS = Initial).
        self.uc.reg_write(RV.UC_RISCV_REG_MSTATUS, self.uc.reg_read(RV.UC_RISCV_REG_MSTATUS) | MSTATUS_FS_INITIAL)

    def _on_mrs(self, uc: Uc, reg: int, cp_reg: object, _user: object) -> bool:
        """A system-register read: the generic timer's counters come from the OS
        layer (logged, as rdtsc on x86-64); every other register reads as Unicorn has it."""
        key = (cp_reg.op0, cp_reg.op1, cp_reg.crn, cp_reg.crm, cp_reg.op2)  # type: ignore[attr-defined]
        if self._sysregs is not None:
            value = self._sysregs.read_sysreg(key, self.exact_icount_at(uc.reg_read(self._pc_id)))
            if value is None:
                return False
            uc.reg_write(reg, value & ((1 << 64) - 1))
            return True
        if key == CNTFRQ_EL0:
            uc.reg_write(reg, COUNTER_FREQUENCY)
            return True
        if key in (CNTVCT_EL0, CNTPCT_EL0) and self.os is not None:
            value, _aux = self.os.on_rdtsc(self, False)
            uc.reg_write(reg, value & ((1 << 64) - 1))
            return True
        return False

    def _on_msr(self, uc: Uc, reg: int, cp_reg: object, _user: object) -> bool:
        if self._sysregs is None:
            return False
        key = (cp_reg.op0, cp_reg.op1, cp_reg.crn, cp_reg.crm, cp_reg.op2)  # type: ignore[attr-defined]
        return self._sysregs.write_sysreg(key, cp_reg.val,  # type: ignore[attr-defined]
                                          self.exact_icount_at(uc.reg_read(self._pc_id)))

    # -- boards: devices and system registers (aarch64) ----------------------------
    def attach_system_registers(self, handler: SystemRegisters) -> None:
        """Reads and writes of system registers go to `handler` first (a board's
        generic timer); Unicorn keeps the ones it declines."""
        self._sysregs = handler
        self.uc.hook_add(UC_HOOK_INSN, self._on_msr, None, 1, 0, A.UC_ARM64_INS_MSR)
        self.flush_translations()

    def map_device(self, base: int, size: int, read: Callable[[int, int], int],
                   write: Callable[[int, int, int], None]) -> None:
        """Memory-mapped I/O: `read(offset, size)` and `write(offset, size, value)`
        answer every access to [base, base+size)."""
        # Raw ctypes callbacks: the binding's own wrappers cost as much again per access.
        def on_read(_uc: object, off: int, sz: int, _user: object) -> int:
            try:
                return read(off, sz)
            except BaseException as exc:      # surfaced after emu_start returns
                self._hook_failed(exc)
                return 0

        def on_write(_uc: object, off: int, sz: int, value: int, _user: object) -> None:
            try:
                write(off, sz, value)
            except BaseException as exc:
                self._hook_failed(exc)

        callbacks = (_ucmod.MMIO_READ_CFUNC(on_read), _ucmod.MMIO_WRITE_CFUNC(on_write))
        self._callbacks.extend(callbacks)
        err = _ucmod.uclib.uc_mmio_map(self.uc._uch, base, size, callbacks[0], None, callbacks[1], None)
        if err:
            raise UcError(err)

    def _hook_failed(self, exc: BaseException) -> None:
        if self.uc._hook_exception is None:
            self.uc._hook_exception = exc
        self.uc.emu_stop()

    def sysreg(self, key: SysregKey) -> int:
        """An aarch64 system register by (op0, op1, crn, crm, op2) (SPSR_EL1, SCR_EL3, ...)."""
        return self.uc.cpr_read(*key)

    def set_sysreg(self, key: SysregKey, value: int) -> None:
        self.uc.cpr_write(*key, value)

    # -- code that the guest writes --------------------------------------------
    def _on_region_change(self, region, installed: bool) -> None:
        """Writable *and* executable memory: any write may change code, and the
        counter's cached instruction count of a block at that address with it.
        Such regions get a write hook that forgets the cached counts (rare:
        JITs and self-modifying code; W^X code is covered by mprotect, which
        remaps the region and clears the cache)."""
        key = (region.start, region.end)
        if installed and region.prot & 6 == 6:
            self._code_write_hooks[key] = self.uc.hook_add(
                UC_HOOK_MEM_WRITE, self._on_code_write, None, region.start, region.end - 1)
        elif not installed and key in self._code_write_hooks:
            self.uc.hook_del(self._code_write_hooks.pop(key))

    def _on_code_write(self, uc: Uc, access: int, address: int, size: int, value: int, _user: object) -> None:
        self.forget_code()

    def flush_translations(self) -> None:
        """Drop all translated code, so hooks added since apply everywhere (Unicorn
        applies code and memory hooks only to blocks translated after them)."""
        self.uc.ctl_flush_tb()

    def forget_code(self) -> None:
        """Code changed: drop what was learned by decoding it (block instruction
        counts in the C counter, instruction indexes within blocks here)."""
        self.counter.clear_cache()
        self._index_cache.clear()

    # -- hooks ---------------------------------------------------------------
    def _add_raw_hook(self, htype: int, callback: int, begin: int, end: int) -> int:
        h = ctypes.c_size_t()
        err = _ucmod.uclib.uc_hook_add(self.uc._uch, ctypes.byref(h), htype,
                                       ctypes.c_void_p(callback), ctypes.c_void_p(self.counter.address),
                                       ctypes.c_uint64(begin), ctypes.c_uint64(end))
        if err:
            raise UcError(err)
        return h.value

    def _add_tsc_hook(self, insn: int, with_aux: bool) -> None:
        def on_tsc() -> None:
            if self.os is None:
                return
            value, aux = self.os.on_rdtsc(self, with_aux)
            self.uc.reg_write(X.UC_X86_REG_RAX, value & 0xFFFFFFFF)
            self.uc.reg_write(X.UC_X86_REG_RDX, (value >> 32) & 0xFFFFFFFF)
            if with_aux:
                self.uc.reg_write(X.UC_X86_REG_RCX, aux & 0xFFFFFFFF)
        self._add_insn_hook(insn, on_tsc)

    def _on_cpuid(self) -> None:
        """Every CPUID answer comes from cpu.py's table, never from Unicorn's model."""
        regs = cpu.cpuid(self.uc.reg_read(X.UC_X86_REG_RAX), self.uc.reg_read(X.UC_X86_REG_RCX))
        for rid, value in zip((X.UC_X86_REG_RAX, X.UC_X86_REG_RBX, X.UC_X86_REG_RCX, X.UC_X86_REG_RDX), regs):
            self.uc.reg_write(rid, value)

    def _add_insn_hook(self, insn: int, handler: Callable[[], None]) -> None:
        """A UC_HOOK_INSN through the raw C API (the binding refuses rdtsc):
        `handler` replaces the instruction (the hook returns 1: skip it)."""
        def cb(_uc_handle: object, _user: object) -> int:
            try:
                handler()
            except BaseException as exc:  # surfaced after emu_start returns
                if self.uc._hook_exception is None:
                    self.uc._hook_exception = exc
                self.uc.emu_stop()
            return 1
        fn = HOOK_INSN_CPUID_CFUNC(cb)
        self._callbacks.append(fn)
        h = ctypes.c_size_t()
        err = _ucmod.uclib.uc_hook_add(self.uc._uch, ctypes.byref(h), UC_HOOK_INSN,
                                       ctypes.cast(fn, ctypes.c_void_p), None,
                                       ctypes.c_uint64(1), ctypes.c_uint64(0), ctypes.c_int(insn))
        if err:
            raise UcError(err)

    def _on_syscall(self, uc: Uc, _user: object) -> None:
        if self.os is None:
            return
        # Inside the hook RIP still holds the syscall instruction's address;
        # Unicorn adds its length (2) after the hook returns.  While the OS
        # layer runs, `rip` reads and writes the architectural value (the
        # next instruction), as a kernel sees it.
        self._in_syscall = True
        try:
            self.os.on_syscall(self)
        finally:
            self._in_syscall = False
        if self.should_stop is not None and self.should_stop():
            self.request_stop()
        if self.after_syscall is not None:
            self.after_syscall()

    def set_soft_limit(self, slice_end: int) -> None:
        """During a run (a hook): stop at the first block boundary at or after `slice_end` instead."""
        st = self.counter.state
        st.soft_limit = slice_end
        st.fast_limit = 0 if st.stop_request else min(st.limit, slice_end)

    def _on_interrupt(self, uc: Uc, intno: int, _user: object) -> None:
        if intno == self.arch.syscall_interrupt:
            self._on_syscall(uc, None)
            return
        self._trap = (intno, uc.reg_read(self._pc_id) - self.arch.trap_pc_lag)
        uc.emu_stop()

    def _on_mem_invalid(self, uc: Uc, access: int, address: int, size: int, value: int,
                        _user: object) -> bool:
        self._mem_fault = (access, address)
        return False

    # -- breakpoints and watchpoints ----------------------------------------------
    def set_breakpoints(self, addresses: set[int]) -> None:
        for addr in [a for a in self._bp_hooks if a not in addresses]:
            self.uc.hook_del(self._bp_hooks.pop(addr))
            self.uc.ctl_remove_cache(addr, addr + 1)
        for addr in addresses:
            if addr not in self._bp_hooks:
                # A hook added after translation is not applied to cached code.
                self.uc.ctl_remove_cache(addr, addr + 1)
                self._bp_hooks[addr] = self.uc.hook_add(UC_HOOK_CODE, self._on_breakpoint, None, addr, addr)

    def set_watchpoints(self, watches: set[Watchpoint]) -> None:
        for w in [w for w in self._watch_hooks if w not in watches]:
            for h in self._watch_hooks.pop(w):
                self.uc.hook_del(h)
        for w in watches:
            if w in self._watch_hooks:
                continue
            end = w.address + max(w.length, 1) - 1
            handles = []
            if w.kind in (WatchKind.WRITE, WatchKind.ACCESS):
                handles.append(self.uc.hook_add(UC_HOOK_MEM_WRITE, self._on_watch, w, w.address, end))
            if w.kind in (WatchKind.READ, WatchKind.ACCESS):
                handles.append(self.uc.hook_add(UC_HOOK_MEM_READ, self._on_watch, w, w.address, end))
            self._watch_hooks[w] = handles

    def _exact_index(self, pc: int) -> int | None:
        """How many instructions of the current block lie before `pc` (cached)."""
        st = self.counter.state
        key = (st.block_addr, st.block_size, pc)
        index = self._index_cache.get(key)
        if index is None:
            try:
                code = self.mem.read(st.block_addr, st.block_size)
            except ValueError:
                return None
            index = self.disasm.instruction_index(code, st.block_addr, pc)
            if index is None:
                return None
            if len(self._index_cache) > 100_000:
                self._index_cache.clear()
            self._index_cache[key] = index
        return index

    def _on_breakpoint(self, uc: Uc, address: int, size: int, _user: object) -> None:
        icount = self.exact_icount_at(address)
        if icount == self.skip_breakpoint_icount:
            return
        self.hits.append(Hit(icount, address))
        if not self.collect_hits:
            self._trap_stop = StopKind.BREAKPOINT
            uc.emu_stop()

    def _on_watch(self, uc: Uc, access: int, address: int, size: int, value: int, w: Watchpoint) -> None:
        read, handle, reg, out = self._pc_read
        read(handle, reg, out)
        pc = self._pc_value.value
        is_write = access == UC_MEM_WRITE
        if w.kind == WatchKind.WRITE and not is_write:
            return
        self.hits.append(Hit(self.exact_icount_at(pc), pc, w, address, size, value, is_write))
        if not self.collect_hits:
            self._trap_stop = StopKind.WATCH
            uc.emu_stop()

    def reset_block_tracking(self) -> None:
        """After a restore: the counter's current block is unknown."""
        st = self.counter.state
        st.block_size = 0
        st.block_addr = 0
        st.stop_request = 0

    # -- the run loop ----------------------------------------------------------
    @property
    def icount(self) -> int:
        return self.counter.state.icount

    def set_icount(self, value: int) -> None:
        self.counter.state.icount = value

    @property
    def pc(self) -> int:
        return self.uc.reg_read(self._pc_id) + (self.arch.syscall_pc_lag if self._in_syscall else 0)

    def halt(self, stop: RunStop) -> None:
        """Called by the OS layer inside a hook: stop after this instruction."""
        self._halt = stop
        self.uc.emu_stop()

    def request_stop(self) -> None:
        """Thread-safe: stop at the next block boundary (Ctrl-C, gdb ^C)."""
        self.counter.state.stop_request = 1
        self.counter.state.fast_limit = 0

    def move_limit(self, limit: int) -> None:
        """During a run (a hook, at an exact count): the run's exact stop moves to `limit`,
        which must lie past the block being run (a board's next check point)."""
        st = self.counter.state
        if limit < st.icount:
            raise ReplayError(f"internal: the exact stop moved to {limit:,}, behind the counter at {st.icount:,}")
        self._run_limit = limit
        if not st.precise:              # (precise mode ends inside its block; the run loop goes on)
            st.limit = limit
            if not st.stop_request:
                st.fast_limit = min(limit, st.soft_limit)

    def run(self, limit: int = NO_LIMIT, slice_end: int = NO_LIMIT) -> RunStop:
        """Run until `limit` instructions exactly (or where move_limit put it), or an earlier stop."""
        st = self.counter.state
        self._run_limit = limit
        while True:
            limit = self._run_limit
            if st.icount >= limit:
                return RunStop(StopKind.LIMIT, st.icount, self.pc)
            if st.stop_request:
                st.stop_request = 0
                return RunStop(StopKind.INTERRUPTED, st.icount, self.pc)
            st.limit = limit
            st.soft_limit = slice_end
            st.fast_limit = 0 if st.stop_request else min(limit, slice_end)
            st.stop_reason = StopCause.NONE
            pc = self.pc                # (a register read costs microseconds: once a run)
            before = (st.icount, pc)
            stop = self._emulate(pc)
            if stop is not None:
                return stop
            limit = self._run_limit
            cause = st.stop_reason
            if cause == StopCause.LIMIT and st.icount >= limit:
                continue        # stopped at a block's entry exactly at the limit: nothing left to count
            if cause == StopCause.LIMIT:
                stop = self._run_precise(limit)
                if stop is not None:
                    return stop
                continue
            if cause == StopCause.SPECIAL:
                stop = self._run_to_special(limit)
                if stop is not None:
                    return stop
                continue
            if cause == StopCause.SOFT:
                return RunStop(StopKind.SLICE, st.icount, self.pc)
            if cause == StopCause.REQUEST:
                st.stop_request = 0
                return RunStop(StopKind.INTERRUPTED, st.icount, self.pc)
            stop = self._stopped_by_hlt()
            if stop is not None:
                return stop
            if (st.icount, self.pc) == before:
                # emu_start returned for no reason we know, without progress:
                # going on would spin forever, deaf to Ctrl-C.
                raise ReplayError(f"the emulator stopped without progress at {self.pc:#x} "
                                  f"(instruction {st.icount:,})")

    def _emulate(self, pc: int | None = None) -> RunStop | None:
        """emu_start from `pc` (None: the current pc)."""
        self._halt = None
        self._trap = None
        self._mem_fault = None
        self._trap_stop = None
        if pc is None:
            pc = self.pc
        if pc == _UNTIL:
            # emu_start would stop at once (its `until` address) and the run loop
            # would spin: fetching the last byte of the address space faults, as
            # natively (no user mapping can reach it).
            return RunStop(StopKind.FAULT, self.icount, _UNTIL, SIGSEGV, _UNTIL, "fetch at 0xffffffffffffffff")
        try:
            self.uc.emu_start(pc | self.arch.code_address_bit, _UNTIL)
        except UcError as exc:
            return self._fault_from_error(exc)
        finally:
            st = self.counter.state
            st.limit = NO_LIMIT
            st.soft_limit = NO_LIMIT
            st.fast_limit = NO_LIMIT
        if self._halt is not None:
            return self._halt
        if self._trap_stop is not None:
            hit = self.hits[-1]
            if self._trap_stop == StopKind.BREAKPOINT:
                self.set_icount(hit.icount)   # the instruction did not run
            return RunStop(self._trap_stop, hit.icount, hit.pc, address=hit.address)
        if self._trap is not None:
            return self._fault_from_trap(*self._trap)
        return None

    def _run_precise(self, limit: int) -> RunStop | None:
        """Finish counting inside the block that crosses `limit`."""
        st = self.counter.state
        addr, size = st.pending_addr, st.pending_size
        self.uc.ctl_remove_cache(addr, addr + max(size, 1))
        hook = self._add_raw_hook(UC_HOOK_CODE, self.counter.code_hook, addr, addr + max(size, 1) - 1)
        st.precise = 1
        try:
            st.limit = limit
            st.fast_limit = 0
            st.stop_reason = StopCause.NONE
            stop = self._emulate()
        finally:
            st.precise = 0
            _ucmod.uclib.uc_hook_del(self.uc._uch, ctypes.c_size_t(hook))
            self.uc.ctl_remove_cache(addr, addr + max(size, 1))
        return stop

    def _run_to_special(self, limit: int) -> RunStop | None:
        """The next block holds an instruction the CPU must not run: count up to
        it exactly, then stop there as a fault (SIGILL) the OS layer handles."""
        st = self.counter.state
        kind = Special(st.pending_kind)
        at = st.icount + st.pending_index
        if at > st.icount:
            stop = self._run_precise(min(limit, at))
            if stop is not None or st.icount < at:
                return stop                     # a fault, a trap, or `limit` came first
        if st.icount >= limit:
            return None                         # stand before it: the run loop reports LIMIT
        pc = self.pc
        if pc in self._bp_hooks and at != self.skip_breakpoint_icount:
            # A breakpoint on the instruction itself comes first, as for any other
            # (its hook did not fire: the instruction was never translated to run).
            hit = Hit(at, pc)
            if not self.hits or self.hits[-1] != hit:
                self.hits.append(hit)
            if not self.collect_hits:
                return RunStop(StopKind.BREAKPOINT, at, pc)
        insn = self.instruction_at(pc)
        text = insn.text() if insn is not None else "(undecodable)"
        if kind == Special.TRAP and insn is not None and self.arch.emulate_trapped is not None:
            signal = self.arch.emulate_trapped(self, pc, int.from_bytes(self.mem.read(pc, insn.size), "little"))
            if not signal:
                return None                     # it ran: go on
            return RunStop(StopKind.FAULT, at, pc, signal, pc, text)
        if kind == Special.TRAP:
            return RunStop(StopKind.FAULT, at, pc, SIGILL, pc, text)
        why = ("an instruction of an extension the emulated CPU does not offer (AVX, AVX2, AVX-512, FMA, "
               "BMI1, ...: see the README's \"The emulated CPU\")" if kind == Special.ILLEGAL or
               (insn is not None and self.disasm.vex_encoded(self.mem.read(pc, insn.size)))
               else "an instruction the emulator cannot decode")
        note = f"illegal instruction `{text}' at {pc:#x}: {why}; the program gets SIGILL"
        return RunStop(StopKind.FAULT, at, pc, SIGILL, pc, f"refused instruction: {text}", note)

    # -- faults ----------------------------------------------------------------
    def exact_icount_at(self, pc: int) -> int:
        """Instructions retired before `pc`, when stopped inside the current block
        (or just after its last instruction, as after int3)."""
        st = self.counter.state
        if st.block_size and st.block_addr <= pc <= st.block_addr + st.block_size:
            index = self._exact_index(pc)
            if index is not None:
                return st.block_start_icount + index
        return st.icount

    def _stopped_by_hlt(self) -> RunStop | None:
        """Unicorn stops quietly after `hlt`; in user mode it is a #GP (SIGSEGV)."""
        if self.arch is not X86_64:
            return None
        pc = self.pc - 1
        try:
            if self.mem.read(pc, 1) != b"\xf4":
                return None
        except ValueError:
            return None
        exact = self.exact_icount_at(pc)
        self.set_icount(exact)
        self.set_reg("rip", pc)
        return RunStop(StopKind.FAULT, exact, pc, SIGSEGV, 0, "hlt in user mode")

    def _fault_from_error(self, exc: UcError) -> RunStop:
        pc = self.pc
        exact = self.exact_icount_at(pc)
        self.set_icount(exact)
        errno_ = exc.errno
        address = self._mem_fault[1] if self._mem_fault else 0
        if errno_ in (UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED,
                      UC_ERR_READ_PROT, UC_ERR_WRITE_PROT, UC_ERR_FETCH_PROT):
            return RunStop(StopKind.FAULT, exact, pc, SIGSEGV, address, str(exc))
        if errno_ == UC_ERR_INSN_INVALID:
            insn = self.instruction_at(pc)
            note = ""
            if insn is not None and insn.mnemonic not in _DELIBERATELY_INVALID:
                # Valid x86-64 the emulator does not implement (sha256rnds2, ...):
                # as refused, the program gets SIGILL and the user a note.
                note = (f"illegal instruction `{insn.text()}' at {pc:#x}: the emulated CPU does not "
                        "implement it (see the README's \"The emulated CPU\"); the program gets SIGILL")
            return RunStop(StopKind.FAULT, exact, pc, SIGILL, pc, "invalid instruction", note)
        return RunStop(StopKind.FAULT, exact, pc, SIGSEGV, address, str(exc))

    def _fault_from_trap(self, intno: int, pc: int) -> RunStop:
        exact = self.exact_icount_at(pc)
        self.set_icount(exact)
        signal = self.arch.trap_signals.get(intno, SIGSEGV)
        detail = "int 0x80 (32-bit system calls are not supported)" if intno == 0x80 else f"cpu exception {intno}"
        return RunStop(StopKind.FAULT, exact, pc, signal, pc, detail, intno=intno)

    # -- registers -------------------------------------------------------------
    def reg(self, name: str) -> int:
        if name in _X87:
            return self._x87_read(self._regs[name])
        if name == self.arch.pc:
            return self.pc
        return self.uc.reg_read(self._regs[name])

    def regs(self, names: tuple[str, ...]) -> tuple[int, ...]:
        """Several registers in one call into Unicorn (a scan's probe reads a handful at
        every stop; one by one, the binding takes ~9 us a register)."""
        batch = self._batches.get(names)
        if batch is None:
            if self.arch.pc in names:
                return tuple(self.reg(n) for n in names)
            count = len(names)
            buffers = [(ctypes.c_uint8 * 64)() for _ in names]      # wide enough for any register
            ids = (ctypes.c_int * count)(*(self._regs[n] for n in names))
            pointers = (ctypes.c_void_p * count)(*(ctypes.addressof(b) for b in buffers))
            batch = self._batches[names] = (ids, pointers, count, buffers)
        ids, pointers, count, buffers = batch
        err = _ucmod.uclib.uc_reg_read_batch(self.uc._uch, ids, pointers, count)
        if err:
            raise UcError(err)
        return tuple(int.from_bytes(b, "little") for b in buffers)

    def set_reg(self, name: str, value: int) -> None:
        if name in _X87:
            self._x87_write(self._regs[name], value)
            return
        if name == self.arch.pc:
            if self._in_syscall:
                value = (value - self.arch.syscall_pc_lag) & ((1 << 64) - 1)
            value |= self.arch.code_address_bit
        self.uc.reg_write(self._regs[name], value)

    # The Python binding reads ST0-ST7 into 8 bytes although Unicorn writes
    # 10 (an 80-bit value): go through the C API with a buffer that fits.
    def _x87_read(self, reg_id: int) -> int:
        buf = (ctypes.c_uint8 * 16)()
        err = _ucmod.uclib.uc_reg_read(self.uc._uch, reg_id, ctypes.byref(buf))
        if err:
            raise UcError(err)
        return int.from_bytes(bytes(buf)[:10], "little")

    def _x87_write(self, reg_id: int, value: int) -> None:
        buf = (ctypes.c_uint8 * 16).from_buffer_copy((value & ((1 << 80) - 1)).to_bytes(16, "little"))
        err = _ucmod.uclib.uc_reg_write(self.uc._uch, reg_id, ctypes.byref(buf))
        if err:
            raise UcError(err)

    def set_regs(self, values: tuple[tuple[str, int], ...]) -> None:
        """Integer registers written in one call, in this order (the PC as set_reg writes it)."""
        names = tuple(n for n, _v in values)
        ids, vals, ptrs = self._batch(names)
        for i, (name, value) in enumerate(values):
            vals[i] = (value | self.arch.code_address_bit if name == self.arch.pc else value) & ((1 << 64) - 1)
        err = _ucmod.uclib.uc_reg_write_batch(self.uc._uch, ids, ptrs, len(names))
        if err:
            raise UcError(err)

    def _batch(self, names: tuple[str, ...]) -> tuple[object, object, object]:
        """set_regs' C arrays for these integer registers (made once per name tuple)."""
        arrays = self._write_batches.get(names)
        if arrays is None:
            n = len(names)
            vals = (ctypes.c_uint64 * n)()
            arrays = ((ctypes.c_int * n)(*(self._regs[x] for x in names)), vals,
                      (ctypes.c_void_p * n)(*(ctypes.addressof(vals) + 8 * i for i in range(n))))
            self._write_batches[names] = arrays
        return arrays

    def read_registers(self, names: tuple[str, ...]) -> dict[str, int]:
        return {n: self.reg(n) for n in names}

    def instruction_at(self, pc: int) -> Instruction | None:
        try:
            code = self.mem.read(pc, 16)
        except ValueError:
            return None
        insns = self.disasm.decode(code, pc, 1)
        return insns[0] if insns else None

    # -- state identity ----------------------------------------------------------
    def state_hash(self) -> bytes:
        """A digest of the registers and all guest memory (layout and bytes)."""
        h = hashlib.blake2b(digest_size=16)
        for rid in self._hashed:
            v = self.uc.reg_read(rid)
            h.update(int(v).to_bytes(16, "little", signed=False))
        for r in self.mem.regions():
            h.update(struct.pack("<QQI", r.start, r.end, r.prot))
            h.update(r.view())
        return h.digest()

    def remove_counter_for_baseline(self) -> None:
        """Benchmarks only: run with no counting hook, to measure Unicorn's own speed."""
        _ucmod.uclib.uc_hook_del(self.uc._uch, ctypes.c_size_t(self._block_hook))
        self.uc.ctl_flush_tb()

    def quick_hash(self) -> bytes:
        """A cheaper digest for the log's periodic state checks: registers,
        layout, and a CRC-32 of each region's bytes (3x faster than hashing
        all memory with BLAKE2; it detects divergence, it is not a seal)."""
        h = hashlib.blake2b(digest_size=16)
        for rid in self._hashed:
            h.update(int(self.uc.reg_read(rid)).to_bytes(16, "little", signed=False))
        for r in self.mem.regions():
            h.update(struct.pack("<QQII", r.start, r.end, r.prot, zlib.crc32(r.view())))
        return h.digest()

    # -- saving and restoring (checkpoints) ------------------------------------------
    _pages: PageImager | None = None     # made by the first save or restore

    def _page_imager(self) -> PageImager:
        if self._pages is None:
            self._pages = PageImager(self.mem, self.uc.ctl_remove_cache)
        return self._pages

    def save(self) -> MachineState:
        """The CPU and memory as they are now (memory incrementally: see page_images.py)."""
        return MachineState(self.icount, self.uc.context_save(), self._page_imager().take())

    def restore(self, state: MachineState) -> None:
        """Be exactly as when `state` was saved."""
        self.uc.context_restore(state.cpu)
        if self._page_imager().restore(state.memory):
            self.forget_code()
        self.set_icount(state.icount)
        self.reset_block_tracking()

    def clear(self, in_syscall: bool = False) -> None:
        """Empty the address space and reset the CPU, as for a new program (exec, a reused pid).
        Inside a system call (exec) the translated code is left to the unmapping to drop."""
        for r in list(self.mem.regions()):
            self.mem.unmap(r.start, r.end - r.start)
        self.forget_code()
        if not in_syscall:
            self.uc.ctl_flush_tb()
        self.uc.context_restore(self._pristine)
        self.reset_block_tracking()

    # -- threads: the CPU of a thread not running (scheduler.py) ----------------------
    def cpu_context(self) -> object:
        """The CPU as it is now (a Unicorn context: picklable, never changed once taken)."""
        return self.uc.context_save()

    def load_cpu_context(self, context: object) -> None:
        """Run another thread: its CPU, in this address space, at the same instruction count."""
        self.uc.context_restore(context)
        self.reset_block_tracking()

    def context_reg(self, context: object, name: str) -> int:
        """A register of a saved CPU (x87 registers: their low 64 bits)."""
        return context.reg_read(self._regs[name])  # type: ignore[attr-defined]

    def set_context_reg(self, context: object, name: str, value: int) -> None:
        context.reg_write(self._regs[name], value)  # type: ignore[attr-defined]

    def saved_state_overhead(self) -> int:
        """Bytes held to make saving incremental (a shadow copy of memory)."""
        return self._pages.shadow_bytes() if self._pages is not None else 0

    def close(self) -> None:
        self.counter.close()


_CPU_SETUP: dict[str, Callable[[Machine], None]] = {
    "x86_64": Machine._setup_x86_64,
    "aarch64": Machine._setup_aarch64,
    "riscv64": Machine._setup_riscv64,
}
