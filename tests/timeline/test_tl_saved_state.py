"""Saved state as an interface: the process (its machine and its kernel) saves and restores itself.

The timeline's checkpoints are built from these values only; here they are
used on a plain Replay and compared with straight replays (`reference`).
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from replay.checkpoint import Checkpoint


def _state(rp):
    m = rp.process.machine
    return m.icount, m.state_hash(), tuple(m.reg(r) for r in ("rip", "rsp", "rax"))


def _ref(work, n: int):
    ref = work.reference(n)
    return ref.icount, ref.digest, ref.regs


def test_restore_returns_to_the_saved_state_as_often_as_asked(work) -> None:
    rp = work.replay()
    try:
        p = rp.process
        first = rp.hostio.events[0].icount
        rp.run(limit=first + 1_000)
        early, early_cursor = p.save(), rp.hostio.cursor()
        early_kernel = copy.deepcopy(p.kernel.state)     # (its threads are mutable values of their own)
        rp.run(limit=3_000_000)
        late, late_cursor = p.save(), rp.hostio.cursor()
        assert p.kernel.state != early_kernel            # the program moved its break, at least
        for saved, cursor, n in ((early, early_cursor, first + 1_000), (late, late_cursor, 3_000_000),
                                 (early, early_cursor, first + 1_000)):
            p.restore(saved)
            rp.hostio.set_cursor(cursor)
            assert _state(rp) == _ref(work, n)
            assert saved.icount == n and saved.machine.icount == n
        assert p.kernel.state == early_kernel
        assert p.kernel.state is not early.kernel.state   # restoring copies: the saved value stays as it was
        rp.run(limit=4_000_000)                           # and replaying on from a restored state is exact
        assert _state(rp) == _ref(work, 4_000_000)
        p.restore(early)
        rp.hostio.set_cursor(early_cursor)
        assert _state(rp) == _ref(work, first + 1_000)
    finally:
        rp.close()


def test_a_checkpoint_is_a_value(work) -> None:
    rp = work.replay()
    try:
        rp.run(limit=500_000)
        cp = Checkpoint(rp.process.icount, rp.process.save(), rp.hostio.cursor())
        with pytest.raises(dataclasses.FrozenInstanceError):
            cp.icount = 0  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            cp.process.machine.memory.new_bytes = 0  # type: ignore[misc]
        assert not cp.held
        assert cp.cost > cp.process.machine.memory.new_bytes > 0
        assert cp.resident_bytes > 0
    finally:
        rp.close()
