"""How Unicorn calls a UC_HOOK_BLOCK callback, which the counter's speed rests on.

Unicorn 2.1 calls a lone block hook directly from the translated block; with
two or more, every block calls helper_uc_tracecode, which walks the hook
list.  benchmarks/bench_counter.py measured the difference (x86-64 host,
alu guest): an empty hook 1.2 ns a block inline against 9.4 through the
helper, and the counter 2 ns against 10.6.  So the counter must stay the
Machine's only block hook.

A probe callback (C, compiled here) records its return address: inside
libunicorn means helper_uc_tracecode called it, in no shared object means
translated code did.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest
from unicorn import UC_ARCH_X86, UC_HOOK_BLOCK, UC_MODE_64, UC_PROT_ALL, Uc
from unicorn.unicorn_py3 import unicorn as _ucmod

from replay.arch import AARCH64, X86_64
from replay.machine import Machine

PROBE_C = r"""
#include <stdint.h>
uint64_t probe_return, probe_calls;
void probe_hook(void *uc, uint64_t addr, uint32_t size, void *user)
{
    (void)uc; (void)addr; (void)size; (void)user;
    probe_return = (uint64_t)__builtin_return_address(0);
    probe_calls++;
}
"""

# A loop of 100 rounds: x86-64 `mov $100, %ecx; l: dec %ecx; jnz l`,
# aarch64 `mov x1, #100; l: subs x1, x1, #1; b.ne l`.
LOOPS = {"x86_64": bytes.fromhex("b964000000ffc975fc"),
         "aarch64": bytes.fromhex("810c80d2210400f1e1ffff54")}
BASE = 0x10000


class DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    if not shutil.which("gcc"):
        pytest.skip("gcc is not installed")
    d = tmp_path_factory.mktemp("probe")
    (d / "probe.c").write_text(PROBE_C)
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(d / "probe.so"), str(d / "probe.c")], check=True)
    return ctypes.CDLL(str(d / "probe.so"))


def add_probe(uc: Uc, probe: ctypes.CDLL) -> None:
    h = ctypes.c_size_t()
    err = _ucmod.uclib.uc_hook_add(uc._uch, ctypes.byref(h), UC_HOOK_BLOCK,
                                   ctypes.cast(probe.probe_hook, ctypes.c_void_p), None,
                                   ctypes.c_uint64(1), ctypes.c_uint64(0))
    assert err == 0


def caller(probe: ctypes.CDLL) -> str:
    """The shared object the probe's last call came from ('' for translated code)."""
    assert ctypes.c_uint64.in_dll(probe, "probe_calls").value >= 100
    info = DlInfo()
    ret = ctypes.c_uint64.in_dll(probe, "probe_return").value
    if not ctypes.CDLL(None).dladdr(ctypes.c_void_p(ret), ctypes.byref(info)):
        return ""
    return Path(info.dli_fname.decode()).name


def run_loop(uc: Uc, arch: str) -> None:
    uc.mem_write(BASE, LOOPS[arch])
    uc.emu_start(BASE, BASE + len(LOOPS[arch]))


def reset(probe: ctypes.CDLL) -> None:
    ctypes.c_uint64.in_dll(probe, "probe_calls").value = 0


@pytest.mark.parametrize("hooks", [1, 2])
def test_a_lone_block_hook_is_called_from_translated_code(probe: ctypes.CDLL, hooks: int) -> None:
    reset(probe)
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(BASE, 0x1000, UC_PROT_ALL)
    for _ in range(hooks):
        add_probe(uc, probe)
    run_loop(uc, "x86_64")
    if hooks == 1:
        assert caller(probe) == ""
    else:
        assert caller(probe).startswith("libunicorn")


@pytest.mark.parametrize("arch", [X86_64, AARCH64], ids=lambda a: a.name)
def test_the_counter_is_the_machines_only_block_hook(probe: ctypes.CDLL, arch) -> None:
    """With the counter's hook removed, a probe is alone: called inline."""
    reset(probe)
    machine = Machine(arch)
    machine.uc.mem_map(BASE, 0x1000, UC_PROT_ALL)
    machine.remove_counter_for_baseline()
    add_probe(machine.uc, probe)
    run_loop(machine.uc, arch.name)
    assert caller(probe) == ""
