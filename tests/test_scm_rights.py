"""SCM_RIGHTS between tasks of the recording (tests/guests/scm_rights.c): a
parent sends a file's and a pipe's fds to its forked child over a socketpair,
the child uses them; within one process, MSG_CTRUNC when the room is too small,
EBADF for a bad fd.  Compared with a native run, the replay with the record."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run


@pytest.mark.parametrize("mode", ["fork", "self"])
def test_scm_rights(ttdbg: Ttdbg, guest, mode: str, tmp_path: Path) -> None:
    program = guest("scm_rights", "static")
    data = tmp_path / "data.txt"
    data.write_text("hello from a file\n")
    native = ttdbg.native(program, mode, str(data))
    trace, rec, rep = ttdbg.record_replay(program, mode, str(data))
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    assert "warning" not in rec.err, rec.err
    if mode == "fork":
        assert "the file says: hello from a file" in rec.out, rec.out
