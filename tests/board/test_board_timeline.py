"""A Timeline over a board trace (replay/board/guest.py): its checkpoints hold the whole
board, so positions reached backward, across interrupts and UART input, are the states a
straight replay passes through (CPU registers, RAM, and every device)."""

from __future__ import annotations

import random
from pathlib import Path

from boardbuild import build_firmware
from harness import Ttdbg
from test_board_record_replay import record_live

from replay import BoardReplay, Direction, OutputSink, StopReason, Timeline, open_guest, open_trace, read_log

NAMES = ("pc", "sp", "x0", "x1", "x19", "pstate", "elr_el1", "spsr_el1", "esr_el1")


def _timeline(path: Path, **kw) -> Timeline:
    trace = open_trace(str(path))
    return Timeline(open_guest(trace, read_log(trace.log_path), OutputSink.quiet()), **kw)


def _state(tl: Timeline) -> tuple:
    return (tl.position, tuple(tl.read_register(n) for n in NAMES), tl.device_state(),
            tl.read_memory(0x4008_2000, 0x200), tl.state_digest())


def test_positions_reached_backward_are_the_straight_replays(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t"
    status, _, err = record_live(ttdbg, firmware, trace, b"abc\ndef\x04", "--ram", "16M")
    assert status == 3, err
    straight = _timeline(trace, interval=1 << 40)          # one checkpoint: a plain replay forward
    total = straight.end.icount
    assert straight.end.status == 3 and straight.threads()[0].name == "cpu0"
    rng = random.Random(13)
    # every UART input's count and its neighbours, and places anywhere
    inputs = [e for e in read_log(str(trace / "events.log")).events if e.kind.name == "CHAR_READ"]
    assert inputs
    wanted = sorted({*(rng.randrange(total) for _ in range(12)),
                     *(e.icount + d for e in inputs for d in (-1, 0, 1))} - {-1})
    expected = {}
    for n in wanted:
        assert straight.seek(n).reason == StopReason.ARRIVED
        expected[n] = _state(straight)

    tl = _timeline(trace, interval=1 << 12, near=1 << 8)    # many checkpoints, restored often
    assert tl.seek(total).icount == total
    for n in reversed(wanted):                              # backward, from the end
        tl.seek(n)
        assert _state(tl) == expected[n], n
    for n in rng.sample(wanted, 10):                        # anywhere
        tl.seek(n)
        assert _state(tl) == expected[n], n
    tl.seek(wanted[len(wanted) // 2])
    here = tl.position
    for _ in range(5):                                      # reverse-stepi, then forward again
        assert tl.step(1, Direction.BACKWARD).icount == here - 1
        assert tl.step(1).icount == here
        assert _state(tl) == expected[here]
    assert tl.stats["restores"] > 10


def _check_points(replay: BoardReplay) -> list[tuple[int, int]]:
    """Watch where the board's loop makes its check points: (count, interrupts taken after)."""
    seen: list[tuple[int, int]] = []
    system = replay.system
    make = system._check_point

    def noted(io, idle):  # noqa: ANN001, ANN202
        ending = make(io, idle)
        seen.append((system.icount, system.interrupts_taken))
        return ending

    system._check_point = noted  # type: ignore[method-assign]
    return seen


def test_a_stop_never_moves_a_check_point(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """Stopped at every count around interrupts taken while the firmware computes (inside
    the 1,024-instruction chase of a pending one: spin.c), the loop still makes its check
    points where an uninterrupted run does."""
    spin = build_firmware(tmp_path, "spin")
    trace = tmp_path / "t"
    rec = ttdbg("record", "-q", "--board", "virt", "--ram", "16M", "-o", trace, spin, stdin=b"40\n")
    assert rec.status == 0, rec.err
    straight = BoardReplay(open_trace(str(trace)))
    expected = _check_points(straight)
    assert straight.run().kind == "exit"
    total = straight.icount
    taken = [i for i, (_, n) in enumerate(expected) if i and n > expected[i - 1][1]]
    assert len(taken) >= 2
    stepped = BoardReplay(open_trace(str(trace)))
    seen = _check_points(stepped)
    for first in (expected[taken[0]][0], expected[taken[-1]][0]):
        for n in range(max(stepped.icount, first - 3), min(first + 1500, total - 1)):
            assert stepped.run(n).kind == "limit"
    assert stepped.run().kind == "exit"
    assert seen == expected


def test_index_and_query_refuse_a_board_trace_in_one_line(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t"
    status, _, err = record_live(ttdbg, firmware, trace, b"\x04", "--ram", "16M")
    assert status == 3, err
    for words in (("index",), ("query", "writes", "ticks")):
        run = ttdbg(words[0], trace, *words[1:])
        assert run.status == 70 and len(run.err.splitlines()) == 1, run.err
        assert "firmware on a board" in run.err
