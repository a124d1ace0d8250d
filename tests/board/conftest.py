"""Fixtures for the board tests: the echo firmware built from tests/guests/board, a `ttdbg` runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Ttdbg  # noqa: E402

SOURCES = Path(__file__).resolve().parent.parent / "guests" / "board"
CC = "aarch64-linux-gnu-gcc"


def build_firmware(outdir: Path, name: str = "echo") -> Path:
    cc = shutil.which(CC)
    if cc is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CC} is not installed: CI must install gcc-aarch64-linux-gnu")
        pytest.skip(f"{CC} is not installed")
    out = outdir / f"{name}.elf"
    subprocess.run([cc, "-ffreestanding", "-nostdlib", "-static", "-mgeneral-regs-only", "-O2", "-g",
                    "-Wl,--build-id=none", "-T", str(SOURCES / "link.ld"), str(SOURCES / "start.S"),
                    str(SOURCES / f"{name}.c"), "-o", str(out)], check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_firmware(tmp_path_factory.mktemp("firmware"))


@pytest.fixture
def ttdbg(tmp_path: Path) -> Ttdbg:
    work = tmp_path / "work"
    work.mkdir()
    return Ttdbg(tmp_path / "traces", work)
