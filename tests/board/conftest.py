"""Fixtures for the board tests: the echo firmware built from tests/guests/board, a `ttdbg` runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from boardbuild import build_firmware  # noqa: E402
from harness import Ttdbg  # noqa: E402


@pytest.fixture(scope="session")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_firmware(tmp_path_factory.mktemp("firmware"))


@pytest.fixture
def ttdbg(tmp_path: Path) -> Ttdbg:
    work = tmp_path / "work"
    work.mkdir()
    return Ttdbg(tmp_path / "traces", work)
