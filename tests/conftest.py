"""Fixtures for the record/replay tests: guest builds and a `ttdbg` runner.

`guest(name, flavour)` builds tests/guests/<name>.c (cached per session).
`ttdbg` runs the command line as a subprocess with $TTDBG_TRACE_DIR in a
per-test temporary directory, and records and replays in one call.
musl-gcc missing skips the musl flavour locally but fails under CI ($CI set).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from guestbuild import FLAVOURS, CompilerMissing, GuestBuilder  # noqa: E402
from harness import Ttdbg  # noqa: E402


@pytest.fixture(scope="session")
def builder(tmp_path_factory: pytest.TempPathFactory) -> GuestBuilder:
    return GuestBuilder(tmp_path_factory.mktemp("guests"))


@pytest.fixture(scope="session")
def guest(builder: GuestBuilder) -> Callable[[str, str], Path]:
    def build(name: str, flavour: str = "static") -> Path:
        try:
            return builder.build(name, flavour)
        except CompilerMissing as exc:
            if os.environ.get("CI"):
                pytest.fail(f"{exc}: CI must install it (apt-get install musl-tools)")
            pytest.skip(str(exc))
    return build


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ttdbg(tmp_path: Path) -> Ttdbg:
    work = tmp_path / "work"
    work.mkdir()
    return Ttdbg(tmp_path / "traces", work)
