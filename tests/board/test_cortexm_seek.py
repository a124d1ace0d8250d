"""An mps2-an385 replay stopped at arbitrary exact counts, saved and restored, takes every
interrupt (SysTick, UART RX, svc) at the same count as a straight replay: the final state
hash and the end match the recording (BoardReplay.run raises ReplayDivergence otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Ttdbg
from mbuild import build_m_firmware
from test_cortexm_record_replay import record_live

from replay import BoardReplay, TraceDir


def stepped_replay_matches(trace: TraceDir, pieces: int) -> None:
    straight = BoardReplay(trace)
    assert straight.run().kind == "exit"
    total, interrupts = straight.icount, straight.system.interrupts_taken
    straight.close()
    assert interrupts > 2

    stepped = BoardReplay(trace)
    saved, at = None, 0
    while at < total:
        at = min(total, at + total // pieces + 7)          # stops that split blocks anywhere
        ending = stepped.run(at)
        if ending.kind != "limit":
            break
        assert stepped.icount == at
        if saved is None and at >= total // 2:
            saved, saved_at, saved_taken = stepped.save(), at, stepped.system.interrupts_taken
    assert stepped.run().kind == "exit"
    assert (stepped.icount, stepped.system.interrupts_taken) == (total, interrupts)
    assert "systick" in stepped.describe() and "nvic" in stepped.describe()
    assert saved is not None
    stepped.restore(saved)
    assert (stepped.icount, stepped.system.interrupts_taken) == (saved_at, saved_taken)
    assert stepped.run().kind == "exit"
    assert (stepped.icount, stepped.system.interrupts_taken) == (total, interrupts)
    stepped.close()


@pytest.mark.parametrize("name, pieces", [("spin", 13), ("echo", 11)])
def test_stops_saves_and_restores_change_nothing(ttdbg: Ttdbg, tmp_path: Path, name: str, pieces: int) -> None:
    fw = build_m_firmware(tmp_path, name)
    trace = tmp_path / "t"
    if name == "echo":
        status, _out, err = record_live(ttdbg, fw, trace, b"seek and find\x04")
        assert status == 3, err
    else:
        rec = ttdbg("record", "-q", "--board", "mps2-an385", "--uart", "null", "-o", trace, fw)
        assert rec.status == 0, rec.err
    stepped_replay_matches(TraceDir(str(trace)), pieces)


def test_interrupted_recording_replays_to_where_it_stopped(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """Ctrl-C while the firmware idles between SysTick ticks: status 130, and the replay stops
    at the same count, without divergence."""
    import signal
    import subprocess
    import time

    fw = build_m_firmware(tmp_path, "echo")
    proc = subprocess.Popen(ttdbg.argv("record", "-q", "--board", "mps2-an385", "-o", tmp_path / "c", fw),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ttdbg.env, cwd=ttdbg.workdir)
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()
    proc.stdin.write(b"xy")
    proc.stdin.flush()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == b"XY"
    again = ttdbg("replay", "-a", tmp_path / "c", "--stats")
    assert again.status == 130, again.err
    assert again.stdout == b"echo firmware ready\nXY" and "without divergence" in again.err
