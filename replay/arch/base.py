"""What the engine needs to know of a CPU architecture, as one description.

Each architecture is one `Arch` value (x86_64.py, aarch64.py, riscv64.py): the Unicorn
and Capstone modes, the registers, the system-call ABI, the ELF machine, the
auxiliary-vector values and the system-call number table.  The engine asks
the description instead of naming registers or numbers itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


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
    # The system-call instruction's length (a restarted call goes back over it).
    syscall_insn_size: int = 4
    # clone(2)'s argument indexes of child_tid and tls (the generic order: 4, 3; x86-64: 3, 4).
    clone_child_tid_tls: tuple[int, int] = (4, 3)
    # Unicorn interrupt numbers (UC_HOOK_INTR) -> the signal the guest gets.
    trap_signals: Mapping[int, int] = field(default_factory=dict)
    syscall_interrupt: int | None = None   # the interrupt number of the system-call instruction
    # Unicorn reports another exception's PC this many bytes past the faulting
    # instruction (riscv64: 4, whatever the instruction's length).
    trap_pc_lag: int = 0
    # Instructions (Capstone's names, as in <cs_arch>_INS_<NAME>) the counter stops
    # before, for `emulate_trapped` to run as Linux would (x86-64's are cpu.TRAPPED).
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
    # Code the kernel maps (as "[vdso]") for signal handlers to return through,
    # where the ABI has no SA_RESTORER (riscv64); b"": none.
    sigreturn_code: bytes = b""
    # gdb's target description, as data (the gdb side renders it): the
    # architecture's name, the registers in gdb's numbering as rows (gdb name,
    # engine register, bits, gdb type, feature) and the non-builtin types' XML.
    gdb_architecture: str = ""
    gdb_registers: tuple[tuple[str, str, int, str, str], ...] = ()
    gdb_types: Mapping[str, str] = field(default_factory=dict)

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
