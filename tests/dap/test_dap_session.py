"""`ttdbg dap` driven by a scripted DAP client over stdio, on a recorded C guest.

The values the adapter shows are checked against what the program computed
natively (its output and exit status, and the arithmetic its source does).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from dapsupport import SOURCE, marked_line

LINE_ADD = marked_line("LINE_ADD")
LINE_CALL = marked_line("LINE_CALL")
LINE_TWICE = marked_line("LINE_TWICE")


def start(client, rec, *, breakpoints=(), functions=(), **launch):
    c = client(rec.trace)
    caps = c.ok("initialize", adapterID="ttdbg", linesStartAt1=True, columnsStartAt1=True)
    c.ok("launch", program=rec.program, **launch)
    c.wait_event("initialized")
    if breakpoints:
        body = c.ok("setBreakpoints", source={"path": SOURCE}, breakpoints=[{"line": n} for n in breakpoints])
        assert all(b["verified"] for b in body["breakpoints"]), body
    if functions:
        c.ok("setFunctionBreakpoints", breakpoints=[{"name": n} for n in functions])
    c.ok("configurationDone")
    return c, caps


def stopped(c, command: str | None = None, **arguments) -> dict:
    if command is not None:
        c.ok(command, threadId=1, **arguments)
    return c.wait_event("stopped")


def top(c) -> dict:
    return c.ok("stackTrace", threadId=1)["stackFrames"][0]


def local_values(c, frame_id: int = 1) -> dict[str, str]:
    scopes = c.ok("scopes", frameId=frame_id)["scopes"]
    ref = next(s for s in scopes if s["name"] == "Locals")["variablesReference"]
    return {v["name"]: v["value"] for v in c.ok("variables", variablesReference=ref)["variables"]}


def value(c, expr: str, frame_id: int = 1) -> str:
    return c.ok("evaluate", expression=expr, frameId=frame_id, context="watch")["result"]


def test_breakpoint_next_step_back_reverse_continue_to_the_end(doubling, dap_client):
    c, caps = start(dap_client, doubling, breakpoints=[LINE_ADD])
    assert caps["supportsStepBack"] is True and caps["supportsConfigurationDoneRequest"] is True
    ev = stopped(c)
    assert ev["reason"] == "breakpoint" and ev["hitBreakpointIds"] == [1]
    assert "icount" in ev["description"]
    frame = top(c)
    assert frame["name"] == "main" and frame["line"] == LINE_ADD and frame["source"]["path"] == SOURCE
    first = c.ok("evaluate", expression="ttdbg/when", context="watch")["result"]
    assert local_values(c) == {"total": "0", "i": "1", "d": "2"}      # twice(1), as the program computes
    assert stopped(c, "next")["reason"] == "step"
    assert top(c)["line"] == LINE_ADD + 1
    assert stopped(c, "stepBack")["reason"] == "step"
    assert top(c)["line"] == LINE_ADD
    assert c.ok("evaluate", expression="ttdbg/when", context="watch")["result"] == first
    assert stopped(c, "continue")["reason"] == "breakpoint"
    assert local_values(c) == {"total": "2", "i": "2", "d": "4"}
    ev = stopped(c, "reverseContinue")
    assert ev["reason"] == "breakpoint" and ev["hitBreakpointIds"] == [1]
    assert local_values(c)["d"] == "2" and c.ok("evaluate", expression="ttdbg/when")["result"] == first
    for k in (2, 3):
        stopped(c, "continue")
        assert value(c, "d") == str(2 * k)
    c.ok("continue", threadId=1)
    assert c.wait_event("exited")["exitCode"] == doubling.native_status == 0
    c.wait_event("terminated")
    assert c.output("stdout") == doubling.native_stdout == "total 12\n"    # once, though replayed 4 times
    c.ok("disconnect")
    assert c.finish() == 0


def test_entry_function_breakpoint_call_stack_step_in_and_out(doubling, dap_client):
    c, _ = start(dap_client, doubling, stopOnEntry=True)
    ev = stopped(c)
    assert ev["reason"] == "entry" and "icount 0 of" in ev["description"]
    body = c.ok("setFunctionBreakpoints", breakpoints=[{"name": "twice"}, {"name": "no_such_function"}])
    assert [b["verified"] for b in body["breakpoints"]] == [True, False]
    assert body["breakpoints"][0]["line"] == LINE_TWICE and "not defined" in body["breakpoints"][1]["message"]
    assert stopped(c, "continue")["reason"] == "function breakpoint"
    frames = c.ok("stackTrace", threadId=1)["stackFrames"]
    assert [(f["name"], f["line"]) for f in frames[:2]] == [("twice", LINE_TWICE), ("main", LINE_CALL)]
    assert value(c, "x") == "1" and value(c, "i", frame_id=2) == "1"
    assert local_values(c, frame_id=2)["total"] == "0"
    stopped(c, "stepOut")
    assert top(c)["name"] == "main" and value(c, "$rax") == "2"            # twice(1)'s return value
    body = c.ok("setBreakpoints", source={"path": SOURCE}, breakpoints=[{"line": LINE_CALL}])
    call = body["breakpoints"][0]["id"]
    assert stopped(c, "continue")["hitBreakpointIds"] == [call]             # the call of twice(2)
    c.ok("setFunctionBreakpoints", breakpoints=[])
    assert stopped(c, "stepIn")["reason"] == "step"
    assert top(c)["name"] == "twice" and value(c, "x") == "2"
    before = c.ok("ttdbg/when")["icount"]
    stopped(c, "stepIn", granularity="instruction")
    assert c.ok("ttdbg/when")["icount"] == before + 1
    stopped(c, "stepBack", granularity="instruction")
    assert c.ok("ttdbg/when")["icount"] == before
    c.ok("setBreakpoints", source={"path": SOURCE}, breakpoints=[])
    c.ok("setFunctionBreakpoints", breakpoints=[{"name": "twice"}])
    ev = stopped(c, "reverseContinue")                                     # back to twice(1)'s breakpoint
    assert ev["reason"] == "function breakpoint" and value(c, "x") == "1"
    c.ok("setFunctionBreakpoints", breakpoints=[])
    assert stopped(c, "reverseContinue")["reason"] == "entry"              # the start of the history
    assert c.ok("ttdbg/when")["icount"] == 0
    c.ok("disconnect")
    assert c.finish() == 0


def test_data_breakpoint_globals_and_children(doubling, dap_client):
    c, _ = start(dap_client, doubling, breakpoints=[LINE_CALL])
    stopped(c)
    scopes = c.ok("scopes", frameId=1)["scopes"]
    ref = next(s for s in scopes if s["name"] == "Globals")["variablesReference"]
    glob = {v["name"]: v for v in c.ok("variables", variablesReference=ref)["variables"]}
    assert glob["history"]["value"] == "{0, 0, 0}" and glob["history"]["variablesReference"] > 0
    info = c.ok("dataBreakpointInfo", variablesReference=ref, name="stats")
    assert info["dataId"] and "write" in info["accessTypes"]
    member = c.ok("variables", variablesReference=glob["stats"]["variablesReference"])["variables"]
    assert [(v["name"], v["value"]) for v in member] == [("last", "0"), ("sum", "0")]
    info = c.ok("dataBreakpointInfo", variablesReference=glob["stats"]["variablesReference"], name="sum")
    c.ok("setBreakpoints", source={"path": SOURCE}, breakpoints=[])
    body = c.ok("setDataBreakpoints", breakpoints=[{"dataId": info["dataId"], "accessType": "write"}])
    assert body["breakpoints"][0]["verified"]
    for total in (2, 6):
        ev = stopped(c, "continue")
        assert ev["reason"] == "data breakpoint"
        assert value(c, "stats.sum") == str(total) == value(c, "total")
    assert "Old value = 2\nNew value = 6" in c.output("console")
    ev = stopped(c, "reverseContinue")                  # back to the write of 6: sum was 2 before it
    assert ev["reason"] == "data breakpoint" and value(c, "stats.sum") == "2"
    expanded = c.ok("evaluate", expression="history", frameId=1, context="watch")
    items = c.ok("variables", variablesReference=expanded["variablesReference"])["variables"]
    assert [v["value"] for v in items] == ["2", "4", "0"]
    memory = c.ok("readMemory", memoryReference=items[1]["memoryReference"], count=4)
    assert memory["data"] == "BAAAAA==" and memory["unreadableBytes"] == 0       # 4, little-endian
    c.ok("disconnect")
    assert c.finish() == 0


def test_debug_console_restart_and_stop_at_end(doubling, dap_client):
    c, _ = start(dap_client, doubling, breakpoints=[LINE_ADD], stopAtEnd=True)
    stopped(c)
    first = c.ok("ttdbg/when")["icount"]
    out = c.ok("evaluate", expression="-exec goto 10", context="repl")
    assert c.wait_event("stopped")["reason"] == "goto" and c.ok("ttdbg/when")["icount"] == 10
    assert "icount 10" in out["result"]
    assert "Current instruction: 10 of" in c.ok("evaluate", expression="-exec when", context="repl")["result"]
    c.ok("ttdbg/goto", position="end")
    assert c.wait_event("stopped")["reason"] == "goto"
    c.ok("continue", threadId=1)                           # at the end: stopAtEnd keeps the session
    ev = c.wait_event("stopped")
    assert ev["reason"] == "exception" and "End of the recorded history" in ev["description"]
    assert stopped(c, "reverseContinue")["reason"] == "breakpoint" and value(c, "d") == "6"
    assert stopped(c, "restart")["reason"] == "breakpoint"
    assert c.ok("ttdbg/when")["icount"] == first
    c.ok("disconnect")
    assert c.finish() == 0


def test_pause_stops_a_running_continue(spin, dap_client):
    c, _ = start(dap_client, spin, stopOnEntry=True)
    stopped(c)
    c.ok("continue", threadId=1)
    c.ok("pause", threadId=1)                              # answered at once, while the motion runs
    ev = c.wait_event("stopped")
    when = c.ok("ttdbg/when")
    assert ev["reason"] == "pause" and 0 < when["icount"] < when["total"]
    assert top(c)["instructionPointerReference"] == f"{when['pc']:#x}"
    c.ok("continue", threadId=1)
    assert c.wait_event("exited")["exitCode"] == spin.native_status
    assert c.output("stdout") == spin.native_stdout
    c.ok("disconnect")
    assert c.finish() == 0


def _objdump(program: str) -> dict[int, str]:
    """address -> the instruction's bytes (hex, spaced), as binutils decodes the file."""
    text = subprocess.run(["objdump", "-d", program], capture_output=True, text=True, check=True).stdout
    return {int(m.group(1), 16): m.group(2).strip() for m in
            re.finditer(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t", text, re.M)}


def test_disassemble_around_the_pc_both_ways_matches_objdump(doubling, dap_client):
    if shutil.which("objdump") is None:
        pytest.skip("objdump is needed to check the disassembly")
    c, caps = start(dap_client, doubling, functions=["twice"])
    assert caps["supportsDisassembleRequest"] is True
    stopped(c)
    pc = top(c)["instructionPointerReference"]
    rows = c.ok("disassemble", memoryReference=pc, instructionOffset=-6, instructionCount=10)["instructions"]
    assert len(rows) == 10 and rows[6]["address"] == pc
    assert all("invalid" not in r.get("presentationHint", "") for r in rows)
    native = _objdump(doubling.program)
    entry = next(r for r in rows if r.get("symbol") == "twice")
    bias = int(entry["address"], 16) - _symbols(doubling.program)["twice"]      # the PIE load address
    for r in rows:
        assert native[int(r["address"], 16) - bias] == r["instructionBytes"], r
    assert entry["line"] == LINE_TWICE - 1 and entry["location"]["path"] == SOURCE
    far = c.ok("disassemble", memoryReference="0x10", instructionCount=3)["instructions"]
    assert [r["presentationHint"] for r in far] == ["invalid"] * 3          # unmapped: still 3 rows
    c.ok("disconnect")
    assert c.finish() == 0


def _symbols(program: str) -> dict[str, int]:
    text = subprocess.run(["nm", program], capture_output=True, text=True, check=True).stdout
    return {n: int(a, 16) for a, _, n in (line.split(" ", 2) for line in text.splitlines() if line[:1] != " ")}
