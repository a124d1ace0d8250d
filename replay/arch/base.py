"""What the engine needs to know of a CPU architecture, as one description.

Each architecture is one `Arch` value (x86_64.py, aarch64.py, riscv64.py): the Unicorn
and Capstone modes, the registers, the system-call ABI, the ELF machine, the
auxiliary-vector values and the system-call number table.  The engine asks
the description instead of naming registers or numbers itself.

Its `debug` part (a `DebugInfo`) is what the debuggers (gdb's stub, the REPL,
DAP) need, as data: gdb's register numbering and target description, the
breakpoint kind, the frame registers, DWARF's register numbers.  An
architecture without one records and replays, but `ttdbg gdb/serve/repl/...`
refuse its traces in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DebugRegister:
    """One register as gdb numbers it: its position in `DebugInfo.registers`
    is gdb's register number (the `p` index, the place in the `g` packet)."""

    name: str                        # gdb's name
    bitsize: int
    type: str                        # a target-description type: int64, code_ptr, or one of DebugInfo.types
    feature: str                     # the <feature> it belongs to (org.gnu.gdb.aarch64.core, ...)
    group: str | None = None
    engine: str = ""                 # the engine's name of it, when not `name` (aarch64 tpidr: tpidr_el0)
    unavailable: bool = False        # gdb has it, the engine not (x86-64 orig_rax): reads as all ones

    @property
    def source(self) -> str:
        return self.engine or self.name


@dataclass(frozen=True)
class DebugInfo:
    """What a debugger needs to know of the architecture (see the module's docstring)."""

    gdb_architecture: str            # target.xml's <architecture> ("i386:x86-64", "aarch64")
    registers: tuple[DebugRegister, ...]
    # Target-description types the registers use that gdb does not build in, by
    # id: each one's XML (<flags>, <vector>, <union>), emitted in the feature that first uses it.
    types: Mapping[str, str]
    expedite: tuple[str, ...]        # registers sent with every stop reply (pc, sp, fp)
    breakpoint_kind: int             # the `kind` of gdb's Z0/Z1 packets: the breakpoint instruction's size
    fp: str                          # the frame-pointer register (rbp, x29)
    # Where a call leaves its return address: a register (aarch64 x30), or None: on the stack (x86-64).
    link_register: str | None
    # DWARF register numbers -> names (None: a number the engine has no register for).
    dwarf_registers: tuple[str | None, ...]
    argument_registers: tuple[str, ...]   # a function's integer arguments, in order (the C ABI)
    return_register: str                  # its integer result
    # Capstone's mnemonics of calls and returns, and the sizes a call instruction can have
    # (to find the call before a return address).
    call_mnemonics: frozenset[str]
    return_mnemonics: frozenset[str]
    call_sizes: tuple[int, ...]
    general_registers: tuple[str, ...]    # `info registers` without arguments, in order
    user_end: int                    # no user-space address is at or above it (no code runs there)
    # gdb's `have_nonsteppable_watchpoint` for the architecture (aarch64, riscv: yes; x86-64: no):
    # gdb wants a watchpoint stop before the accessing instruction, and steps over it itself.
    gdb_steps_over_watchpoints: bool = False
    # Where a frame pointer's frame record is, as offsets from it: (the CFA, the caller's frame
    # pointer, the return address).  x86-64, aarch64: it points at [caller's fp, return address];
    # riscv64: s0 is the CFA, with ra and the caller's s0 just below it.
    frame_record: tuple[int, int, int] = (16, 0, 8)

    osabi: str = "GNU/Linux"         # target.xml's <osabi> ("none": bare metal, no shared libraries)

    @property
    def call_push(self) -> int:
        """Bytes a call pushes (its return address; none when it goes to a link register)."""
        return 0 if self.link_register else 8


