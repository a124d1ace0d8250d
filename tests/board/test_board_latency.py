"""An interrupt made ready by a register write outside a handler (a timer armed in the
past, a GIC enable of a pending interrupt) is taken within 1,024 instructions of the
write, at the same count at record and replay (it was up to 262,144 late before)."""

from __future__ import annotations

from pathlib import Path

from boardbuild import build_firmware
from harness import Ttdbg


def test_ready_from_a_write_is_taken_soon(ttdbg: Ttdbg, tmp_path: Path) -> None:
    fw = build_firmware(tmp_path, "ready")
    trace = tmp_path / "t"
    rec = ttdbg("record", "-q", "--board", "virt", "--uart", "stdio", "-o", trace, fw)
    assert rec.status == 0, rec.err
    timer, gic = map(int, rec.stdout.split())
    # each loop iteration is a few instructions: 1,024 instructions are at most ~350 of them
    assert 1000 <= timer < 1000 + 400
    assert 1000 <= gic < 1000 + 400
    rep = ttdbg("replay", "-a", trace, "--stats")
    assert (rep.status, rep.stdout) == (0, rec.stdout), rep.err


def test_stops_anywhere_do_not_move_check_points(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """The next check point is state, set at check points and by device writes at exact
    counts, never recomputed where a caller stops the run: a replay stopped every 333
    instructions takes both interrupts at the recorded counts and ends in the recorded state."""
    from replay import BoardReplay, TraceDir

    fw = build_firmware(tmp_path, "ready")
    trace = tmp_path / "t"
    rec = ttdbg("record", "-q", "--board", "virt", "--uart", "null", "-o", trace, fw)
    assert rec.status == 0, rec.err
    replay = BoardReplay(TraceDir(str(trace)))
    try:
        at = 0
        while (ending := replay.run(at)).kind == "limit":
            assert replay.icount == at
            at += 333
        assert ending.kind == "exit"            # run() checked the final state hash and the end
        assert replay.system.interrupts_taken == 2
    finally:
        replay.close()
