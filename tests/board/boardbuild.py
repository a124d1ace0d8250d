"""Builds the board tests' firmware from tests/guests/board with the aarch64 cross compiler.

(A module of its own, not conftest.py: test modules import it, and `conftest`
is a name every test directory has.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

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
