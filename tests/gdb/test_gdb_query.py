"""`monitor query` prints the table of hits; `monitor goto #N` travels to one (real gdb)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("linking", ["static", "dynamic"])
def test_monitor_query_then_goto_a_hit(connected, linking):
    guest, server, g = connected("basic", linking)
    text = g.ok("monitor query writes counter").text
    rows = re.findall(r"^#(\d+)\s+([\d,]+)\s+0x[0-9a-f]+\s+(\w+)", text, re.M)
    # square() is called 6 times (accumulate(5), then square(a)), then main stores once.
    assert [name for _n, _i, name in rows] == ["square"] * 6 + ["main"], text
    assert "7 hits" in text
    assert re.search(r"new=6\b", text.splitlines()[5])
    g.ok("monitor goto #3")
    g.ok("maintenance flush register-cache")
    assert g.when() == int(rows[2][1].replace(",", "")) + 1   # just after the write
    assert g.eval("counter") == "3"
    calls = g.ok("monitor query calls square").text
    assert len(re.findall(r"^#\d+", calls, re.M)) == 6 and "return=" in calls
    bad = g.ok("monitor goto #99").text
    assert "no hit #99" in bad
