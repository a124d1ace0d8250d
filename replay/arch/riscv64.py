"""riscv64 (RV64GC, Linux user mode, lp64d).

Measured with Unicorn 2.1.4 (see tests/test_riscv64.py and the README):
 - the CPU runs in machine mode with no MMU: Unicorn's mappings are the
   guest's memory; the floating-point unit is off (mstatus.FS = 0) until the
   machine turns it on, as Linux does for a process (mstatus.FS = Initial);
 - `ecall` raises interrupt 8 (a U-mode environment call) with the PC already
   past it; every other exception reaches UC_HOOK_INTR with the PC 4 bytes
   past the faulting instruction, whatever its length (a 2-byte c.unimp too),
   so the fault's PC is the hook's PC - 4 (`trap_pc_lag`);
 - `ebreak` and `c.ebreak` stop emu_start with UC_ERR_INSN_INVALID, and a
   machine-mode CPU runs `mret`, `wfi` and writes of machine CSRs that a user
   process may not: the counter stops before every SYSTEM instruction but
   `ecall` (`trapped`), and riscv64_system.py runs them as Linux would;
 - `rdcycle` and `rdinstret` read the host's tick counter, `rdtime` raises
   an illegal-instruction exception (no timer device): all three are trapped;
   rdtime comes from the event log (a clock in nanoseconds), rdinstret is the
   exact instruction count and rdcycle equals it (one instruction a cycle):
   both deterministic, nothing to log;
 - the CPU model UC_CPU_RISCV64_ANY has misa RV64IMAFDCU; misaligned loads and
   stores work (as Linux emulates them), a misaligned lr/sc or AMO raises
   exception 4/6 (SIGBUS).  AT_HWCAP advertises I, M, A, F, D, C.
"""

from __future__ import annotations

from ..linux.signals import SIGBUS, SIGILL, SIGSEGV, SIGTRAP
from ..linux.sysnames_generic import SYSCALL_NAMES_GENERIC
from .base import Arch, DebugInfo, DebugRegister
from .riscv64_system import run_system_instruction

# The integer registers by ABI name, in x0..x31 order (gdb's names; x8 is s0/fp).
ABI_NAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1",
             *(f"a{i}" for i in range(8)), *(f"s{i}" for i in range(2, 12)), "t3", "t4", "t5", "t6")
FP_ABI_NAMES = (*(f"ft{i}" for i in range(8)), "fs0", "fs1", *(f"fa{i}" for i in range(8)),
                *(f"fs{i}" for i in range(2, 12)), *(f"ft{i}" for i in range(8, 12)))

REGISTERS: dict[str, str] = {
    **{f"x{i}": f"UC_RISCV_REG_X{i}" for i in range(32)},
    **{name: f"UC_RISCV_REG_X{i}" for i, name in enumerate(ABI_NAMES)},
    "s0": "UC_RISCV_REG_X8",
    "pc": "UC_RISCV_REG_PC",
    **{f"f{i}": f"UC_RISCV_REG_F{i}" for i in range(32)},
    **{name: f"UC_RISCV_REG_F{i}" for i, name in enumerate(FP_ABI_NAMES)},
    "fflags": "UC_RISCV_REG_FFLAGS", "frm": "UC_RISCV_REG_FRM", "fcsr": "UC_RISCV_REG_FCSR",
}

# AT_HWCAP: one bit per single-letter extension, bit (letter - 'a') (arch/riscv/kernel/cpufeature.c).
HWCAP = sum(1 << (ord(ext) - ord("a")) for ext in "imafdc")

# Exceptions as UC_HOOK_INTR numbers them (the privileged spec's mcause codes).
EXCP_ILLEGAL, EXCP_BREAKPOINT, EXCP_LOAD_MISALIGNED, EXCP_LOAD_FAULT = 2, 3, 4, 5
EXCP_STORE_MISALIGNED, EXCP_STORE_FAULT, EXCP_USER_ECALL = 6, 7, 8
EXCP_FETCH_PAGE, EXCP_LOAD_PAGE, EXCP_STORE_PAGE = 12, 13, 15

MSTATUS_FS_INITIAL = 1 << 13     # the FPU on, as Linux starts a process

# gdb's register numbering and target description (gdb/features/riscv/64bit-cpu.xml
# and 64bit-fpu.xml), in the rows a DebugInfo holds: gdb's register number is the
# row's index (x0..x31 = 0..31, pc = 32, f0..f31 = 33..64, fflags 65, frm 66, fcsr 67).
GDB_ARCHITECTURE = "riscv:rv64"
GDB_CPU_FEATURE = "org.gnu.gdb.riscv.cpu"
GDB_FPU_FEATURE = "org.gnu.gdb.riscv.fpu"
GDB_TYPES = {"riscv_double": ('  <union id="riscv_double">\n'
                              '    <field name="float" type="ieee_single"/>\n'
                              '    <field name="double" type="ieee_double"/>\n'
                              '  </union>')}
