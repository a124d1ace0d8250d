"""`--clock host`: the board's clock paced to real time.  clock.c counts loop iterations
until 300 ticks of a 1 kHz timer have passed: under the host clock that is about 0.3 s of
wall time, whatever the emulator's speed, so the iteration count depends on the host; the
replay, which never reads the host clock, still reproduces the output, the tick count and
the final instruction count, from the CLOCK events the log holds at each check point."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from boardbuild import build_firmware
from harness import Ttdbg

from replay import BoardReplay, TraceDir
from replay.eventlog import read_log
from replay.events import Clock

TICKS = 300
VIRTUAL_NS = 16                      # the virtual clock: one instruction = 16 ns


@pytest.fixture(scope="module")
def clock_fw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_firmware(tmp_path_factory.mktemp("clockfw"), "clock")


def _instructions(ttdbg: Ttdbg, trace: Path) -> int:
    return int(re.search(r"instructions: +([\d,]+)", ttdbg("info", trace).out).group(1).replace(",", ""))


def test_host_clock_records_real_time_and_replays_exactly(ttdbg: Ttdbg, clock_fw: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t"
    started = time.monotonic()
    rec = ttdbg("record", "-q", "--board", "virt", "--clock", "host", "-o", trace, clock_fw, stdin=b"%d\n" % TICKS)
    wall = time.monotonic() - started
    assert rec.status == 0, rec.err
    iterations, ticks, elapsed = map(int, rec.stdout.split())
    assert ticks == TICKS
    assert wall >= TICKS / 1000                          # 300 ticks took (at least) 0.3 s of real time
    assert elapsed >= TICKS * 62_500                     # the counter went at least as far
    icount = _instructions(ttdbg, trace)
    # paced to the host: the run took as long as real time allowed, not 300 ms of 16 ns
    # instructions (it would take fewer while the emulator runs below 62.5 MIPS, and waits above)
    assert icount <= TICKS * 1_000_000 // VIRTUAL_NS * 1.05
    assert "clock host" in ttdbg("info", trace).out

    events = read_log(TraceDir(str(trace)).log_path).events
    clocks = [e for e in events if isinstance(e, Clock)]
    assert len(clocks) >= TICKS                          # a check point at (or after) every tick, logged
    assert all(a.icount <= b.icount and a.value <= b.value for a, b in zip(clocks, clocks[1:]))

    for backend in ("null", f"file:{tmp_path / 'out.txt'}"):
        rep = ttdbg("replay", "-a", trace, "--uart", backend, "--stats")
        assert rep.status == 0, rep.err
        assert "without divergence" in rep.err and f"{TICKS} interrupts" in rep.err.replace(",", "")
    assert (tmp_path / "out.txt").read_bytes() == rec.stdout
    assert iterations > 0

    # stopped anywhere (between and on logged check points), it still ends as recorded
    replay = BoardReplay(TraceDir(str(trace)))
    try:
        at = 0
        while (ending := replay.run(at)).kind == "limit":
            at += 700_001
        assert ending.kind == "exit" and replay.icount == icount
        assert replay.system.interrupts_taken == TICKS
    finally:
        replay.close()


def test_virtual_clock_is_the_default_and_unlogged(ttdbg: Ttdbg, clock_fw: Path, tmp_path: Path) -> None:
    """The same firmware on the virtual clock: 300 ticks are exactly 300 ms of 16 ns instructions,
    and no CLOCK event is logged."""
    trace = tmp_path / "v"
    rec = ttdbg("record", "-q", "--board", "virt", "-o", trace, clock_fw, stdin=b"%d\n" % TICKS)
    assert rec.status == 0, rec.err
    _iterations, ticks, elapsed = map(int, rec.stdout.split())
    assert ticks == TICKS and TICKS * 62_500 <= elapsed < TICKS * 62_500 * 1.02
    events = read_log(TraceDir(str(trace)).log_path).events
    assert not any(isinstance(e, Clock) for e in events)
    assert "clock virtual" in ttdbg("info", trace).out
    bad = ttdbg("record", "-q", "--clock", "host", "-o", tmp_path / "x", "/bin/true")
    assert bad.status == 2 and "go with --board" in bad.err
