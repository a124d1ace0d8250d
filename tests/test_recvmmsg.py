"""recvmmsg (tests/guests/net_mmsg.c): datagrams on an AF_UNIX socketpair and on
UDP loopback read with one call, MSG_WAITFORONE and MSG_DONTWAIT, bad arguments;
compared with a native run, the replay with the recording."""

from __future__ import annotations

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run


@pytest.mark.parametrize("mode", ["unix", "udp", "bad"])
def test_recvmmsg(ttdbg: Ttdbg, guest, mode: str) -> None:
    program = guest("net_mmsg", "static")
    native = ttdbg.native(program, mode)
    trace, rec, rep = ttdbg.record_replay(program, mode)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    assert "warning" not in rec.err, rec.err
