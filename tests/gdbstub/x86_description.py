"""The x86-64 target description the stub tests use: the one ttdbg gives the stub,
built from the engine's table of the architecture (replay/arch/x86_64.py)."""

from __future__ import annotations

from replay.arch.x86_64 import X86_64_DEBUG
from ttdbg.gdb_target import describe

X86_64 = describe(X86_64_DEBUG)
X86_64_PC = [r.name for r in X86_64.registers].index("rip")
X86_64_SP = [r.name for r in X86_64.registers].index("rsp")
