"""Asking the optional private gdb (full C expressions) from REPL commands.

Commands that gdb answers better (`print`, `ptype`, `info locals`, `bt full`)
ask it here when it is available and otherwise fall back to the REPL's own
answers, noting once that richer expressions need gdb.
"""

from __future__ import annotations

import logging

from ..gdbmi_bridge import BridgeError
from .state import ReplState

log = logging.getLogger(__name__)


def gdb_ready(r: ReplState) -> bool:
    if r.bridge is None or r.bridge.failed:
        return False
    try:
        r.bridge.start()
        return True
    except BridgeError as exc:
        log.info("gdb bridge unavailable: %s", exc)
        return False


def in_gdb(r: ReplState, command: str) -> str:
    """A gdb command in the selected frame."""
    assert r.bridge is not None
    try:
        r.bridge.console(f"select-frame {r.view.frame}")
    except BridgeError as exc:
        log.info("gdb cannot select frame %d: %s", r.view.frame, exc)
    return r.bridge.console(command)


def no_gdb_note(r: ReplState) -> str:
    if r.view.told_no_gdb:
        return ""
    r.view.told_no_gdb = True
    why = "gdb is not available" if r.bridge is None else f"gdb failed to start ({r.bridge.failed})"
    return (f"(note: {why}: print handles $registers, variables, *ADDR, arr[i], s.m and p->m; "
            "richer expressions need gdb)\n")
