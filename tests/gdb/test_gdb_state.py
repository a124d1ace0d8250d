"""Registers, memory, globals, breakpoints, shared libraries and monitor commands, seen by a real gdb."""

from __future__ import annotations

import re

import pytest
from gdbtest_support import LINKINGS, source_line


@pytest.mark.parametrize("linking", LINKINGS)
def test_registers_memory_and_globals_at_start(connected, linking):
    guest, server, g = connected("basic", linking)
    regs = g.ok("-data-list-register-values x 0 1 2 3 4 5 6 7 16 17").payload["register-values"]
    by_number = {int(r["number"]): int(r["value"], 16) for r in regs}
    assert len(by_number) == 10
    assert by_number[16] == g.pc()            # rip
    assert by_number[7] != 0                  # rsp
    assert by_number[7] % 16 == 0             # the ABI's entry alignment
    dump = g.ok("x/4gx $sp").text
    words = re.findall(r"0x[0-9a-f]{16}", dump)
    assert len(words) == 4, dump
    assert int(words[0], 16) == 1             # argc at the entry point
    assert g.eval("banner") .startswith('"ttdbg-gdb-basic"')
    assert g.eval("counter") == "0"
    assert g.when() == 0


@pytest.mark.parametrize("linking", LINKINGS)
def test_breakpoint_continue_reports_line(connected, linking):
    guest, server, g = connected("basic", linking)
    g.ok("break accumulate")
    stop = g.ok("continue")
    assert stop.reason == "breakpoint-hit", g.dump()
    assert stop.func == "accumulate"
    assert stop.line == source_line(guest, "long total = 0;")
    assert "Breakpoint 1, accumulate (n=5)" in stop.text
    g.ok("break report")
    stop = g.ok("-exec-continue")
    assert (stop.func, stop.line) == ("report", source_line(guest, 'printf("%s %ld %ld'))
    assert g.eval("value") == "930"
    assert g.eval("counter") == "6"
    assert "main ()" in g.ok("bt").text
    g.ok("finish")
    assert g.eval("c") == "930"


@pytest.mark.parametrize("linking", LINKINGS)
def test_info_sharedlibrary(connected, linking):
    guest, server, g = connected("basic", linking)
    g.ok("break main")
    g.ok("continue")
    text = g.ok("info sharedlibrary").text
    if linking == "static":
        assert "No shared libraries loaded" in text
    else:
        assert "libc.so.6" in text, text
        assert "ld-linux-x86-64.so.2" in text, text
        # the libraries' symbols are there: a libc function resolves
        assert "printf" in g.ok("info symbol printf").text


def test_monitor_when_and_goto(connected):
    guest, server, g = connected("basic", "static")
    text = g.ok("monitor when").text
    m = re.search(r"Current instruction: 0 of ([\d,]+) \(0\.0%\)", text)
    assert m, text
    total = int(m.group(1).replace(",", ""))

    out = g.ok("monitor goto 1000").text
    m = re.search(r"Now at instruction 1,000, pc (0x[0-9a-f]+)", out)
    assert m, out
    g.ok("flushregs")
    rip = g.ok("info registers rip").text
    assert re.search(rf"rip\s+{m.group(1)}\b", rip), (rip, out)
    assert g.pc() == int(m.group(1), 16)
    assert g.when() == 1000

    g.ok("monitor goto -10")
    assert g.when() == 990
    g.ok("monitor goto 50%")
    assert g.when() == total // 2
    g.ok("monitor goto end")
    assert g.when() == total
    g.ok("monitor goto start")
    assert g.when() == 0

    # after a goto, gdb's idea of the frame follows (registers reread)
    g.ok("break square")
    g.ok("continue")
    here = g.when()
    g.ok("monitor checkpoint sq")
    assert "sq" in g.ok("monitor checkpoints").text
    g.ok("monitor goto 10")
    out = g.ok("monitor restart sq").text
    assert "Restarted from 'sq'" in out, out
    g.ok("flushregs")
    assert g.when() == here
    assert "square" in g.ok("frame").text

    assert "monitor goto N" in g.ok("monitor help").text
    assert "Unknown monitor command" in g.ok("monitor frobnicate").text
    assert "monitor goto" in g.ok("monitor goto banana").text


@pytest.mark.parametrize("linking", LINKINGS)
def test_info_proc_mappings_from_the_replayed_address_space(connected, linking):
    guest, server, g = connected("basic", linking)
    g.ok("break main")
    g.ok("continue")
    pid = int(re.search(r"pid (\d+)", g.ok("monitor info").text).group(1))
    text = g.ok(f"info proc mappings {pid}").text
    assert "[stack]" in text, text
    assert guest.binary.name in text, text
    assert ("libc.so.6" in text) == (linking == "dynamic"), text
