"""Loading a program into a process: the first one, and every execve.

The program's ELF image (and, for a dynamic program, its interpreter ld.so)
is mapped into the process's empty address space, the initial stack is
built (argv, envp, auxv with AT_RANDOM's 16 bytes) and the registers are
set to enter it, as Linux's binfmt_elf does.  The bytes come from the trace
(the recorder captured them), so booting is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import ProgramError
from ..loader import PIE_BASE, load_image, parse_elf
from ..memory import PAGE, page_up
from .initial_stack import (
    AT_BASE,
    AT_CLKTCK,
    AT_EGID,
    AT_ENTRY,
    AT_EUID,
    AT_FLAGS,
    AT_GID,
    AT_HWCAP,
    AT_HWCAP2,
    AT_MINSIGSTKSZ,
    AT_PAGESZ,
    AT_PHDR,
    AT_PHENT,
    AT_PHNUM,
    AT_SECURE,
    AT_UID,
    build_stack,
)
from .layout import MMAP_TOP, SIGRETURN_TRAMPOLINE, STACK_SIZE, STACK_TOP

if TYPE_CHECKING:
    from .kernel import LinuxKernel


def load_program(k: LinuxKernel, path: str, data: bytes, interp_data: bytes | None, argv: Sequence[bytes],
                 envp: Sequence[bytes], execfn: bytes, random16: bytes, ids: Sequence[int] | None) -> bytes:
    """Map `data` (and its interpreter) into k's empty address space, build the
    stack, point the registers at the entry; returns the auxiliary vector."""
    mem = k.machine.mem
    arch = k.machine.arch
    image = parse_elf(path, data)
    if image.arch is not arch:
        raise ProgramError(f"{path}: a {image.arch.name} program, in a {arch.name} process")
    loaded = load_image(mem, image, data, PIE_BASE, path)
    entry = loaded.entry
    interp_base = 0
    if image.interp:
        if interp_data is None:
            raise ValueError("dynamic program without its interpreter")
        interp = parse_elf(image.interp, interp_data)
        lo, hi = interp.span
        interp_base = mem.find_free(hi - lo, MMAP_TOP) - lo
        interp_loaded = load_image(mem, interp, interp_data, interp_base, image.interp)
        entry = interp_loaded.entry
    brk = page_up(loaded.end)
    k.state.brk_start = k.state.brk = brk
    mem.map(STACK_TOP - STACK_SIZE, STACK_SIZE, 3, "[stack]")
    if arch.sigreturn_code:
        mem.map(SIGRETURN_TRAMPOLINE, PAGE, 5, "[vdso]")
        mem.write(SIGRETURN_TRAMPOLINE, arch.sigreturn_code)
    aux = {
        AT_HWCAP: arch.hwcap, AT_PAGESZ: PAGE, AT_CLKTCK: 100,
        AT_PHDR: loaded.phdr, AT_PHENT: image.phentsize, AT_PHNUM: image.phnum,
        AT_BASE: interp_base, AT_FLAGS: 0, AT_ENTRY: loaded.entry,
        AT_UID: 0, AT_EUID: 0, AT_GID: 0, AT_EGID: 0, AT_SECURE: 0,
        AT_MINSIGSTKSZ: 2048,
    }
    if arch.hwcap2 is not None:
        aux[AT_HWCAP2] = arch.hwcap2
    if ids:
        aux.update({AT_UID: ids[0], AT_EUID: ids[1], AT_GID: ids[2], AT_EGID: ids[3]})
    initial, writes = build_stack(STACK_TOP, list(argv), list(envp), execfn, random16, aux, arch.platform)
    for addr, chunk in writes:
        mem.write(addr, chunk)
    k.set_exec_image(data, initial.arg_span, initial.env_span)
    m = k.machine
    m.set_reg(arch.sp, initial.sp)
    m.set_reg(arch.pc, entry)
    m.set_reg(arch.atexit_register, 0)
    return initial.auxv


def interpreter_of(path: str, data: bytes) -> str:
    """The ELF interpreter a program names ("" for a static one); ProgramError if not an ELF we run."""
    return parse_elf(path, data).interp or ""
