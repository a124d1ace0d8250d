"""Which gdb debugs a trace: the host's gdb for its own architecture, else gdb-multiarch."""

from __future__ import annotations

import os

from replay import Arch


def default_gdb(arch: Arch) -> str:
    """gdb for a program of the host's architecture, else gdb-multiarch (Debian's gdb
    for every architecture; the host's plain gdb knows only its own)."""
    return "gdb" if arch.name == os.uname().machine else "gdb-multiarch"
