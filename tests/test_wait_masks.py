"""The signal masks of ppoll, pselect6 and epoll_pwait (tests/guests/wait_masks.c),
applied atomically for the wait only: a pending signal they unblock ends the call
at once, a timer's or a child's signal cuts the wait, the old mask is back after;
bad sizes and pointers.  Each compared with a native run, replay with the record."""

from __future__ import annotations

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run


@pytest.mark.parametrize("mode", ["pending", "timer", "child", "ready", "bad"])
def test_wait_mask(ttdbg: Ttdbg, guest, mode: str) -> None:
    program = guest("wait_masks", "static")
    native = ttdbg.native(program, mode)
    trace, rec, rep = ttdbg.record_replay(program, mode)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    assert "warning" not in rec.err, rec.err
