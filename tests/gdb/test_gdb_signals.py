"""Signals through a real gdb, each motion compared with gdb's own `record full`
run of the same binary (tests/guests/gdb_signals.c: SIGUSR1 sent with kill()
to a handler, a SIGSEGV fault caught by a handler, SIGUSR2 ignored, SIGTERM by
default action).

Both sides start at main: ours by `break main` + `continue` on the trace, the
reference by running the binary natively with `record full` switched on at
main.  What is compared is what a user sees: the stop reason, the signal name,
the function and the line.
"""

from __future__ import annotations

import pytest
from gdbtest_support import LINKINGS, source_line


def _at_main(connected, native, linking):
    guest, server, ours = connected("signals", linking)
    ours.ok("break main")
    ours.ok("continue")
    ours.ok("delete")
    _, theirs = native("signals", linking)
    theirs.ok("delete")
    return guest, ours, theirs


def _seen(stop) -> tuple:
    return (stop.reason, (stop.stopped or {}).get("signal-name"), stop.func, stop.line)


def _walk(g, commands: list[str]) -> list[tuple]:
    return [(command, *_seen(g.ok(command))) for command in commands]


@pytest.mark.parametrize("linking", LINKINGS)
def test_every_delivery_stops_as_under_record_full(connected, native, linking):
    guest, ours, theirs = _at_main(connected, native, linking)
    commands = ["continue", "continue", "continue", "continue"]
    mine = _walk(ours, commands)
    assert mine == _walk(theirs, commands)
    assert [signal for _, _, signal, _, _ in mine] == ["SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGTERM"], mine
    assert mine[0][1] == "signal-received"


def test_stop_line_names_the_signal(connected, native):
    guest, ours, theirs = _at_main(connected, native, "static")
    for g in (ours, theirs):
        stop = g.ok("continue")
        assert "Program received signal SIGUSR1, User defined signal 1." in stop.text, g.dump()


def test_handle_nostop_noprint_passes_the_signal(connected, native):
    guest, ours, theirs = _at_main(connected, native, "static")
    commands = ["handle SIGUSR1 nostop noprint", "continue", "handle SIGSEGV nostop noprint", "continue"]
    mine = _walk(ours, commands)
    assert mine == _walk(theirs, commands)
    assert mine[1][2] == "SIGSEGV" and mine[3][2] == "SIGUSR2", mine
    # passed by the stub (QPassSignals), never reported to gdb: reverse runs past it too
    ours.ok("reverse-stepi")
    stop = ours.ok("reverse-continue")
    assert "No more reverse-execution history." in stop.text and "SIGUSR1" not in stop.text, ours.dump()


def test_continue_resumes_into_the_handler(connected, native):
    guest, ours, theirs = _at_main(connected, native, "static")
    commands = ["continue", "break on_usr1", "continue", "continue", "break on_segv", "continue"]
    mine = _walk(ours, commands)
    assert mine == _walk(theirs, commands)
    assert mine[2][1] == "breakpoint-hit" and mine[2][3] == "on_usr1", mine
    assert mine[5][1] == "breakpoint-hit" and mine[5][3] == "on_segv", mine
    assert ours.eval("sig") == theirs.eval("sig") == "11"


@pytest.mark.parametrize("handler", ["on_usr1", "on_segv"])
def test_reverse_continue_from_the_handler_stops_at_the_delivery(connected, native, handler):
    guest, ours, theirs = _at_main(connected, native, "static")
    commands = [f"break {handler}", "continue", "continue", "next", "reverse-continue", "reverse-continue"]
    if handler == "on_segv":
        commands = ["handle SIGUSR1 nostop noprint"] + commands
    mine = _walk(ours, commands)
    assert mine == _walk(theirs, commands)
    signal = "SIGUSR1" if handler == "on_usr1" else "SIGSEGV"
    assert mine[-1][1:3] == ("signal-received", signal), mine
    assert mine[-2][1] == "breakpoint-hit", mine


