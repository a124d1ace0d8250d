"""M-profile exception entry and return (ARMv7-M B1.5.6-B1.5.8), done by the engine: Unicorn does neither.

Entry pushes the 8-word frame (r0-r3, r12, lr, the return address, xPSR)
on the stack in use, 8-byte aligned (CCR.STKALIGN: a 4-byte pad is noted in
the stacked xPSR's bit 9), sets lr to EXC_RETURN (0xFFFFFFF1: back to
Handler mode; 0xFFFFFFF9: to Thread mode on MSP; 0xFFFFFFFD: on PSP),
switches to MSP, sets IPSR to the exception number and jumps to the handler
the vector table at VTOR names.  Return happens when a handler branches to
an EXC_RETURN value (bx lr, pop {pc}, ldr pc): measured on Unicorn 2.1.4,
that is CPU exception 8 (QEMU's EXCP_EXCEPTION_EXIT) with the PC at the
value without bit 0, in Handler and in Thread mode alike; the frame is
popped from the stack the value names.

Not done: the floating-point frame (the Cortex-M3 has no FPU), late arrival
and tail-chaining's shortcut (the board takes an exception ready at a return
right then, but as a return then an entry: the frame is popped and pushed
again, which only the timing on real hardware tells apart), lazy state
preservation, the faults an entry or return can raise (a bad EXC_RETURN or
vector ends the run with one line).
"""

from __future__ import annotations

import struct

from ..machine import Machine

EXC_RETURN_HANDLER, EXC_RETURN_THREAD_MSP, EXC_RETURN_THREAD_PSP = 0xFFFF_FFF1, 0xFFFF_FFF9, 0xFFFF_FFFD
EXC_RETURNS = frozenset({EXC_RETURN_HANDLER, EXC_RETURN_THREAD_MSP, EXC_RETURN_THREAD_PSP})
XPSR_T = 1 << 24
XPSR_ALIGNED = 1 << 9          # in the stacked xPSR: the frame was padded by 4 bytes
XPSR_IT_ICI = 0x0600_FC00      # EPSR's IT/ICI bits
CONTROL_SPSEL = 2
FRAME_REGS = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")
_FRAME = struct.Struct("<8I")
_ENTRY_READ = ("ipsr", "control", "sp", "xpsr", *FRAME_REGS[:6])


class ExceptionError(Exception):
    """An entry or return the architecture would fault on: the run ends with this line."""


def enter(m: Machine, number: int, return_pc: int, vtor: int, stkalign: bool = True) -> int:
    """Take exception `number`, to come back to `return_pc`; returns the handler's address."""
    try:
        handler = struct.unpack("<I", m.mem.read(vtor + 4 * number, 4))[0]
    except ValueError:
        raise ExceptionError(f"exception {number}: its vector at {vtor + 4 * number:#x} is outside memory") from None
    if not handler & 1:
        raise ExceptionError(f"exception {number}: its vector {handler:#x} (at {vtor + 4 * number:#x}) "
                             "is not a Thumb address")
    ipsr, control, sp, xpsr, *saved = m.regs(_ENTRY_READ)
    ipsr &= 0x1FF
    on_psp = ipsr == 0 and bool(control & CONTROL_SPSEL)
    xpsr = (xpsr | XPSR_T) & ~XPSR_ALIGNED
    pad = bool(sp & 4) and stkalign
    frame = (sp - 0x20) & ~(4 if stkalign else 0)
    values = [*saved, return_pc & ~1, xpsr | (XPSR_ALIGNED if pad else 0)]
    try:
        m.mem.write(frame, _FRAME.pack(*(v & 0xFFFF_FFFF for v in values)))
    except ValueError:
        raise ExceptionError(f"exception {number}: the stack at {frame:#x} is outside RAM") from None
    lr = EXC_RETURN_HANDLER if ipsr else EXC_RETURN_THREAD_PSP if on_psp else EXC_RETURN_THREAD_MSP
    m.set_regs((("sp", frame),                                    # on the stack in use, then
                ("control", control & ~CONTROL_SPSEL),            # Handler mode runs on MSP
                ("lr", lr), ("xpsr", (xpsr & ~(XPSR_IT_ICI | 0x1FF)) | XPSR_T | number),
                ("pc", handler & ~1)))
    return handler & ~1


def leave(m: Machine, exc_return: int) -> int:
    """Return from the active exception through `exc_return`; returns the PC it goes back to."""
    exc_return |= 1
    if exc_return not in EXC_RETURNS:
        raise ExceptionError(f"exception return to {exc_return:#x}: not a valid EXC_RETURN value")
    if exc_return != EXC_RETURN_HANDLER:
        xpsr, control = m.regs(("xpsr", "control"))
        psp = exc_return == EXC_RETURN_THREAD_PSP
        m.set_regs((("xpsr", xpsr & ~0x1FF),                     # Thread mode, then its stack
                    ("control", control | CONTROL_SPSEL if psp else control & ~CONTROL_SPSEL)))
    sp = m.regs(("sp",))[0]
    try:
        values = _FRAME.unpack(m.mem.read(sp, 0x20))
    except ValueError:
        raise ExceptionError(f"exception return: the frame at {sp:#x} is outside RAM") from None
    pc, xpsr = values[6] & ~1, values[7]
    m.set_regs((*zip(FRAME_REGS[:6], values[:6]), ("sp", sp + 0x20 + (4 if xpsr & XPSR_ALIGNED else 0)),
                ("xpsr", (xpsr & ~XPSR_ALIGNED) | XPSR_T), ("pc", pc)))
    return pc
