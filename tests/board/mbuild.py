"""Builds the Cortex-M firmware of tests/guests/board_m with arm-none-eabi-gcc (Debian's gcc-arm-none-eabi)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCES = Path(__file__).resolve().parent.parent / "guests" / "board_m"
CC = "arm-none-eabi-gcc"
FLAGS = ["-mcpu=cortex-m3", "-mthumb", "-ffreestanding", "-nostdlib", "-O2", "-g", "-Wl,--build-id=none"]


def build_m_firmware(outdir: Path, name: str, *extra: str) -> Path:
    """start.c + NAME.c (+ extra sources), linked with link.ld."""
    cc = shutil.which(CC)
    if cc is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CC} is not installed: CI must install gcc-arm-none-eabi")
        pytest.skip(f"{CC} is not installed")
    out = outdir / f"m_{name}.elf"
    if not out.exists():
        subprocess.run([cc, *FLAGS, "-T", str(SOURCES / "link.ld"), str(SOURCES / "start.c"),
                        str(SOURCES / f"{name}.c"), *(str(SOURCES / e) for e in extra), "-o", str(out)],
                       check=True, capture_output=True)
    return out