@pytest.mark.parametrize("signal", ["SIGUSR1", "SIGSEGV"])
def test_reverse_stepi_across_a_delivery(connected, native, signal):
    guest, ours, theirs = _at_main(connected, native, "static")
    if signal == "SIGSEGV":
        for g in (ours, theirs):
            g.ok("handle SIGUSR1 nostop noprint")
    # stepi makes the delivery (the handler's entry), reverse-stepi undoes it
    commands = ["continue", "stepi", "stepi", "reverse-stepi", "reverse-stepi"]
    mine = _walk(ours, commands)
    assert mine == _walk(theirs, commands)
    assert mine[0][2] == signal and mine[-1][2] == signal, mine
    assert mine[1][3] == mine[3][3] == ("on_usr1" if signal == "SIGUSR1" else "on_segv"), mine
    assert ours.pc() == theirs.pc()


def test_default_action_ends_the_program_when_asked(connected, native):
    guest, ours, theirs = _at_main(connected, native, "static")
    for g in (ours, theirs):
        g.ok("handle SIGUSR1 nostop noprint")
        g.ok("handle SIGSEGV nostop noprint")
        g.ok("handle SIGUSR2 nostop noprint")
        stop = g.ok("continue")
        assert _seen(stop)[:2] == ("signal-received", "SIGTERM"), g.dump()
    # record full: the process dies; the replay stays at the end until asked
    stop = ours.ok("continue")
    assert "No more reverse-execution history." in stop.text, ours.dump()
    ours.ok("monitor exit")
    mine, reference = ours.ok("continue"), theirs.ok("continue")
    assert mine.reason == reference.reason == "exited-signalled", (ours.dump(), theirs.dump())
    assert mine.stopped["signal-name"] == reference.stopped["signal-name"] == "SIGTERM"


def test_resuming_without_the_signal_still_delivers_it(connected, native):
    # In `record full` replay, as here, the recorded delivery happens whatever
    # signal gdb resumes with: `signal 0` and `handle nopass` cannot suppress it.
    guest, ours, theirs = _at_main(connected, native, "static")
    commands = ["break on_usr1", "continue", "continue", "next", "reverse-continue", "reverse-continue",
                "signal 0", "reverse-continue", "handle SIGUSR1 nopass", "continue"]
    mine = _walk(ours, commands)
    assert mine == _walk(theirs, commands)
    assert mine[5][2] == mine[7][2] == "SIGUSR1", mine
    assert mine[6][1:4:2] == ("breakpoint-hit", "on_usr1") and mine[9][1:4:2] == ("breakpoint-hit", "on_usr1"), mine


def test_next_and_reverse_next_across_the_delivery(connected, native):
    guest, ours, theirs = _at_main(connected, native, "static")
    commands = [f"break {source_line(guest, '/* send usr1 */')}", "continue", "next", "next", "next",
                "reverse-next", "reverse-next", "reverse-next", "reverse-step"]
    mine = _walk(ours, commands)
    assert mine == _walk(theirs, commands)
    assert mine[2][2] == mine[5][2] == "SIGUSR1" and mine[3][3] == "on_usr1", mine


def test_signal_numbers_follow_gdbs_table():
    # gdb/signals.def: the remote protocol's numbers are gdb's, not Linux's
    from ttdbg.gdb_target import _gdb_signal, _host_signal

    linux_to_gdb = {1: 1, 7: 10, 10: 30, 11: 11, 12: 31, 15: 15, 17: 20, 19: 17, 23: 16, 29: 23, 31: 12,
                    32: 77, 33: 45, 63: 75, 64: 78}
    for linux, gdb_number in linux_to_gdb.items():
        assert _gdb_signal(linux) == gdb_number
        assert _host_signal(gdb_number) == linux
    assert _host_signal(44) == 0          # SIGPRIO: no such Linux signal
    assert _gdb_signal(16) == 143         # SIGSTKFLT: GDB_SIGNAL_UNKNOWN
