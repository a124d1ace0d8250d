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


def test_recordings_stopped_early_replay_to_where_they_stopped(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    """A recording stopped at a count (record_board's limit) or by Ctrl-C replays to that
    count and stops there, without divergence."""
    import os
    import signal
    import subprocess
    import time

    from replay import create_trace, record_board, replay_board

    trace = create_trace(str(tmp_path / "limited"), str(firmware))
    saved = os.dup(0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    try:
        rec = record_board("virt", str(firmware), firmware.read_bytes(), trace, uart="stdio", limit=12_345)
    finally:
        os.dup2(saved, 0)
        trace.release()
    assert rec.icount == 12_345
    rep = replay_board(trace, uart="null")
    assert (rep.icount, rep.status) == (12_345, 0)

    proc = subprocess.Popen(ttdbg.argv("record", "-q", "--board", "virt", "-o", tmp_path / "c", firmware),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ttdbg.env, cwd=ttdbg.workdir)
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    again = ttdbg("replay", "-a", tmp_path / "c", "--stats")
    assert again.status == 130, again.err
    assert "without divergence" in again.err
    proc = subprocess.Popen(ttdbg.argv("record", "-q", "--board", "virt", "-o", tmp_path / "k", firmware),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ttdbg.env, cwd=ttdbg.workdir)
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()
    proc.stdin.write(b"abc")
    proc.stdin.flush()
    time.sleep(0.3)
    proc.kill()
    proc.communicate(timeout=60)
    killed = ttdbg("replay", "-a", tmp_path / "k")
    assert killed.status == 74, killed.err
    assert "truncated" in killed.err and len(killed.err.splitlines()) == 1
