"""Threads under a real gdb: gdb_threads.c's main and two named workers.

gdb lists the threads with their names (`info threads`, `-thread-info`), a
breakpoint in the thread function reports the worker that hit it, `thread
apply all bt` unwinds every thread, `thread N` reads that thread's registers,
and a reverse-continue to a watchpoint set in main finds the write worker 1
made, in worker 1.
"""

from __future__ import annotations

import re

import pytest
from gdbtest_support import LINKINGS, source_line


def threads(g) -> list[dict]:
    return g.ok("-thread-info").payload["threads"]


def current(g) -> dict:
    info = g.ok("-thread-info").payload
    return next(t for t in info["threads"] if t["id"] == info["current-thread-id"])


@pytest.mark.parametrize("linking", LINKINGS)
def test_breakpoint_in_a_thread_function_reports_its_thread(connected, linking):
    guest, server, g = connected("threads", linking)
    g.ok("break crunch")
    stop = g.ok("continue")
    assert stop.reason == "breakpoint-hit", g.dump()
    assert stop.func == "crunch"
    worker = g.eval("id")
    assert worker in ("0", "1")
    assert stop.stopped["thread-id"] == current(g)["id"]
    assert current(g)["name"] == f"worker{worker}"
    assert re.search(rf'Thread \d+ "worker{worker}" hit Breakpoint 1, crunch \(id={worker}\)', stop.text)
    names = sorted(t["name"] for t in threads(g))
    assert names == sorted([f"threads-{linking}", "worker0", "worker1"]), g.dump()
    text = g.ok("info threads").text
    assert re.search(rf'^\* \d+ +Thread (\d+)\.\d+ "worker{worker}" +crunch \(id={worker}\) at ', text, re.M), text
    pids = set(re.findall(r"Thread (\d+)\.\d+", text))
    assert len(pids) == 1 and len(set(re.findall(r"Thread \d+\.(\d+)", text))) == 3
    # the other worker reaches it too, later: the stop names that one
    stop = g.ok("continue")
    assert stop.reason == "breakpoint-hit" and stop.func == "crunch"
    assert g.eval("id") == str(1 - int(worker))
    assert current(g)["name"] == f"worker{1 - int(worker)}"


@pytest.mark.parametrize("linking", LINKINGS)
def test_thread_apply_all_bt_and_another_threads_registers(connected, linking):
    guest, server, g = connected("threads", linking)
    g.ok("break crunch")
    g.ok("continue")
    here = g.pc()
    text = g.ok("thread apply all bt").text
    blocks = re.split(r"\n(?=Thread \d+ \(Thread )", "\n" + text.strip())
    blocks = [b for b in blocks if b.strip()]
    assert len(blocks) == 3, text
    by_name = {re.search(r'"([^"]+)"\):', b).group(1): b for b in blocks}
    assert set(by_name) == {f"threads-{linking}", "worker0", "worker1"}, text
    assert re.search(r"in main \(\) at .*gdb_threads.c:\d+", by_name[f"threads-{linking}"]), text
    for name in ("worker0", "worker1"):
        assert re.search(rf"in worker \(arg=0x{name[-1]}\) at .*gdb_threads.c:\d+", by_name[name]) \
            or re.search(rf"#0  crunch \(id={name[-1]}\)", by_name[name]), text
    main = next(t for t in threads(g) if t["name"] == f"threads-{linking}")
    g.ok(f"thread {main['id']}")
    assert g.pc() != here                            # main's own registers (Hg), not the worker's
    assert "in main ()" in g.ok("bt").text
    assert "main" in g.ok("frame function main").text   # and its frames select
    assert g.eval("t[0]") != "0"                     # main's locals: the thread handles it created


