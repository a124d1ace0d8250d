"""Restoring a checkpoint over a page of code runs the restored code.

timeline_smc.c writes `mov eax,1; ret` into a page, calls it 100 times,
rewrites it to `mov eax,2; ret` and calls it 100 times more, with the page
either RWX throughout or flipped between RW and R+X by mprotect.  Moving
back and forth across the rewrite must never run a stale translation.
"""

from __future__ import annotations

import io

import pytest

from replay.machine import WatchKind, Watchpoint
from replay.replayer import OutputSink
from replay.timeline import Direction, StopReason, Timeline

CALLS = 100
EXPECTED_OUTPUT = b"first 100 second 200\n"


@pytest.fixture(scope="module", params=["rwx", "mprotect"])
def smc(request, recorder):
    rec = recorder("timeline_smc", argv=(request.param,))
    assert rec.status == 0
    assert rec.stdout == EXPECTED_OUTPUT
    return rec


@pytest.fixture(scope="module")
def setup(smc):
    """A timeline at small spacing, the code page and every call into it."""
    out = io.BytesIO()
    tl = smc.timeline(interval=1 << 14, near=1 << 10, sink=OutputSink(out, None))
    tl.seek(tl.end.icount)
    page = int.from_bytes(tl.read_memory(smc.addr("code_page"), 8), "little")
    assert page and page % 4096 == 0
    # Every entry into the generated function, by a forward scan.
    tl.seek(0)
    tl.add_breakpoint(page)
    calls = []
    while (stop := tl.cont(Direction.FORWARD)).reason == StopReason.BREAKPOINT:
        assert stop.pc == page
        calls.append(stop.icount)
    tl.remove_breakpoint(page)
    assert stop.reason == StopReason.HISTORY_END
    assert len(calls) == 2 * CALLS
    assert out.getvalue().endswith(EXPECTED_OUTPUT)
    return tl, page, calls, out


def _call_returns(tl: Timeline, at: int) -> int:
    """Stand before the call's first instruction, run `mov eax, N`; N."""
    tl.seek(at)
    stop = tl.step(1, Direction.FORWARD)
    assert stop.icount == at + 1
    return tl.read_register("rax") & 0xFFFFFFFF


def test_checkpoint_between_the_versions(setup) -> None:
    tl, _page, calls, _out = setup
    between = [c for c in tl.index.icounts() if calls[CALLS - 1] < c < calls[CALLS]]
    assert between, "the test needs a checkpoint between the two versions of the code"


def test_seeking_across_the_rewrite_runs_the_right_code(setup, smc) -> None:
    tl, page, calls, _out = setup
    order = [CALLS + 50, 3, 2 * CALLS - 1, 0, CALLS, CALLS - 1, CALLS + 1, 50, 2 * CALLS - 2, 1]
    for i in order:
        version = 1 if i < CALLS else 2
        assert _call_returns(tl, calls[i]) == version, i
        assert tl.read_memory(page, 6) == bytes([0xB8, version, 0, 0, 0, 0xC3])
        assert smc.state_of(tl) == smc.reference(calls[i] + 1)
        # Back over the call and forward again.
        tl.step(3, Direction.BACKWARD)
        tl.step(5, Direction.FORWARD)
        assert smc.state_of(tl) == smc.reference(calls[i] + 3)
    # The stores of the results agree too.
    last_result = smc.addr("last_result")
    tl.seek(calls[CALLS] - 1)
    assert int.from_bytes(tl.read_memory(last_result, 4), "little") == 1
    tl.seek(calls[CALLS + 1])
    assert int.from_bytes(tl.read_memory(last_result, 4), "little") == 2


def test_reverse_continue_into_old_code(setup, smc) -> None:
    tl, page, calls, _out = setup
    tl.seek(calls[CALLS + 10] + 1)
    tl.add_breakpoint(page)
    try:
        stop = tl.cont(Direction.BACKWARD)
        assert stop.icount == calls[CALLS + 10]
        for j in range(CALLS + 9, CALLS - 3, -1):
            stop = tl.cont(Direction.BACKWARD)
            assert stop.reason == StopReason.BREAKPOINT and stop.icount == calls[j]
        tl.step(1, Direction.FORWARD)
        assert tl.read_register("rax") & 0xFFFFFFFF == 1
    finally:
        tl.remove_breakpoint(page)


def test_restore_just_after_the_rewrite(setup, smc) -> None:
    """A checkpoint taken right after the new code is written (for the
    mprotect variant: while the page is still not executable), restored
    while the old code is the translated one."""
    tl, page, calls, out = setup
    watch = Watchpoint(page, 6, WatchKind.WRITE)
    tl.seek(calls[CALLS])
    tl.add_watchpoint(watch)
    try:
        stop = tl.cont(Direction.BACKWARD)       # the last store of the rewrite
    finally:
        tl.remove_watchpoint(watch)
    assert stop.reason == StopReason.WATCHPOINT
    assert calls[CALLS - 1] < stop.icount < calls[CALLS]
    tl.step(1, Direction.FORWARD)
    assert tl.read_memory(page, 6) == bytes([0xB8, 2, 0, 0, 0, 0xC3])
    tl.bookmark("rewritten")
    for i in (CALLS - 1, 0, CALLS - 2):
        assert _call_returns(tl, calls[i]) == 1
        tl.restart("rewritten")
        assert _call_returns(tl, calls[CALLS]) == 2
        tl.restart("rewritten")
        tl.add_breakpoint(page)
        try:
            assert tl.cont(Direction.FORWARD).icount == calls[CALLS]
        finally:
            tl.remove_breakpoint(page)
        tl.step(1, Direction.FORWARD)
        assert tl.read_register("rax") & 0xFFFFFFFF == 2
        assert smc.state_of(tl) == smc.reference(calls[CALLS] + 1)
    tl.seek(tl.end.icount)
    assert out.getvalue().endswith(EXPECTED_OUTPUT)


def test_rewritten_code_with_a_new_instruction_count_is_counted_anew(recorder) -> None:
    """Same block size, different instruction count: positions stay exact."""
    rec = recorder("timeline_smc_count")
    assert rec.status == 0 and rec.stdout == b"calls 2000\n"
    tl = rec.timeline(interval=1 << 12, near=1 << 8)
    end = tl.end.icount
    for n in (end - 1, end // 2, end - 3000, 4000, end - 12_000, end - 7):
        tl.seek(n)
        assert rec.state_of(tl) == rec.reference(n), f"seek({n}) differs from a straight replay"
