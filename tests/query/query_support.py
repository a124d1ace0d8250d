"""What the query tests share: the recorded guest and its account of itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness import Ttdbg

ITERATIONS = 80
SOURCE = Path(__file__).resolve().parents[1] / "guests" / "query_guest.c"


@dataclass(frozen=True)
class QueryTrace:
    ttdbg: Ttdbg
    trace: Path
    stdout: str
    flavour: str

    def line_of(self, marker: str) -> int:
        for n, text in enumerate(SOURCE.read_text().splitlines(), 1):
            if marker in text:
                return n
        raise AssertionError(marker)
