"""Where the kernel places the stack and the mmap area in the guest's address space.

Shared by the boot code (which maps the stack and the interpreter) and by
mmap (which allocates downwards from MMAP_TOP), so both agree.
"""

from __future__ import annotations

STACK_TOP = 0x7FFFFFFFF000
STACK_SIZE = 8 << 20
MMAP_TOP = STACK_TOP - STACK_SIZE - 0x1000000   # mmap grows down from here
# The one-page [sigpage] holding the signal trampoline handlers return through where
# none is given (sigframe.trampoline_page), in the gap between the mmap area and the stack.
SIGPAGE = MMAP_TOP + 0x800000
