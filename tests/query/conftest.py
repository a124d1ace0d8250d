"""Fixtures for the query tests: query_guest recorded once per flavour (static, dynamic)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from guestbuild import CompilerMissing, GuestBuilder  # noqa: E402
from harness import Ttdbg  # noqa: E402
from query_support import ITERATIONS, QueryTrace  # noqa: E402,F401


@pytest.fixture(scope="session")
def qbuilder(tmp_path_factory: pytest.TempPathFactory) -> GuestBuilder:
    return GuestBuilder(tmp_path_factory.mktemp("qguests"))


@pytest.fixture(scope="module", params=("static", "dynamic"))
def recorded(request: pytest.FixtureRequest, qbuilder: GuestBuilder,
             tmp_path_factory: pytest.TempPathFactory) -> QueryTrace:
    try:
        program = qbuilder.build("query_guest", request.param)
    except CompilerMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    base = tmp_path_factory.mktemp(f"q-{request.param}")
    (base / "work").mkdir()
    t = Ttdbg(base / "traces", base / "work")
    trace, run = t.record(program, str(ITERATIONS), stdin=b"hello")
    assert run.status == 0, run.err
    return QueryTrace(t, trace, run.out, request.param)
