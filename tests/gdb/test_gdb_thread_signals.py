"""A thread-directed signal (tgkill to another thread) through a real gdb, next to
gdb's native run of the same binary (tests/guests/gdb_tgkill.c): the stop names
the thread the signal was sent to, as natively, forwards and backwards."""

from __future__ import annotations

import pytest
from gdbtest_support import LINKINGS


def _seen(reply) -> tuple:
    stopped = reply.stopped or {}
    return reply.reason, stopped.get("signal-name"), stopped.get("thread-id"), reply.func


@pytest.mark.parametrize("linking", LINKINGS)
def test_tgkill_stops_in_the_thread_it_was_sent_to(connected, gdb, linking):
    guest, _server, ours = connected("tgkill", linking)
    theirs = gdb(guest.binary)
    theirs.ok("-gdb-set startup-with-shell off")
    native = [_seen(theirs.ok("-exec-run"))]
    theirs.ok("-break-insert on_usr1")
    native.append(_seen(theirs.ok("-exec-continue")))
    assert [n[:3] for n in native] == [("signal-received", "SIGUSR1", "2"), ("breakpoint-hit", None, "2")]
    assert "sched_yield" in native[0][3] and native[1][3] == "on_usr1"    # the worker waits, yielding

    replayed = [_seen(ours.ok("-exec-continue"))]
    ours.ok("-break-insert on_usr1")
    replayed.append(_seen(ours.ok("-exec-continue")))
    assert replayed == native
    assert '* 2    Thread' in ours.ok("info threads").text
    back = ours.ok("-exec-continue --reverse")                 # from the handler back to the delivery
    assert _seen(back) == native[0]
