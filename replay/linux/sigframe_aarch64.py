"""Signal delivery to a handler, and rt_sigreturn: the aarch64 Linux frame.

As arch/arm64/kernel/signal.c lays it out: on the (16-aligned) stack a
`struct rt_sigframe` (a siginfo, then a ucontext whose uc_mcontext holds
x0-x30, sp, pc, pstate and, in its __reserved area, an `fpsimd_context` with
fpsr, fpcr and v0-v31, then the terminating null context), and above it a
frame record {x29, x30} so that unwinders walk through.  The handler runs
with x0 = signo, x1 = &info, x2 = &uc, x29 = the frame record, and returns
through x30 into the signal trampoline `mov x8, #139; svc #0` (rt_sigreturn):
SA_RESTORER's if given, else the kernel's own (the vDSO's __kernel_rt_sigreturn
on Linux; here a one-page [sigpage] mapped at the first delivery, whose two
instructions gdb recognises as a signal trampoline).
"""

from __future__ import annotations

import struct

from ..machine import Machine
from .sigframe import SS_DISABLE, SS_ONSTACK, AltStack, SigInfo, trampoline_page

GPRS = tuple(f"x{i}" for i in range(31))
UC = 128                                   # after the siginfo
STACK_T = UC + 16                          # uc_flags, uc_link
SIGMASK = UC + 40
MCONTEXT = 304                             # uc_mcontext: 16-aligned after the 128-byte sigset area
REGS = MCONTEXT + 8                        # after fault_address
SP, PC, PSTATE = REGS + 31 * 8, REGS + 32 * 8, REGS + 33 * 8
RESERVED = 592                             # __reserved[4096], 16-aligned
FRAME_SIZE = RESERVED + 4096               # sizeof(struct rt_sigframe)
RECORD_SIZE = 16                           # struct frame_record {fp, lr}
FPSIMD_MAGIC, FPSIMD_SIZE = 0x46508001, 528
NZCV = 0xF0000000                          # the pstate bits a handler may change
TRAMPOLINE = struct.pack("<II", 0xD2801168, 0xD4000001)    # mov x8, #139 (rt_sigreturn); svc #0


def build_frame(m: Machine, info: SigInfo, handler: int, restorer: int, saved_mask: int,
                altstack: AltStack, use_altstack: bool) -> None:
    """Save the current state on the stack and enter `handler` (no instruction runs)."""
    regs = dict(zip(GPRS, m.read_registers(GPRS).values()))
    sp = m.reg("sp")
    on_alt = altstack.contains(sp)
    if use_altstack and not altstack.flags & SS_DISABLE and not on_alt:
        sp = altstack.sp + altstack.size
    record = (sp - RECORD_SIZE) & ~15
    frame_at = (record - FRAME_SIZE) & ~15
    frame = bytearray(FRAME_SIZE)
    frame[0:128] = info.pack()
    struct.pack_into("<QiiQ", frame, STACK_T, altstack.sp,
                     SS_ONSTACK if on_alt else altstack.flags & SS_DISABLE, 0, altstack.size)
    struct.pack_into("<Q", frame, SIGMASK, saved_mask)
    struct.pack_into("<Q", frame, MCONTEXT, info.address or 0)
    struct.pack_into("<31Q", frame, REGS, *(regs[n] for n in GPRS))
    struct.pack_into("<QQQ", frame, SP, m.reg("sp"), m.pc, m.reg("cpsr"))
    struct.pack_into("<IIII", frame, RESERVED, FPSIMD_MAGIC, FPSIMD_SIZE, m.reg("fpsr"), m.reg("fpcr"))
    for i in range(32):
        frame[RESERVED + 16 + 16 * i:RESERVED + 32 + 16 * i] = m.reg(f"v{i}").to_bytes(16, "little")
    # the terminating null context follows (zeros)
    m.mem.write(frame_at, bytes(frame))
    m.mem.write(record, struct.pack("<QQ", regs["x29"], regs["x30"]))
    m.set_reg("sp", frame_at)
    m.set_reg("x0", info.signo)
    m.set_reg("x1", frame_at)
    m.set_reg("x2", frame_at + UC)
    m.set_reg("x29", record)
    m.set_reg("x30", restorer or trampoline_page(m, TRAMPOLINE))
    m.set_reg("pc", handler)


def restore_frame(m: Machine) -> int:
    """rt_sigreturn: reload the state saved at sp (the handler returned with it); returns the
    saved signal mask."""
    frame = m.mem.read(m.reg("sp"), FRAME_SIZE)
    for name, value in zip(GPRS, struct.unpack_from("<31Q", frame, REGS)):
        m.set_reg(name, value)
    sp, pc, pstate = struct.unpack_from("<QQQ", frame, SP)
    m.set_reg("sp", sp)
    m.set_reg("pc", pc)
    m.set_reg("cpsr", (m.reg("cpsr") & ~NZCV) | (pstate & NZCV))
    magic, size, fpsr, fpcr = struct.unpack_from("<IIII", frame, RESERVED)
    if magic == FPSIMD_MAGIC and size == FPSIMD_SIZE:
        m.set_reg("fpsr", fpsr)
        m.set_reg("fpcr", fpcr)
        for i in range(32):
            m.set_reg(f"v{i}", int.from_bytes(frame[RESERVED + 16 + 16 * i:RESERVED + 32 + 16 * i], "little"))
    (mask,) = struct.unpack_from("<Q", frame, SIGMASK)
    return mask
