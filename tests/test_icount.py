"""The C counter's boundary with Python (replay/_icount.c, replay/icount.py).

icount.py mirrors `struct tt_counter` by hand; the C side exports its size
and field offsets and a mismatch must stop ttdbg with a clear error instead
of corrupting the instruction count.
"""

from __future__ import annotations

import ctypes

import pytest

from replay.errors import ReplayError
from replay.icount import CounterState, _check_layout, library


def test_the_built_counter_matches_its_mirror() -> None:
    _check_layout(library(), CounterState)


def _variant(fields: list[tuple[str, type]]) -> type[ctypes.Structure]:
    return type("Variant", (ctypes.Structure,), {"_fields_": fields})


@pytest.mark.parametrize("change", ["drop the last field", "widen a field", "swap two fields"])
def test_a_mismatched_mirror_is_refused(change: str) -> None:
    fields = list(CounterState._fields_)
    if change == "drop the last field":
        fields = fields[:-1]
    elif change == "widen a field":
        i = next(i for i, (name, _) in enumerate(fields) if name == "block_size")
        fields[i] = ("block_size", ctypes.c_uint64)
    else:
        fields[0], fields[1] = fields[1], fields[0]
        fields[5], fields[6] = fields[6], fields[5]   # block_addr (8 bytes) after block_size (4)
    with pytest.raises(ReplayError, match="does not match"):
        _check_layout(library(), _variant(fields))
