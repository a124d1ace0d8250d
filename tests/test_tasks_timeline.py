"""Time travel over a multi-threaded trace: every position is one global count.

Seeking (forward and backward, from checkpoints) must land in exactly the
state a straight replay reaches: the memory, the running thread and its
registers, and every other thread's saved registers.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from replay import Direction, StopReason, ThreadInfo
from replay.recorder import record
from replay.replayer import Replay
from replay.timeline import Timeline
from replay.trace import create_trace, open_trace

REGS = ("rip", "rsp", "rax", "fs_base")
TOTAL = 4000 * (1 + 2 + 3 + 4)            # threads_condvar's final counter


def state(tl: Timeline) -> tuple:
    threads = tl.threads()
    return (tl.position, tl.current_tid, tl.state_digest(), threads,
            tuple(tuple(tl.read_register(r, t.tid) for r in REGS) for t in threads))


@pytest.fixture(scope="module")
def condvar_trace(builder, tmp_path_factory) -> str:
    program = builder.build("threads_condvar", "static")
    trace = create_trace(str(tmp_path_factory.mktemp("traces") / "condvar"), str(program))
    result = record(str(program), [str(program)], trace, slice_length=20_000)
    assert result.status == 0
    return trace.path


def straight(trace_path: str, n: int) -> tuple:
    tl = Timeline(Replay(open_trace(trace_path)), interval=1 << 40)   # one checkpoint: a plain replay
    try:
        tl.seek(n)
        return state(tl)
    finally:
        tl.replay.close()


def test_threads_are_listed_and_stops_name_their_thread(condvar_trace: str) -> None:
    tl = Timeline(Replay(open_trace(condvar_trace)))
    assert tl.threads() == (ThreadInfo(tl.pid, tl.pid, "threads_condvar.static"[:15]),)
    assert tl.current_tid == tl.pid
    # Somewhere in the middle all five threads live.
    tl.seek(tl.end.icount // 3)
    tids = [t.tid for t in tl.threads()]
    assert tids == sorted(tids) and len(tids) == 5 and tids[0] == tl.pid
    assert tids == list(range(tl.pid, tl.pid + 5))
    stop = tl.step(1)
    assert stop.tid == tl.current_tid
    for t in tl.threads():
        assert tl.read_register("rip", t.tid) != 0
    stop = tl.cont()
    assert stop.reason == StopReason.HISTORY_END and stop.exit_status == 0
    assert [t.tid for t in tl.threads()] == [tl.pid]


def test_random_seeks_equal_a_straight_replay(condvar_trace: str) -> None:
    tl = Timeline(Replay(open_trace(condvar_trace)), interval=1 << 20)
    end = tl.end.icount
    rng = random.Random(9)
    points = [rng.randrange(end) for _ in range(6)] + [end // 2 + 1, 1]
    tl.seek(end - 10)
    switched = 0
    for n in points:
        tl.seek(n)
        here = state(tl)
        assert here == straight(condvar_trace, n), f"seek({n})"
        switched += len(here[3]) > 1
    assert switched >= 3                # most points have several threads
    # Single steps backward across thread switches equal seeks.
    tl.seek(end // 2)
    for _ in range(3):
        before = tl.position
        tl.step(1, Direction.BACKWARD)
        assert tl.position == before - 1
        assert state(tl) == straight(condvar_trace, tl.position)


def test_a_stop_at_a_breakpoint_names_the_thread_that_hit_it(condvar_trace: str, builder) -> None:
    from elftools.elf.elffile import ELFFile

    with open(builder.build("threads_condvar", "static"), "rb") as f:
        work = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("work")[0]["st_value"]
    tl = Timeline(Replay(open_trace(condvar_trace)))
    tl.add_breakpoint(work)
    hits = []
    for _ in range(4):
        stop = tl.cont()
        assert stop.reason == StopReason.BREAKPOINT
        hits.append(stop.tid)
        assert stop.tid == tl.current_tid and tl.read_register("rip") == work
    assert len(set(hits)) == 4 and tl.pid not in hits
    back = tl.cont(Direction.BACKWARD)
    assert back.reason == StopReason.BREAKPOINT and back.tid == hits[-2]


def test_recording_is_deterministic_given_the_schedule(condvar_trace: str, builder, tmp_path: Path) -> None:
    """Two replays of one trace agree at the end (every thread switch at its count)."""
    a, b = straight(condvar_trace, 10**12), straight(condvar_trace, 10**12)
    assert a == b


@pytest.fixture(scope="module")
def exec_trace(builder, tmp_path_factory) -> tuple[str, str]:
    program = builder.build("procs_exec", "static")
    trace = create_trace(str(tmp_path_factory.mktemp("traces") / "exec"), str(program))
    result = record(str(program), [str(program)], trace)
    assert result.status == 0
    return trace.path, str(program)


def test_a_timeline_debugs_a_child_process_from_its_fork_to_its_exit(exec_trace) -> None:
    from elftools.elf.elffile import ELFFile

    from replay import list_processes, read_log

    path, program = exec_trace
    procs = {p.cmd: p for p in list_processes(read_log(open_trace(path).log_path))}
    child = procs[f"{program} chain 3"]
    tl = Timeline(Replay(open_trace(path)), pid=child.pid)
    assert tl.pid == child.pid and tl.start > 0
    assert [t.tid for t in tl.threads()] == [child.pid] and tl.current_tid == child.pid
    assert tl.seek(0).reason == StopReason.HISTORY_START and tl.position == tl.start
    with open(program, "rb") as f:
        run_chain = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("run_chain")[0]["st_value"]
    tl.add_breakpoint(run_chain)
    stop = tl.cont()
    assert stop.reason == StopReason.BREAKPOINT and stop.tid == child.pid     # after its exec of itself
    assert tl.read_register("rsi") == 3                                        # run_chain(argv[0], 3)
    hit = tl.position
    tl.remove_breakpoint(run_chain)
    end = tl.cont()
    assert end.reason == StopReason.HISTORY_END and end.exit_status == 30
    back = tl.step(1, Direction.BACKWARD)
    assert back.reason == StopReason.ARRIVED and tl.position == tl.end.icount - 1
    tl.add_breakpoint(run_chain)
    assert tl.cont(Direction.BACKWARD).reason == StopReason.BREAKPOINT and tl.position == hit
    for n in (tl.start + 1, hit + 7, (tl.start + tl.end.icount) // 2):
        tl.seek(n)
        fresh = Timeline(Replay(open_trace(path)), pid=child.pid, interval=1 << 40)
        fresh.seek(n)
        assert state(tl) == state(fresh), f"seek({n})"
        fresh.replay.close()


def test_a_timeline_refuses_a_pid_the_trace_lacks(exec_trace) -> None:
    from replay import ReplayError

    with pytest.raises(ReplayError, match="no process 1 in this trace"):
        Timeline(Replay(open_trace(exec_trace[0])), pid=1)


def test_reverse_continue_to_a_watchpoint_finds_the_last_write_whichever_thread_made_it(
        condvar_trace: str, builder) -> None:
    from elftools.elf.elffile import ELFFile

    from replay import WatchKind, Watchpoint

    with open(builder.build("threads_condvar", "static"), "rb") as f:
        counter = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("counter")[0]["st_value"]
    tl = Timeline(Replay(open_trace(condvar_trace)))
    tl.seek(tl.end.icount)
    tl.add_watchpoint(Watchpoint(counter, 8, WatchKind.WRITE))
    stop = tl.cont(Direction.BACKWARD)
    assert stop.reason == StopReason.WATCHPOINT and stop.address == counter
    assert stop.tid != tl.pid and stop.tid == tl.current_tid       # a worker wrote it last
    writer, at = stop.tid, tl.position
    # Worker i (tid pid+1+i) adds i+1: the value before the last write tells which one wrote it.
    assert int.from_bytes(tl.read_memory(counter, 8), "little") == TOTAL - (writer - tl.pid)
    again = tl.cont(Direction.BACKWARD)
    assert again.reason == StopReason.WATCHPOINT and tl.position < at
    assert int.from_bytes(tl.read_memory(counter, 8), "little") < TOTAL - (writer - tl.pid)
    assert {writer, again.tid} <= {t.tid for t in tl.threads()}


def test_the_log_tells_whose_turn_each_instruction_is(condvar_trace: str) -> None:
    """runner/next_turn/previous_turn: what a front end needs to step one thread."""
    tl = Timeline(Replay(open_trace(condvar_trace)))
    rng = random.Random(4)
    for p in sorted(rng.randrange(tl.end.icount - 1) for _ in range(5)):
        tl.seek(p)
        who = tl.runner()
        tl.step(1)
        assert tl.current_tid == who, f"instruction after {p}"
        other = next((t.tid for t in tl.threads() if t.tid != who), None)
        if other is None:
            continue
        turn = tl.next_turn(other, p)
        if turn is not None:
            assert turn > p and tl.runner(turn) == other and tl.runner(turn - 1) != other
            tl.seek(turn)
            tl.step(1)
            assert tl.current_tid == other
        back = tl.previous_turn(other, p)
        if back is not None:
            assert back < p and tl.runner(back) == other and tl.runner(back + 1) != other
            tl.seek(back)
            tl.step(1)
            assert tl.current_tid == other


def test_random_seeks_over_a_process_tree_equal_a_straight_replay(exec_trace) -> None:
    path, _ = exec_trace
    tl = Timeline(Replay(open_trace(path)), interval=1 << 16)
    rng = random.Random(3)
    points = [rng.randrange(tl.end.icount) for _ in range(4)]
    tl.seek(tl.end.icount)
    for n in points:
        tl.seek(n)
        fresh = Timeline(Replay(open_trace(path)), interval=1 << 40)
        fresh.seek(n)
        assert state(tl) == state(fresh), f"seek({n})"
        assert tl.runner() == fresh.runner()
        fresh.replay.close()


def test_seeks_over_processes_sharing_memory_equal_a_straight_replay(builder, tmp_path: Path) -> None:
    """MAP_SHARED memory stays one across fork through checkpoints: seeking back and
    forth lands where a straight replay does, and the run still ends as recorded."""
    program = builder.build("procs_shared", "static")
    trace = create_trace(str(tmp_path / "shared"), str(program))
    result = record(str(program), [str(program)], trace, slice_length=5_000)
    assert result.status == 0
    tl = Timeline(Replay(open_trace(trace.path)), interval=1 << 15)
    end = tl.end.icount
    rng = random.Random(5)
    tl.seek(end - 1)
    for n in [rng.randrange(end) for _ in range(4)] + [end // 3]:
        tl.seek(n)
        assert state(tl) == straight(trace.path, n), f"seek({n})"
    stop = tl.cont()
    assert stop.reason == StopReason.HISTORY_END and stop.exit_status == 0
    tl.replay.close()
