"""Signal delivery to a handler, and rt_sigreturn: the riscv64 Linux frame.

As arch/riscv/kernel/signal.c builds it: below the interrupted sp (or at the
top of the alternate stack), 16-byte aligned, a `struct rt_sigframe`:

    siginfo (128 bytes), then the ucontext: uc_flags, uc_link, uc_stack,
    uc_sigmask (8 bytes, padded to 128), uc_mcontext at ucontext + 176:
    pc, x1..x31 (the user_regs_struct), f0..f31 and fcsr (the D state,
    in a 528-byte union with the Q state; the rest is 0: no extension
    context follows).

The handler runs with a0 = signo, a1 = &info, a2 = &uc, sp = the frame and
ra = the return trampoline `li a7, 139; ecall` (Linux's vDSO rt_sigreturn; here
sigframe.py's [sigpage], as on aarch64).
"""

from __future__ import annotations

import struct

from ..machine import Machine
from .sigframe import SS_DISABLE, SS_ONSTACK, AltStack, SigInfo, trampoline_page

UC_OFFSET = 128                      # after siginfo
STACK_OFFSET = UC_OFFSET + 16        # uc_stack
SIGMASK_OFFSET = UC_OFFSET + 40
MCONTEXT_OFFSET = UC_OFFSET + 176
FP_OFFSET = MCONTEXT_OFFSET + 32 * 8
FP_STATE_SIZE = 528
FRAME_SIZE = MCONTEXT_OFFSET + 32 * 8 + FP_STATE_SIZE     # 1088
GPRS = ("pc", *(f"x{i}" for i in range(1, 32)))
MASK64 = (1 << 64) - 1
TRAMPOLINE = bytes.fromhex("9308b008" "73000000")           # li a7, 139 (rt_sigreturn); ecall


def build_frame(m: Machine, info: SigInfo, handler: int, restorer: int, saved_mask: int,
                altstack: AltStack, use_altstack: bool) -> None:
    """Save the current state on the stack and enter `handler` (no instruction runs).
    `restorer` is unused: riscv64 has no SA_RESTORER, handlers return through the trampoline."""
    regs = [m.reg(n) & MASK64 for n in GPRS]
    sp = regs[2]                                          # x2
    on_alt = altstack.contains(sp)
    if use_altstack and not altstack.flags & SS_DISABLE and not on_alt:
        sp = altstack.sp + altstack.size
    sp = (sp - FRAME_SIZE) & ~15
    frame = bytearray(FRAME_SIZE)
    frame[0:128] = info.pack()
    struct.pack_into("<QiiQ", frame, STACK_OFFSET, altstack.sp,
                     SS_ONSTACK if on_alt else altstack.flags & SS_DISABLE, 0, altstack.size)
    struct.pack_into("<Q", frame, SIGMASK_OFFSET, saved_mask)
    struct.pack_into("<32Q", frame, MCONTEXT_OFFSET, *regs)
    struct.pack_into("<32QI", frame, FP_OFFSET, *(m.reg(f"f{i}") & MASK64 for i in range(32)), m.reg("fcsr") & 0xFF)
    m.mem.write(sp, bytes(frame))
    m.set_reg("sp", sp)
    m.set_reg("a0", info.signo)
    m.set_reg("a1", sp)
    m.set_reg("a2", sp + UC_OFFSET)
    m.set_reg("ra", trampoline_page(m, TRAMPOLINE))
    m.set_reg("pc", handler)


def restore_frame(m: Machine) -> int:
    """rt_sigreturn: reload the state saved at sp; returns the saved signal mask."""
    frame = m.mem.read(m.reg("sp"), FRAME_SIZE)
    for name, value in zip(GPRS, struct.unpack_from("<32Q", frame, MCONTEXT_OFFSET)):
        m.set_reg(name, value)
    *fregs, fcsr = struct.unpack_from("<32QI", frame, FP_OFFSET)
    for i, value in enumerate(fregs):
        m.set_reg(f"f{i}", value)
    m.set_reg("fcsr", fcsr & 0xFF)
    (mask,) = struct.unpack_from("<Q", frame, SIGMASK_OFFSET)
    return mask
