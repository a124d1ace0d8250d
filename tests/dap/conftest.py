"""The DAP tests' guest (doubling.c, recorded once per session) and a scripted DAP client
that drives `python -m ttdbg dap` over its stdin and stdout, as VS Code does."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dapsupport import HERE, SOURCE, DapClient, Recorded, _record  # noqa: E402


@pytest.fixture(scope="session")
def doubling(tmp_path_factory) -> Recorded:
    return _record(str(tmp_path_factory.mktemp("dap-guest")), SOURCE)


@pytest.fixture(scope="session")
def spin(tmp_path_factory) -> Recorded:
    return _record(str(tmp_path_factory.mktemp("dap-spin")), os.path.join(HERE, "spin.c"))


@pytest.fixture
def dap_client():
    made: list[DapClient] = []

    def make(*argv: str) -> DapClient:
        c = DapClient(*argv)
        made.append(c)
        return c

    yield make
    for c in made:
        c.kill()
