"""What the tests of another architecture's Linux programs share: the cross tools
(compiler, assembler, sysroot, qemu-user) of one architecture, skipping (or, under
CI, failing) when one is missing, building guests with them, and running a guest
under qemu-user to compare with.

(A module of its own, not conftest.py: test modules import it.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from guestbuild import CompilerMissing, GuestBuilder
from harness import Run, Ttdbg, _run

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CrossBuild:
    """A cross-built program and its recording (what the REPL's make_repl takes)."""
    program: str
    trace: str
    linking: str          # "static" or "dynamic"


@dataclass(frozen=True)
class CrossTools:
    arch: str            # "aarch64": the flavours are ARCH-static and ARCH-dynamic
    libc_package: str    # Debian's package of the sysroot
    install: str         # what to apt-get install for all of it

    @property
    def qemu(self) -> str | None:
        return shutil.which(f"qemu-{self.arch}")

    @property
    def sysroot(self) -> str:
        return f"/usr/{self.arch}-linux-gnu"

    @property
    def links(self) -> tuple[str, str]:
        return (f"{self.arch}-static", f"{self.arch}-dynamic")

    @property
    def cc(self) -> str | None:
        return shutil.which(f"{self.arch}-linux-gnu-gcc")

    @property
    def assembler(self) -> str | None:
        return shutil.which(f"{self.arch}-linux-gnu-as")

    def need(self, tool: str | None, what: str) -> None:
        if tool is None:
            if os.environ.get("CI"):
                pytest.fail(f"{what} is not installed: CI must install it (see .ci/run)")
            pytest.skip(f"{what} is not installed (apt-get install {self.install})")

    def builder(self, builder: GuestBuilder) -> Callable[..., Path]:
        """A guest builder for this architecture: build(NAME, FLAVOUR=ARCH-static)."""
        self.need(self.qemu, f"qemu-{self.arch}")

        def build(name: str, flavour: str = f"{self.arch}-static") -> Path:
            if flavour.endswith("-dynamic") and not os.path.isdir(self.sysroot):
                self.need(None, self.libc_package)
            try:
                return builder.build(name, flavour)
            except CompilerMissing:
                self.need(None, f"{self.arch}-linux-gnu-gcc")
                raise
        return build

    def run(self, ttdbg: Ttdbg, program: Path, *args: str, stdin: bytes | None = None) -> Run:
        """The program under qemu-user, with the sysroot for its libraries."""
        return _run([str(self.qemu), "-L", self.sysroot, str(program), *args], stdin=stdin, env=ttdbg.env,
                    cwd=ttdbg.workdir)

    def fixture(self) -> Callable[..., Callable[..., Path]]:
        """A test module's fixture giving `builder` for this architecture (ARCH = TOOLS.fixture())."""

        @pytest.fixture
        def build(builder: GuestBuilder) -> Callable[..., Path]:
            return self.builder(builder)

        return build

    def build_and_record(self, source: str, program: Path, linking: str = "dynamic",
                         timeout: float = 300) -> CrossBuild:
        """`source` cross-built with gcc -g -O0 (-static for "static") to `program`, and
        recorded into PROGRAM-trace (skips without the compiler; under CI, fails)."""
        self.need(self.cc, f"{self.arch}-linux-gnu-gcc")
        if linking == "dynamic" and not os.path.isdir(self.sysroot):
            self.need(None, self.libc_package)
        subprocess.run([str(self.cc), "-g", "-O0", *(["-static"] if linking == "static" else []),
                        "-o", str(program), source], check=True, timeout=120)
        trace = f"{program}-trace"
        subprocess.run([sys.executable, "-m", "ttdbg", "record", "-q", "-o", trace, str(program)],
                       check=True, cwd=REPO, stdout=subprocess.DEVNULL, timeout=timeout)
        return CrossBuild(str(program), trace, linking)

    def assemble(self, source: str, workdir: Path, *flags: str) -> bytes:
        """The .text bytes of assembly `source` (skips without the cross assembler)."""
        self.need(self.assembler, f"{self.arch}-linux-gnu-as")
        src, obj, raw = workdir / "code.s", workdir / "code.o", workdir / "code.bin"
        src.write_text(source)
        subprocess.run([str(self.assembler), *flags, "-o", str(obj), str(src)], check=True)
        subprocess.run([f"{self.arch}-linux-gnu-objcopy", "-O", "binary", "-j", ".text", str(obj), str(raw)],
                       check=True)
        return raw.read_bytes()


AARCH64_TOOLS = CrossTools("aarch64", "libc6-dev-arm64-cross", "gcc-aarch64-linux-gnu qemu-user")
RISCV64_TOOLS = CrossTools("riscv64", "libc6-dev-riscv64-cross",
                           "gcc-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user")


def same(a: Run, b: Run, what: str) -> None:
    assert (a.status, a.stdout, a.err) == (b.status, b.stdout, b.err), what
