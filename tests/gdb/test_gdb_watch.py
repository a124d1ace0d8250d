"""Finding causes backwards: a reverse watchpoint catches a stray write, and
a recorded segfault is traced back to the store of the bad pointer."""

from __future__ import annotations

import re

import pytest
from gdbtest_support import LINKINGS, source_line


@pytest.mark.parametrize("linking", LINKINGS)
def test_reverse_watchpoint_finds_stray_write(connected, linking):
    guest, server, g = connected("clobber", linking)
    stop = g.ok("continue")                          # to the end of the recording
    assert "No more reverse-execution history." in stop.text, g.dump()
    assert g.eval("g.guard") == "104"                # clobbered (1234 at start)
    g.ok("watch g.guard")
    stop = g.ok("reverse-continue")
    assert stop.reason == "watchpoint-trigger", g.dump()
    assert (stop.func, stop.line) == ("fill", source_line(guest, "g.slots[i] = 100 + i;"))
    # going backwards, gdb shows the value after the write as "Old" and before it as "New"
    assert re.search(r"Old value = 104\s+New value = 1234", stop.text), stop.text
    assert stop.stopped["value"] == {"old": "104", "new": "1234"}
    assert g.eval("i") == "4"                        # the one-past-the-end index
    assert g.eval("n") == "4"
    # the culprit's caller
    assert "main ()" in g.ok("bt").text
    # and forwards again the same write is seen from the other side
    stop = g.ok("continue")
    assert stop.reason == "watchpoint-trigger", g.dump()
    assert stop.stopped["value"] == {"old": "1234", "new": "104"}
    assert stop.func == "fill"


@pytest.mark.parametrize("linking", LINKINGS)
def test_segfault_traced_back_to_bad_store(connected, linking):
    guest, server, g = connected("segv", linking)
    stop = g.ok("continue")
    assert stop.reason == "signal-received", g.dump()
    assert stop.stopped["signal-name"] == "SIGSEGV"
    assert "Program received signal SIGSEGV" in stop.text
    assert (stop.func, stop.line) == ("use", source_line(guest, "/* faults */"))
    assert g.eval("target") == "0x0"
    g.ok("watch target")
    stop = g.ok("reverse-continue")
    assert stop.reason == "watchpoint-trigger", g.dump()
    assert (stop.func, stop.line) == ("setup", source_line(guest, "/* NULL: the real bug */"))
    assert stop.stopped["value"]["old"] == "(struct node *) 0x0"
    assert "nodes" in stop.stopped["value"]["new"]      # (struct node *) 0x... <nodes>
    # once more backwards: main's own (good) assignment of the pointer
    stop = g.ok("reverse-continue")
    assert stop.reason == "watchpoint-trigger", g.dump()
    assert (stop.func, stop.line) == ("main", source_line(guest, "target = &nodes[0];"))


def test_a_watchpoint_hit_while_stepping_is_reported_as_live(connected, gdb_guest, gdb):
    """`next` over the stray write stops for the watchpoint with its old and new values, as a
    live (native) gdb does with a hardware watchpoint; gdb's own `record full` replay misses it."""

    def step_until_the_watch(g) -> tuple | None:
        for _ in range(60):
            stop = g.ok("next")
            if stop.reason == "watchpoint-trigger":
                return stop.func, stop.line, stop.stopped["value"]
        return None

    guest = gdb_guest("clobber", "static")
    live = gdb(guest.binary)
    live.ok("-gdb-set startup-with-shell off")
    live.ok("break fill")
    if live.ok("-exec-run").reason != "breakpoint-hit":
        pytest.skip("cannot run the guest natively under gdb here")
    live.ok("delete")
    live.ok("watch g.guard")
    expected = step_until_the_watch(live)
    assert expected is not None and expected[2] == {"old": "1234", "new": "104"}, live.dump()

    _, server, g = connected("clobber", "static")
    g.ok("break fill")
    assert g.ok("continue").reason == "breakpoint-hit", g.dump()
    g.ok("delete")
    g.ok("watch g.guard")
    assert step_until_the_watch(g) == expected, g.dump()
