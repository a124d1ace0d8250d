"""Positions in time as users type them, shared by the REPL and `monitor goto`.

    N        an instruction count        +N / -N   relative to here
    P%       a fraction of the trace     start / end
"""

from __future__ import annotations


def parse_position(text: str, here: int, end: int) -> int:
    """The instruction count `text` names; ValueError if it names none."""
    t = text.replace(",", "").replace("_", "").strip()
    if t in ("start", "begin", "beginning"):
        return 0
    if t == "end":
        return end
    if t.endswith("%"):
        return int(end * float(t[:-1]) / 100)
    if t.startswith(("+", "-")):
        return max(here + int(t, 0), 0)
    return int(t, 0)
