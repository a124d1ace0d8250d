"""A board replay stopped at arbitrary exact counts, saved and restored, takes every
interrupt at the same instruction count as a straight replay: the replay's final state
hash and end match the recording (BoardReplay.run raises ReplayDivergence otherwise)."""

from __future__ import annotations

from pathlib import Path

from harness import Ttdbg
from test_board_record_replay import record_live

from replay import BoardReplay, TraceDir


def test_stops_saves_and_restores_change_nothing(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    trace_dir = tmp_path / "t"
    status, out, err = record_live(ttdbg, firmware, trace_dir, b"seek and find\x04")
    assert status == 3, err
    trace = TraceDir(str(trace_dir))

    straight = BoardReplay(trace)
    assert straight.run().kind == "exit"
    total, interrupts = straight.icount, straight.system.interrupts_taken
    straight.close()
    assert interrupts > 2

    stepped = BoardReplay(trace)
    saved, mid = None, total // 2
    at = 0
    while at < total:
        at = min(total, at + total // 11 + 7)           # stops that split blocks anywhere
        ending = stepped.run(at)
        if ending.kind != "limit":
            break
        assert stepped.icount == at
        if saved is None and at >= mid:
            saved, saved_at, saved_taken = stepped.save(), at, stepped.system.interrupts_taken
    assert stepped.run().kind == "exit"
    assert (stepped.icount, stepped.system.interrupts_taken) == (total, interrupts)
    assert "uart0" in stepped.describe() and "timer virt" in stepped.describe()

    assert saved is not None
    stepped.restore(saved)
    assert (stepped.icount, stepped.system.interrupts_taken) == (saved_at, saved_taken)
    assert stepped.run().kind == "exit"
    assert (stepped.icount, stepped.system.interrupts_taken) == (total, interrupts)
    stepped.close()
