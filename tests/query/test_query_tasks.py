"""Keyframes and queries with several tasks (query_tasks.c): threads of one
process, and a parent and child that write the same address in their own
address spaces.

Keyframes hold every thread and every process: seeking from them lands in the
state a plain replay reaches, in the first process and in a forked one.  Scans
hook the debugged process only (its hits, none of the other's) and name the
thread that ran each hit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from harness import Ttdbg

from replay import Timeline, build_keyframes, list_processes, open_keyframes, open_trace, read_log
from replay.replayer import Replay


@pytest.fixture(scope="module")
def tasks(qbuilder, tmp_path_factory: pytest.TempPathFactory):
    program = qbuilder.build("query_tasks", "static")
    base = tmp_path_factory.mktemp("qtasks")
    (base / "work").mkdir()
    t = Ttdbg(base / "traces", base / "work")
    out = {}
    for mode in ("threads", "fork"):
        trace = base / mode
        run = t("record", "-q", "--slice", "3000", "-o", trace, program, mode)
        assert run.status == 0, run.err
        td = open_trace(str(trace))
        stats = build_keyframes(td, interval=40_000)
        assert stats.count >= 6
        out[mode] = (trace, run.out)
    return t, out


def _state(tl: Timeline) -> tuple:
    threads = tl.threads()
    return (tl.position, tl.current_tid, tl.state_digest(), threads,
            tuple(tuple(tl.read_register(r, t.tid) for r in ("rip", "rsp", "rax", "fs_base")) for t in threads))


def _seek_both(trace: Path, points: list[int], pid: int | None = None) -> int:
    """Seeks from keyframes equal seeks of a plain timeline; the keyframes loaded."""
    td = open_trace(str(trace))
    store = open_keyframes(td)
    assert store is not None
    keyed = Timeline(Replay(td), keyframes=store, pid=pid)
    plain = Timeline(Replay(td), interval=1 << 40, pid=pid)
    try:
        for n in points:
            assert _state(keyed.seek(n) and keyed) == _state(plain.seek(n) and plain), f"seek({n})"
        return keyed.stats.get("keyframes_loaded", 0)
    finally:
        keyed.replay.close()
        plain.replay.close()
        store.close()


def _pids(trace: Path) -> tuple[int, int]:
    procs = list_processes(read_log(open_trace(str(trace)).log_path))
    assert len(procs) == 2
    return procs[0].pid, procs[1].pid


def test_keyframes_restore_every_thread(tasks) -> None:
    _, traces = tasks
    trace, _ = traces["threads"]
    end = Timeline(Replay(open_trace(str(trace)))).end.icount
    points = [end * k // 7 + 13 for k in (6, 2, 5, 1, 4)]
    assert _seek_both(trace, points) >= 3


def test_keyframes_restore_every_process(tasks) -> None:
    _, traces = tasks
    trace, _ = traces["fork"]
    parent, child = _pids(trace)
    td = open_trace(str(trace))
    tl = Timeline(Replay(td), pid=child)
    start, end = tl.start, tl.end.icount
    tl.replay.close()
    assert start > 0
    # The child, seeked from keyframes taken while both processes lived.
    assert _seek_both(trace, [start + (end - start) * k // 5 for k in (4, 1, 3)], pid=child) >= 1
    # The parent, across the child's life and after it.
    pend = Timeline(Replay(td)).end.icount
    assert _seek_both(trace, [pend - 5, (start + end) // 2, end + 7]) >= 2


def _rows(t: Ttdbg, *words) -> list[dict]:
    run = t("query", *words, "--json")
    assert run.status == 0, run.err
    assert re.search(r"\d+ hits", run.err), run.err
    return [json.loads(line) for line in run.out.splitlines() if line.strip()]


def test_writes_name_the_thread_that_made_them(tasks) -> None:
    t, traces = tasks
    trace, out = traces["threads"]
    stores = [tuple(int(w) for w in line.split()[1:]) for line in out.splitlines() if line.startswith("store ")]
    assert len(stores) == 15 and len({tid for tid, _ in stores}) == 3
    for jobs in ("1", "2"):
        rows = _rows(t, trace, "writes", "last", "--jobs", jobs)
        assert [(r["thread"], int(r["new"])) for r in rows] == stores
    lines = _rows(t, trace, "lines", "query_tasks.c:19")      # store()'s gettid line: each thread runs it
    assert {r["thread"] for r in lines} == {tid for tid, _ in stores}


def test_scans_see_the_debugged_process_only(tasks) -> None:
    t, traces = tasks
    trace, out = traces["fork"]
    parent, child = _pids(trace)
    assert f"parent {parent} child {child}" in out
    rows = _rows(t, trace, "writes", "counter")
    assert [int(r["new"]) for r in rows] == [0, 1, 2]
    assert {r["thread"] for r in rows} == {parent}
    for jobs in ("1", "2"):
        rows = _rows(t, "-p", str(child), trace, "writes", "counter", "--jobs", jobs)
        assert [int(r["new"]) for r in rows] == [100, 101, 102, 103]
        assert {r["thread"] for r in rows} == {child}
    bad = t("query", "-p", "999999", trace, "writes", "counter")
    assert bad.status != 0 and "no process 999999" in bad.err and "Traceback" not in bad.err


def test_repl_of_a_child_queries_the_child(tasks) -> None:
    from ttdbg.repl import Repl
    from ttdbg.session import DebugSession

    _, traces = tasks
    trace, _ = traces["fork"]
    parent, child = _pids(trace)
    repl = Repl(DebugSession(open_trace(str(trace)), pid=child), use_gdb=False)
    try:
        out = repl.execute("query writes counter --json")
        rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert [int(r["new"]) for r in rows] == [100, 101, 102, 103]
        assert {r["thread"] for r in rows} == {child}
        repl.execute("goto #3")
        assert repl.execute("print counter").endswith("= 102")
    finally:
        repl.close()
