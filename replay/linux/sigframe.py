"""Signal delivery to a handler, and rt_sigreturn: the x86-64 Linux frame.

When a signal with a handler is delivered, the kernel saves the interrupted
state on the user stack as a `struct rt_sigframe` (return address =
sa_restorer, a `ucontext` with the registers and signal mask, a `siginfo`)
plus the FPU/SSE state in fxsave format, and enters the handler with
(signo, &info, &uc).  The handler returns into the restorer, which calls
rt_sigreturn; the kernel then reloads everything from the frame.  The same
layout is used here, so handlers that inspect or edit their ucontext work.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..machine import Machine
from .layout import SIGPAGE

# struct sigcontext (uc_mcontext): general registers in this order.
SIGCONTEXT_GPRS = ("r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi", "rbp",
                   "rbx", "rdx", "rax", "rcx", "rsp", "rip", "eflags")
UC_OFFSET = 8            # after pretcode
MCONTEXT_OFFSET = UC_OFFSET + 40   # uc_flags, uc_link, stack_t
FPSTATE_PTR_OFFSET = MCONTEXT_OFFSET + 18 * 8 + 8 + 32
SIGMASK_OFFSET = MCONTEXT_OFFSET + 256
INFO_OFFSET = SIGMASK_OFFSET + 8
FRAME_SIZE = INFO_OFFSET + 128
FXSAVE_SIZE = 512
REDZONE = 128
FLAGS_RESTORABLE = 0x0DD5  # CF PF AF ZF SF TF DF OF (and AC below) a handler may change
SS_ONSTACK, SS_DISABLE = 1, 2


@dataclass(frozen=True)
class SigInfo:
    signo: int
    code: int = 0
    pid: int = 0
    uid: int = 0
    address: int | None = None     # faults: the faulting address
    ignored: bool = False          # not packed: the program ignores it (only a debugger sees it)
    timer: tuple[int, int, int] | None = None   # a POSIX timer's: (si_timerid, si_overrun, si_value)

    def pack(self) -> bytes:
        head = struct.pack("<iii4x", self.signo, 0, self.code)
        if self.timer is not None:
            body = struct.pack("<iiQ", *self.timer)
        elif self.address is not None:
            body = struct.pack("<Q", self.address)
        else:
            body = struct.pack("<iI", self.pid, self.uid)
        return (head + body).ljust(128, b"\0")


@dataclass
class AltStack:
    sp: int = 0
    size: int = 0
    flags: int = SS_DISABLE

    def contains(self, sp: int) -> bool:
        return not self.flags & SS_DISABLE and self.sp < sp <= self.sp + self.size


def trampoline_page(m: Machine, code: bytes) -> int:
    """The kernel's signal trampoline (`code`: the architecture's rt_sigreturn call), where
    handlers return when no SA_RESTORER is given (Linux: the vDSO's rt_sigreturn): a
    one-page [sigpage] mapped at the first delivery.  Its address."""
    if m.mem.find(SIGPAGE) is None:
        m.mem.map(SIGPAGE, 0x1000, 5, "[sigpage]", code)     # PROT_READ | PROT_EXEC
    return SIGPAGE


def _fxsave(m: Machine) -> bytes:
    tags = m.reg("ftag")
    abridged = sum(1 << i for i in range(8) if (tags >> (2 * i)) & 3 != 3)
    out = bytearray(FXSAVE_SIZE)
    struct.pack_into("<HHBxHQQII", out, 0, m.reg("fctrl") & 0xFFFF, m.reg("fstat") & 0xFFFF, abridged,
                     m.reg("fop") & 0xFFFF, m.reg("fioff"), m.reg("fooff"), m.reg("mxcsr"), 0xFFFF)
    for i in range(8):
        out[32 + 16 * i:32 + 16 * i + 10] = m.reg(f"st{i}").to_bytes(10, "little")
    for i in range(16):
        out[160 + 16 * i:176 + 16 * i] = m.reg(f"xmm{i}").to_bytes(16, "little")
    return bytes(out)


def _fxrstor(m: Machine, data: bytes) -> None:
    fcw, fsw, abridged, fop, fip, fdp, mxcsr, _mask = struct.unpack_from("<HHBxHQQII", data, 0)
    m.set_reg("fctrl", fcw)
    m.set_reg("fstat", fsw)
    m.set_reg("ftag", sum((0 if abridged >> i & 1 else 3) << (2 * i) for i in range(8)))
    m.set_reg("fop", fop)
    m.set_reg("mxcsr", mxcsr & 0xFFFF)
    for i in range(8):
        m.set_reg(f"st{i}", int.from_bytes(data[32 + 16 * i:42 + 16 * i], "little"))
    for i in range(16):
        m.set_reg(f"xmm{i}", int.from_bytes(data[160 + 16 * i:176 + 16 * i], "little"))


def build_frame(m: Machine, info: SigInfo, handler: int, restorer: int, saved_mask: int,
                altstack: AltStack, use_altstack: bool) -> None:
    """Save the current state on the stack and enter `handler` (no instruction runs)."""
    regs = {n: m.reg(n) for n in SIGCONTEXT_GPRS}
    sp = regs["rsp"]
    on_alt = altstack.contains(sp)
    if use_altstack and not altstack.flags & SS_DISABLE and not on_alt:
        sp = altstack.sp + altstack.size
    else:
        sp -= REDZONE
    sp = (sp - FXSAVE_SIZE) & ~63
    fpstate = sp
    sp = ((sp - FRAME_SIZE) & ~15) - 8      # as after a call: (rsp + 8) % 16 == 0
    frame = bytearray(FRAME_SIZE)
    struct.pack_into("<QQQQiiQ", frame, 0, restorer, 0, 0, altstack.sp,
                     (SS_ONSTACK if on_alt else altstack.flags & SS_DISABLE), 0, altstack.size)
    struct.pack_into("<18Q", frame, MCONTEXT_OFFSET, *(regs[n] & (2**64 - 1) for n in SIGCONTEXT_GPRS))
    segs = struct.pack("<HHHH", m.reg("cs") & 0xFFFF, m.reg("gs") & 0xFFFF, m.reg("fs") & 0xFFFF,
                       m.reg("ss") & 0xFFFF)
    frame[MCONTEXT_OFFSET + 144:MCONTEXT_OFFSET + 152] = segs
    err_trapno = struct.pack("<QQQQ", 0, 0, saved_mask, info.address or 0)   # err, trapno, oldmask, cr2
    frame[MCONTEXT_OFFSET + 152:MCONTEXT_OFFSET + 184] = err_trapno
    struct.pack_into("<Q", frame, FPSTATE_PTR_OFFSET, fpstate)
    struct.pack_into("<Q", frame, SIGMASK_OFFSET, saved_mask)
    frame[INFO_OFFSET:INFO_OFFSET + 128] = info.pack()
    m.mem.write(fpstate, _fxsave(m))
    m.mem.write(sp, bytes(frame))
    m.set_reg("rsp", sp)
    m.set_reg("rdi", info.signo)
    m.set_reg("rsi", sp + INFO_OFFSET)
    m.set_reg("rdx", sp + UC_OFFSET)
    m.set_reg("rax", 0)
    m.set_reg("rip", handler)
    m.set_reg("eflags", regs["eflags"] & ~0x0500)   # clear TF and DF, as Linux does


def restore_frame(m: Machine) -> int:
    """rt_sigreturn: reload the state saved at rsp - 8; returns the saved signal mask."""
    base = m.reg("rsp") - 8
    frame = m.mem.read(base, FRAME_SIZE)
    values = struct.unpack_from("<18Q", frame, MCONTEXT_OFFSET)
    regs = dict(zip(SIGCONTEXT_GPRS, values))
    old_flags = m.reg("eflags")
    regs["eflags"] = (old_flags & ~(FLAGS_RESTORABLE | 0x40000)) | (regs["eflags"] & (FLAGS_RESTORABLE | 0x40000))
    for name, value in regs.items():
        m.set_reg(name, value)
    (fpstate,) = struct.unpack_from("<Q", frame, FPSTATE_PTR_OFFSET)
    if fpstate:
        _fxrstor(m, m.mem.read(fpstate, FXSAVE_SIZE))
    (mask,) = struct.unpack_from("<Q", frame, SIGMASK_OFFSET)
    return mask
