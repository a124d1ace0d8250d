"""Each query kind against the guest's own account of what it did (query_guest.c)."""

from __future__ import annotations

import json
import re

from query_support import ITERATIONS, QueryTrace


def _query(r: QueryTrace, *words: str) -> list[dict]:
    run = r.ttdbg("query", r.trace, *words, "--json")
    assert run.status == 0, run.err
    assert re.search(r"\d+ hits", run.err), run.err
    return [json.loads(line) for line in run.out.splitlines() if line.strip()]


def _printed(r: QueryTrace, word: str) -> list[list[str]]:
    return [line.split()[1:] for line in r.stdout.splitlines() if line.startswith(word + " ")]


def _signed(text: str) -> int:
    return int(text)


def test_writes_match_what_the_program_printed(recorded: QueryTrace) -> None:
    rows = _query(recorded, "writes", "watched")
    printed = [int(w[0]) for w in _printed(recorded, "write")]
    assert len(printed) == ITERATIONS
    assert [int(r["new"]) for r in rows] == printed
    assert [int(r["old"]) for r in rows] == [0, *printed[:-1]]
    assert all(r["size"] == 8 and r["access"] == "write" for r in rows)
    line = recorded.line_of("QUERY-WRITE-LINE")
    assert all(r["function"] == "main" and r["file"] == "query_guest.c" and r["line"] == line for r in rows)
    assert [r["icount"] for r in rows] == sorted(r["icount"] for r in rows)


def test_reads_see_the_values_the_program_printed(recorded: QueryTrace) -> None:
    rows = _query(recorded, "reads", "watched")
    printed = [int(w[0]) for w in _printed(recorded, "write")]
    assert [int(r["value"]) for r in rows] == printed


def test_calls_have_the_arguments_and_results_the_program_printed(recorded: QueryTrace) -> None:
    rows = _query(recorded, "calls", "add")
    printed = [(int(a), int(b), int(c)) for a, b, _arrow, c in _printed(recorded, "call")]
    assert [(r["args"][0], r["args"][1], r["return"]) for r in rows] == printed
    assert all(r["return_icount"] > r["icount"] for r in rows)
    assert all(r["caller"].startswith("query_guest.c:") for r in rows)


def test_exec_and_lines_count_the_loop(recorded: QueryTrace) -> None:
    assert len(_query(recorded, "exec", "add")) == ITERATIONS
    line = recorded.line_of("QUERY-ADD-RETURN")
    rows = _query(recorded, "lines", f"query_guest.c:{line}")
    assert len(rows) == ITERATIONS
    assert all(r["line"] == line for r in rows)


def test_values_at_a_location(recorded: QueryTrace) -> None:
    rows = _query(recorded, "values", "watched", "at", "add")
    assert [int(r["value"]) for r in rows] == [int(w[0]) for w in _printed(recorded, "write")]
    rows = _query(recorded, "values", "$rsi", "at", "add")
    assert [int(r["value"]) for r in rows] == list(range(ITERATIONS))


def test_syscalls_and_events_agree_with_the_log(recorded: QueryTrace) -> None:
    dump = recorded.ttdbg("dump", recorded.trace, "--kind", "char_write")
    writes = [line for line in dump.out.splitlines() if "CHAR_WRITE" in line]
    rows = _query(recorded, "syscalls", "write")
    assert len(rows) == len(writes) > 0
    assert [r["icount"] for r in rows] == [int(line.split()[0].replace(",", "")) for line in writes]
    events = _query(recorded, "events")
    full = recorded.ttdbg("dump", recorded.trace)
    assert len(events) == len([line for line in full.out.splitlines() if "#" in line])


def test_from_to_bound_the_scan(recorded: QueryTrace) -> None:
    rows = _query(recorded, "writes", "watched")
    lo, hi = rows[10]["icount"], rows[20]["icount"]
    part = _query(recorded, "writes", "watched", "--from", str(lo), "--to", str(hi))
    assert part == [{**r, "index": i} for i, r in enumerate(rows[10:20], 1)]


def test_one_and_two_workers_give_the_same_answer(recorded: QueryTrace) -> None:
    for words in (("writes", "watched"), ("calls", "add")):
        one = recorded.ttdbg("query", recorded.trace, *words, "--json", "--jobs", "1")
        two = recorded.ttdbg("query", recorded.trace, *words, "--json", "--jobs", "2")
        assert one.status == two.status == 0, two.err
        assert one.out == two.out and one.out
        assert "by 2 workers" in two.err and "by 1 worker " in one.err


def test_human_table_numbers_hits(recorded: QueryTrace) -> None:
    run = recorded.ttdbg("query", recorded.trace, "writes", "watched")
    lines = run.out.splitlines()
    assert len(lines) == ITERATIONS
    assert lines[0].startswith("#1 ") and lines[-1].startswith(f"#{ITERATIONS} ")
    assert "main at query_guest.c:" in lines[0] and "new=1" in lines[0]


def test_bad_questions_get_one_line(recorded: QueryTrace) -> None:
    for words, status in ((("frobnicate",), 2), (("writes", "no_such_var"), 2), (("calls",), 2),
                          (("writes", "watched", "--jobs", "0"), 2)):
        run = recorded.ttdbg("query", recorded.trace, *words)
        assert run.status == status, (words, run.err)
        assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err, run.err


def test_writes_by_a_system_call_are_listed(recorded: QueryTrace) -> None:
    rows = _query(recorded, "writes", "inbuf:8")
    assert len(rows) == 1 and rows[0]["access"] == "syscall" and rows[0]["syscall"] == "read"
    assert bytes.fromhex(rows[0]["new"]).rstrip(b"\0") == b"hello" and rows[0]["size"] == 5
    assert "read 5 hello" in recorded.stdout


def test_values_of_locals_and_parameters(recorded: QueryTrace) -> None:
    # -O1: a and b live in rdi/rsi, main's i and before in registers a DWARF location list names.
    calls = [(int(a), int(b)) for a, b, _arrow, _c in _printed(recorded, "call")]
    assert [int(r["value"]) for r in _query(recorded, "values", "a", "at", "add")] == [a for a, _ in calls]
    assert [int(r["value"]) for r in _query(recorded, "values", "b", "at", "add")] == [b for _, b in calls]
    line = f"query_guest.c:{recorded.line_of('QUERY-CALL-LINE')}"
    assert [int(r["value"]) for r in _query(recorded, "values", "i", "at", line)] == list(range(ITERATIONS))
    assert [int(r["value"]) for r in _query(recorded, "values", "before", "at", line)] == [a for a, _ in calls]


def test_calls_name_and_type_the_parameters(recorded: QueryTrace) -> None:
    rows = _query(recorded, "calls", "add")
    printed = [(int(a), int(b)) for a, b, _arrow, _c in _printed(recorded, "call")]
    assert [r["params"] for r in rows] == [[{"name": "a", "type": "long int", "value": a},
                                            {"name": "b", "type": "long int", "value": b}] for a, b in printed]
    table = recorded.ttdbg("query", recorded.trace, "calls", "add").out.splitlines()
    assert "(a=1, b=0)" in table[0] and "return=3" in table[0]
