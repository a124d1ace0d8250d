"""Build the C guest programs of tests/guests/ in the three supported flavours.

    static   gcc -static -g -O1       (glibc, statically linked)
    musl     musl-gcc -static -g -O1  (musl libc, statically linked)
    dynamic  gcc -g -O1               (glibc, dynamically linked PIE)

and, cross-built for tests/test_aarch64.py, aarch64-static and aarch64-dynamic
(aarch64-linux-gnu-gcc; the dynamic ones run with the sysroot /usr/aarch64-linux-gnu),
and for tests/test_riscv64.py riscv64-static and riscv64-dynamic (riscv64-linux-gnu-gcc).

Builds are cached by (name, flavour) in one directory per test session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

GUEST_SOURCES = Path(__file__).resolve().parent / "guests"
FLAVOURS = ("static", "musl", "dynamic")

_COMMANDS = {
    "static": ("gcc", ["-static", "-g", "-O1"]),
    "musl": ("musl-gcc", ["-static", "-g", "-O1"]),
    "dynamic": ("gcc", ["-g", "-O1", "-fPIE", "-pie"]),
    # Cross builds (not in FLAVOURS: tests/test_aarch64.py asks for them by name).
    "aarch64-static": ("aarch64-linux-gnu-gcc", ["-static", "-g", "-O1"]),
    "aarch64-dynamic": ("aarch64-linux-gnu-gcc", ["-g", "-O1", "-fPIE", "-pie"]),
    # tests/test_riscv64.py's (the dynamic ones run with the sysroot /usr/riscv64-linux-gnu).
    "riscv64-static": ("riscv64-linux-gnu-gcc", ["-static", "-g", "-O1"]),
    "riscv64-dynamic": ("riscv64-linux-gnu-gcc", ["-g", "-O1", "-fPIE", "-pie"]),
}
_LIBS = {"riscv64-static": ["-lm"], "riscv64-dynamic": ["-lm"]}   # after the source (rv_kat uses libm)


class CompilerMissing(Exception):
    """The compiler for a flavour is not installed."""


class GuestBuilder:
    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self._lock = threading.Lock()
        self._built: dict[tuple[str, ...], Path] = {}

    def compiler(self, flavour: str) -> str | None:
        return shutil.which(_COMMANDS[flavour][0])

    def build(self, name: str, flavour: str, cflags: tuple[str, ...] = ()) -> Path:
        """The path of guests/<name>.c built as `flavour` (built once), with
        `cflags` after the flavour's own flags (e.g. -march=x86-64-v2 -O2)."""
        key = (name, flavour, *cflags)
        with self._lock:
            if key in self._built:
                return self._built[key]
            cc = self.compiler(flavour)
            if cc is None:
                raise CompilerMissing(f"{_COMMANDS[flavour][0]} is not installed")
            source = GUEST_SOURCES / f"{name}.c"
            suffix = "".join(f.strip("-").replace("=", "_") for f in cflags)
            out = self.outdir / f"{name}.{flavour}{'.' + suffix if suffix else ''}"
            cmd = [cc, *_COMMANDS[flavour][1], *cflags, "-o", str(out), str(source), *_LIBS.get(flavour, ())]
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
            if proc.returncode != 0:
                raise RuntimeError(f"building {name} ({flavour}) failed:\n{' '.join(cmd)}\n{proc.stderr}")
            self._built[key] = out
            return out
