"""`ttdbg replay -a --stats` says what the replay verified, also on a trace too short for a state hash."""

from __future__ import annotations

import re

from harness import Ttdbg

EVENT_LINE = re.compile(r"^\s*[\d,]+ #\d+\s+[A-Z_]+\b")


def dump_events(ttdbg: Ttdbg, trace, *args: str) -> list[str]:
    run = ttdbg("dump", *args, trace)
    assert run.status == 0, run.err
    return [line for line in run.out.splitlines() if EVENT_LINE.match(line)]


def test_stats_say_what_was_verified(guest, ttdbg):
    program = guest("hello")
    trace, _ = ttdbg.record(program)
    events = len(dump_events(ttdbg, trace))
    line = ttdbg.replay(trace, "--stats").err.strip().splitlines()[-1]
    m = re.fullmatch(r"ttdbg: replayed ([\d,]+) instructions and all ([\d,]+) recorded events without divergence; "
                     r"the run was too short for a state hash \(one every 268,435,456 instructions\)", line)
    assert m, line
    assert int(m.group(2).replace(",", "")) == events

    trace = ttdbg.new_trace()
    assert ttdbg("record", "-q", "--checkpoint-interval", "5000", "-o", trace, program).status == 0
    state_hashes = dump_events(ttdbg, trace, "--kind", "state_hash")
    assert dump_events(ttdbg, trace, "--kind", "checkpoint") == state_hashes     # the kind's former name
    assert all(line.split()[2] == "STATE_HASH" for line in state_hashes)
    hashes = len(state_hashes)
    assert hashes > 1
    line = ttdbg.replay(trace, "--stats").err.strip().splitlines()[-1]
    assert line.endswith(f"; {hashes:,} state hashes verified"), line