@pytest.mark.parametrize("linking", LINKINGS)
def test_reverse_continue_to_a_write_by_another_thread(connected, linking):
    guest, server, g = connected("threads", linking)
    g.ok(f"break {source_line(guest, '/* joined */')}")
    stop = g.ok("continue")
    assert stop.reason == "breakpoint-hit" and stop.func == "main", g.dump()
    assert current(g)["name"] == f"threads-{linking}"
    joined_at = g.when()
    assert g.eval("shared") == "42"
    g.ok("watch shared")
    stop = g.ok("reverse-continue")
    assert stop.reason == "watchpoint-trigger", g.dump()
    assert (stop.func, stop.line) == ("worker", source_line(guest, "/* the-write */"))
    assert stop.stopped["value"] == {"old": "42", "new": "0"}
    assert current(g)["name"] == "worker1"
    assert stop.stopped["thread-id"] == current(g)["id"]
    assert g.eval("id") == "1"
    assert g.when() < joined_at                      # one global instruction count
    stop = g.ok("reverse-stepi")                     # still worker 1, one instruction back
    assert current(g)["name"] == "worker1"
    assert stop.line == source_line(guest, "if (id == 1)")
    stop = g.ok("continue")                          # forwards: the write again, seen from before
    assert stop.reason == "watchpoint-trigger", g.dump()
    assert stop.stopped["value"] == {"old": "0", "new": "42"}
    assert current(g)["name"] == "worker1"


def test_stepi_in_a_thread_that_is_not_running(connected):
    """`thread 1` (main, blocked at the barrier) then `stepi`: the workers run as recorded
    until main has made one instruction, and the stop is main's."""
    guest, server, g = connected("threads", "static")
    g.ok("break crunch")
    g.ok("continue")
    worker_at = g.when()
    main = next(t for t in threads(g) if t["name"] == "threads-static")
    g.ok("delete")
    g.ok(f"thread {main['id']}")
    before = g.pc()
    stop = g.ok("stepi")
    assert stop.reason == "end-stepping-range", g.dump()
    assert current(g)["name"] == "threads-static"
    assert stop.stopped["thread-id"] == main["id"]
    assert g.pc() != before
    assert g.when() > worker_at + 1                  # the others ran meanwhile, as recorded
    stop = g.ok("reverse-stepi")                     # and back: main's instruction undone
    assert current(g)["name"] == "threads-static" and g.pc() == before, g.dump()


def test_reverse_stepi_in_another_thread_while_one_stands_at_a_breakpoint(connected):
    """`thread 1` then `reverse-stepi`, the worker standing at a breakpoint: gdb first
    steps the worker back over it, then steps main back (Hc for the whole process, and
    bs): main's previous instruction is undone, and every thread's since."""
    guest, server, g = connected("threads", "static")
    g.ok("break crunch")
    g.ok("continue")
    worker_at = g.when()
    main = next(t for t in threads(g) if t["name"] == "threads-static")
    g.ok(f"thread {main['id']}")
    before = g.pc()
    stop = g.ok("reverse-stepi")
    assert current(g)["id"] == main["id"], g.dump()
    assert stop.stopped["thread-id"] == main["id"]
    assert g.pc() < before                           # the instruction before the one it resumes at
    assert g.when() < worker_at - 1
    stop = g.ok("stepi")                             # and forwards again: main's same instruction
    assert current(g)["id"] == main["id"] and g.pc() == before, g.dump()


def test_finish_and_reverse_finish_stay_in_their_thread(connected):
    """crunch() runs in both workers, interleaved by time slices: finish returns in the
    thread that called it, with its own result; reverse-step then reverse-finish go back
    into it and to its call, in the same thread."""
    guest, server, g = connected("threads", "static")
    g.ok("break crunch")
    g.ok("continue")
    me = current(g)
    worker = g.eval("id")
    g.ok("delete")
    stop = g.ok("finish")
    assert stop.reason == "function-finished", g.dump()
    assert current(g)["id"] == me["id"] and stop.func == "worker"
    assert stop.stopped.get("return-value") == {"0": "199990000", "1": "799980000"}[worker]
    stop = g.ok("reverse-step")                      # back into crunch's end
    assert current(g)["id"] == me["id"] and stop.func == "crunch", g.dump()
    stop = g.ok("reverse-finish")                    # back over its whole (interleaved) run to the call
    assert current(g)["id"] == me["id"] and stop.func == "worker", g.dump()
    assert stop.line == source_line(guest, "/* after-barrier */")
