"""The REPL words every stop the engine can make, in one table (stops.REASONS)."""

from __future__ import annotations

from replay import StopReason
from ttdbg.repl.stops import REASONS


def test_every_stop_reason_but_arriving_has_its_words() -> None:
    # ARRIVED (a motion did what was asked) needs no words: the place is shown.
    assert set(REASONS) == set(StopReason) - {StopReason.ARRIVED}