_CPU_TYPES = {"zero": "int", "ra": "code_ptr", "sp": "data_ptr", "gp": "data_ptr", "tp": "data_ptr",
              "fp": "data_ptr"}
GDB_REGISTERS: tuple[DebugRegister, ...] = (
    *(DebugRegister(name, 64, _CPU_TYPES.get(name, "int"), GDB_CPU_FEATURE) for name in ABI_NAMES),
    DebugRegister("pc", 64, "code_ptr", GDB_CPU_FEATURE),
    *(DebugRegister(name, 64, "riscv_double", GDB_FPU_FEATURE, "float") for name in FP_ABI_NAMES),
    DebugRegister("fflags", 32, "int", GDB_FPU_FEATURE, "float"),
    DebugRegister("frm", 32, "int", GDB_FPU_FEATURE, "float"),
    DebugRegister("fcsr", 32, "int", GDB_FPU_FEATURE, "float"),
)

RISCV64_DEBUG = DebugInfo(
    gdb_architecture=GDB_ARCHITECTURE, registers=GDB_REGISTERS, types=GDB_TYPES,
    expedite=("fp", "sp", "pc"),
    breakpoint_kind=4,               # gdb sends 2 for a compressed instruction (both accepted)
    fp="fp", link_register="ra",
    # The RISC-V ELF psABI's DWARF numbers: 0-31 x0-x31, 32-63 f0-f31.
    dwarf_registers=(*ABI_NAMES, *(f"f{i}" for i in range(32))),
    argument_registers=tuple(f"a{i}" for i in range(8)), return_register="a0",
    # Capstone's names: `jal`/`jalr` with ra (`call` is auipc + jalr), their compressed forms.
    call_mnemonics=frozenset({"jal", "jalr", "c.jal", "c.jalr"}),
    return_mnemonics=frozenset({"ret", "c.jr"}),
    call_sizes=(4, 2),
    general_registers=(*ABI_NAMES, "pc"),
    user_end=1 << 47, gdb_steps_over_watchpoints=True,
    frame_record=(0, -16, -8),       # s0 = the CFA; ra at s0-8, the caller's s0 at s0-16
)

# Syscalls only riscv has (arch/riscv/include/uapi/asm/unistd.h): not emulated (-ENOSYS).
SYSCALL_NAMES = {**SYSCALL_NAMES_GENERIC, 258: "riscv_hwprobe", 259: "riscv_flush_icache"}

RISCV64 = Arch(
    name="riscv64", signature="riscv64 RV64IMAFDC (Unicorn any), hwcap 0x112d",
    elf_machine=243, elf_machine_name="EM_RISCV",
    uc_arch="RISCV", uc_mode="RISCV64", uc_consts="riscv_const", uc_cpu_model="UC_CPU_RISCV64_ANY",
    cs_arch="RISCV", cs_mode="RISCV64+RISCVC",
    registers=REGISTERS,
    hashed=(*(f"x{i}" for i in range(1, 32)), "pc", *(f"f{i}" for i in range(32)), "fcsr"),
    pc="pc", sp="sp",
    syscall_number="a7", syscall_args=("a0", "a1", "a2", "a3", "a4", "a5"), syscall_return="a0",
    syscall_pc_lag=0, syscall_clobbers=(),
    tls_register="tp", stat_layout="generic", atexit_register="a0", page_size=4096,
    platform=b"",                    # Linux gives riscv64 no AT_PLATFORM

    hwcap=HWCAP, hwcap2=None,
    syscall_names=SYSCALL_NAMES,
    debug=RISCV64_DEBUG,
    sa_restorer=False,               # handlers return through sigframe_riscv64's [vdso] page
    trap_signals={EXCP_ILLEGAL: SIGILL, EXCP_BREAKPOINT: SIGTRAP,
                  EXCP_LOAD_MISALIGNED: SIGBUS, EXCP_STORE_MISALIGNED: SIGBUS,
                  EXCP_LOAD_FAULT: SIGSEGV, EXCP_STORE_FAULT: SIGSEGV,
                  EXCP_FETCH_PAGE: SIGSEGV, EXCP_LOAD_PAGE: SIGSEGV, EXCP_STORE_PAGE: SIGSEGV},
    syscall_interrupt=EXCP_USER_ECALL,
    trap_pc_lag=4,
    # Every SYSTEM-opcode instruction but ecall (Capstone's names): riscv64_system.py.
    trapped=frozenset({"csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci", "ebreak", "c_ebreak",
                       "mret", "sret", "uret", "wfi", "sfence_vma", "unimp", "c_unimp"}),
    emulate_trapped=run_system_instruction,
    default_sysroot="/usr/riscv64-linux-gnu", sysroot_package="libc6-dev-riscv64-cross",
    # open(2)'s flags are numbered as on x86-64 (asm-generic/fcntl.h).
    open_flag_bits=(),
)