@dataclass(frozen=True)
class Arch:
    name: str                        # as in messages: "x86_64", "aarch64", "riscv64"
    signature: str                   # the emulated CPU, as the trace header's extra.cpu names it
    elf_machine: int                 # e_machine (62, 183, 243)
    elf_machine_name: str            # pyelftools' name of it ("EM_X86_64")
    # Unicorn and Capstone by the names of their constants (only machine.py
    # imports unicorn, only disasm.py capstone): UC_ARCH_<uc_arch>,
    # UC_MODE_<uc_mode>, unicorn.<uc_consts>.<uc_cpu_model>, CS_ARCH_<cs_arch>...
    uc_arch: str
    uc_mode: str
    uc_consts: str                   # the unicorn module of the architecture's constants
    uc_cpu_model: str                # ctl_set_cpu_model's constant
    cs_arch: str
    cs_mode: str
    registers: Mapping[str, str]     # name -> Unicorn register constant (in uc_consts)
    hashed: tuple[str, ...]          # the registers a state hash covers, in order
    pc: str
    sp: str
    syscall_number: str
    syscall_args: tuple[str, ...]    # the six argument registers, in order
    syscall_return: str
    # The PC inside the system-call hook is this many bytes before the next
    # instruction (x86-64: the `syscall` instruction's own address).
    syscall_pc_lag: int
    # Registers the system-call instruction sets on return: (register, source),
    # the source being another register's value (x86-64: rcx <- rip, r11 <- eflags).
    syscall_clobbers: tuple[tuple[str, str], ...]
    tls_register: str
    stat_layout: str                 # struct stat: "x86_64" or "generic" (linux/structs.py)
    atexit_register: str             # at the entry: the function for atexit (Linux leaves 0)
    page_size: int
    platform: bytes                  # AT_PLATFORM's string (b"": none, as on riscv64)
    hwcap: int                       # AT_HWCAP
    hwcap2: int | None               # AT_HWCAP2 (None: not in the auxv)
    syscall_names: Mapping[int, str]
    # Calls that have a number here but whose handler does not yet follow this
    # architecture's ABI (argument order, registers): -ENOSYS with the warning.
    unported_syscalls: frozenset[str] = frozenset()
    # Unicorn interrupt numbers (UC_HOOK_INTR) -> the signal the guest gets.
    trap_signals: Mapping[int, int] = field(default_factory=dict)
    syscall_interrupt: int | None = None   # the interrupt number of the system-call instruction
    # Unicorn reports another exception's PC this many bytes past the faulting
    # instruction (riscv64: 4, whatever the instruction's length).
    trap_pc_lag: int = 0
    # Instructions (Capstone's names, as in <cs_arch>_INS_<NAME>) the counter stops
    # before (x86-64's are cpu.TRAPPED).  With `emulate_trapped` the engine runs them
    # (riscv64's SYSTEM instructions, as Linux would for a user process); without,
    # the stop is a fault for the OS layer or board to handle (a board's aarch64 `wfi`).
    trapped: frozenset[str] = frozenset()
    # (machine, pc, instruction word) -> 0 when it ran the instruction (PC and
    # count advanced), else the signal the program gets.
    emulate_trapped: Callable[[Any, int, int], int] | None = None

    # Where a dynamic program of this architecture finds its loader and libraries
    # on an x86-64 host (record --sysroot's default, as `qemu-aarch64 -L`), and
    # the Debian package that installs it; None: the host's own libraries.
    default_sysroot: str | None = None
    sysroot_package: str = ""
    # open(2) flags whose bits differ from x86-64's, as (this architecture's bit,
    # x86-64's bit): the kernel keeps flags in x86-64's numbering.
    open_flag_bits: tuple[tuple[int, int], ...] = ()
    debug: DebugInfo | None = None   # None: not debuggable yet (record and replay only)
    syscall_size: int = 4            # bytes of the system-call instruction (a restarted call runs it again)
    # clone(2)'s arguments after flags and stack, in order: x86-64 has child_tid before tls,
    # the generic order (aarch64, riscv64) tls before child_tid.
    clone_args: tuple[str, str, str] = ("parent_tid", "tls", "child_tid")
    # Whether the ABI's struct sigaction has sa_restorer (riscv64's has not: handler,
    # flags, mask; its handlers return through the kernel's trampoline page).
    sa_restorer: bool = True
    # A bit every code address given to Unicorn carries (the PC written, emu_start's start):
    # 1 on an M-profile CPU, which runs Thumb only (measured: an even start is an invalid instruction).
    code_address_bit: int = 0

    def open_flags_in(self, flags: int) -> int:
        """Guest open flags -> the kernel's (x86-64) numbering."""
        return _swap_bits(flags, self.open_flag_bits)

    def open_flags_out(self, flags: int) -> int:
        """The kernel's open flags -> the guest's numbering (fcntl F_GETFL)."""
        return _swap_bits(flags, tuple((x, g) for g, x in self.open_flag_bits))

    @property
    def syscall_numbers(self) -> dict[str, int]:
        return {name: num for num, name in self.syscall_names.items()}

    def syscall_name(self, sysno: int) -> str:
        return self.syscall_names.get(sysno, f"syscall_{sysno}")


def _swap_bits(flags: int, bits: tuple[tuple[int, int], ...]) -> int:
    out = flags
    for src, _dst in bits:
        out &= ~src
    for src, dst in bits:
        if flags & src:
            out |= dst
    return out
