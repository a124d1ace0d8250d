"""Edge-triggered epoll (tests/guests/epoll_et.c): a pipe, a socketpair and an
eventfd registered with EPOLLET are reported once per readiness edge, as on
Linux (record == native), and the replay decides the same (replay == record)."""

from __future__ import annotations

from harness import Ttdbg
from test_record_replay import assert_same_run


def test_epoll_edge_triggered(ttdbg: Ttdbg, guest, flavour: str) -> None:
    program = guest("epoll_et", flavour)
    native = ttdbg.native(program)
    assert native.status == 0, native.out
    assert "pipe again (no edge):              0" in native.out, native.out
    trace, rec = ttdbg.record(program)
    assert_same_run(rec, native, "record vs native")
    assert "ttdbg:" not in rec.err
    rep = ttdbg.replay(trace)
    assert_same_run(rep, rec, "replay vs record")
