"""The boards `ttdbg record --board` knows, by name: each one's description is data
(virt.py: QEMU's `virt` with a Cortex-A57; mps2.py: `mps2-an385` with a Cortex-M3)."""

from __future__ import annotations

from .mps2 import MPS2_AN385
from .virt import VIRT

BOARDS = {VIRT.name: VIRT, MPS2_AN385.name: MPS2_AN385}
