"""Asking the optional private gdb (full C expressions) from REPL commands.

Commands that gdb answers better (`print`, `ptype`, `info locals`, `bt full`)
ask it here when it is available and otherwise fall back to the REPL's own
answers, noting once that richer expressions need gdb.
"""

from __future__ import annotations

import logging
import re

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
    """A gdb command in the selected thread and frame."""
    assert r.bridge is not None
    try:
        _select_thread(r)
        r.bridge.console(f"select-frame {r.view.frame}")
    except BridgeError as exc:
        log.info("gdb cannot select frame %d: %s", r.view.frame, exc)
    return r.bridge.console(command)


def _select_thread(r: ReplState) -> None:
    """Make gdb's selected thread the REPL's (gdb numbers threads its own way)."""
    assert r.bridge is not None
    if len(r.tl.threads()) < 2:
        return
    listing = r.bridge.console("info threads")       # also updates gdb's thread list
    m = re.search(rf"^[* ]\s*(\d+)\s+Thread {r.tl.pid}\.{r.tid}\b", listing, re.M)
    if m is None:
        raise BridgeError(f"gdb does not list thread {r.tid}")
    r.bridge.console(f"thread {m.group(1)}")


def no_gdb_note(r: ReplState) -> str:
    if r.view.told_no_gdb:
        return ""
    r.view.told_no_gdb = True
    why = "gdb is not available" if r.bridge is None else f"gdb failed to start ({r.bridge.failed})"
    return (f"(note: {why}: print handles $registers, variables, *ADDR, arr[i], s.m and p->m; "
            "richer expressions need gdb)\n")
