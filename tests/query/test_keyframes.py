"""Keyframes on disk: built, reused, never trusted when damaged, and a timeline
that starts from them lands in exactly the states of one that does not."""

from __future__ import annotations

import os
import shutil

import pytest
from query_support import QueryTrace

from replay import OutputSink, Replay, Timeline, build_keyframes, open_keyframes, open_trace
from replay.timeline import Direction, StopReason


@pytest.fixture
def indexed(recorded: QueryTrace, tmp_path) -> str:
    if recorded.flavour != "static":
        pytest.skip("keyframes are the same code for both linkings; the query tests cover dynamic traces")
    copy = tmp_path / "trace"
    shutil.copytree(recorded.trace, copy)
    return str(copy)


def test_index_builds_then_reports_up_to_date(recorded: QueryTrace, indexed: str) -> None:
    first = recorded.ttdbg("index", indexed)
    assert first.status == 0 and "keyframes every" in first.err, first.err
    again = recorded.ttdbg("index", indexed)
    assert again.status == 0 and "up to date" in again.err
    store = open_keyframes(open_trace(indexed))
    assert store is not None and 16 <= len(store) <= 1024
    assert store.icounts == sorted(store.icounts)


def test_seeks_from_keyframes_match_a_plain_replay(indexed: str) -> None:
    trace = open_trace(indexed)
    build_keyframes(trace)
    store = open_keyframes(trace)
    assert store is not None
    fast = Timeline(Replay(trace, OutputSink.quiet()), keyframes=store)
    plain = Timeline(Replay(trace, OutputSink.quiet()))
    end = plain.end.icount
    for target in (end - 5, end // 2 + 3, 100, end // 3, end):
        fast.seek(target)
        plain.seek(target)
        assert (fast.position, fast.state_digest()) == (plain.position, plain.state_digest())
    assert fast.stats.get("keyframes_loaded", 0) >= 2
    # Backward motions through keyframes: reverse steps, then a breakpoint met by reverse-continue.
    for tl in (fast, plain):
        tl.seek(end - 10)
        tl.step(1000, Direction.BACKWARD)
    assert fast.state_digest() == plain.state_digest()
    pc = plain.pc
    for tl in (fast, plain):
        tl.seek(end)
        tl.add_breakpoint(pc)
    a, b = fast.cont(Direction.BACKWARD), plain.cont(Direction.BACKWARD)
    assert a.reason == b.reason == StopReason.BREAKPOINT and a.icount == b.icount


def test_damaged_keyframes_are_never_trusted(recorded: QueryTrace, indexed: str) -> None:
    trace = open_trace(indexed)
    build_keyframes(trace)
    index = os.path.join(indexed, "keyframes", "index")
    with open(index, "r+b") as f:
        f.seek(os.path.getsize(index) // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    notes: list[str] = []
    assert open_keyframes(trace, notes.append) is None
    assert "corrupt" in notes[0]
    run = recorded.ttdbg("query", indexed, "exec", "add", "--json")
    assert run.status == 0 and "rebuilding the keyframes" in run.err, run.err
    assert open_keyframes(trace) is not None
    # A damaged page (blob): the timeline notices on restore and replays instead.
    blobs = os.path.join(indexed, "keyframes", "blobs")
    with open(blobs, "r+b") as f:
        data = bytearray(f.read())
        for i in range(0, len(data), 97):
            data[i] ^= 0x5A
        f.seek(0)
        f.write(data)
    store = open_keyframes(trace)
    assert store is not None
    damaged = Timeline(Replay(trace, OutputSink.quiet()), keyframes=store)
    plain = Timeline(Replay(trace, OutputSink.quiet()))
    target = plain.end.icount - 7
    damaged.seek(target)
    plain.seek(target)
    assert damaged.keyframes is None
    assert damaged.state_digest() == plain.state_digest()


def test_segments_split_exactly_at_a_hit(indexed: str) -> None:
    """A hit at a segment boundary belongs to the later segment only."""
    from replay import ScanSpec
    from replay.scan import scan_segment
    from ttdbg.symbols import Symbols

    trace = open_trace(indexed)
    build_keyframes(trace)
    replay = Replay(trace, OutputSink.quiet())
    header = replay.contents.header
    symbols = Symbols(trace.load_file(header.program_sha256), header.program)
    end = Timeline(replay).end.icount
    add = symbols.function_named("add").low
    spec = ScanSpec(collect=frozenset({add}))
    whole, _n, _notes = scan_segment(indexed, spec, 0, end)
    cut = whole[len(whole) // 2].icount
    left, _n, _notes = scan_segment(indexed, spec, 0, cut)
    right, _n, _notes = scan_segment(indexed, spec, cut, end)
    assert left + right == whole and right[0].icount == cut
