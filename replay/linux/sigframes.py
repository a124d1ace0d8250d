"""Each architecture's signal frame: (build_frame, restore_frame) by Arch.name.

x86-64's is sigframe.py's, aarch64's sigframe_aarch64.py's, riscv64's
sigframe_riscv64.py's; an architecture
without one lists rt_sigaction, rt_sigreturn and sigaltstack among its
unported calls (replay/arch/), so no handler is ever installed for it.
"""

from __future__ import annotations

from . import sigframe, sigframe_aarch64, sigframe_riscv64

SIGNAL_FRAMES = {
    "x86_64": (sigframe.build_frame, sigframe.restore_frame),
    "aarch64": (sigframe_aarch64.build_frame, sigframe_aarch64.restore_frame),
    "riscv64": (sigframe_riscv64.build_frame, sigframe_riscv64.restore_frame),
}
