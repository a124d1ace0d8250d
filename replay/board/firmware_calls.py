"""Calls firmware makes to the machine it runs on: PSCI (hvc/smc) and Arm semihosting (hlt #0xf000).

PSCI (Arm DEN 0022): SYSTEM_OFF and SYSTEM_RESET end the run, PSCI_VERSION
answers 1.0, anything else NOT_SUPPORTED.  Semihosting (Arm IHI 0080):
SYS_WRITEC and SYS_WRITE0 print to the board's console output, SYS_EXIT
(and SYS_EXIT_EXTENDED) end the run with the application's exit code;
others return -1 (the caller is told once, in one line).  Both are
deterministic: they read only guest registers and memory.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol

_M64 = (1 << 64) - 1

PSCI_VERSION = 0x8400_0000
PSCI_SYSTEM_OFF = 0x8400_0008
PSCI_SYSTEM_RESET = 0x8400_0009
PSCI_NOT_SUPPORTED = -1

SYS_WRITEC, SYS_WRITE0, SYS_EXIT, SYS_EXIT_EXTENDED = 0x03, 0x04, 0x18, 0x20
ADP_STOPPED_APPLICATION_EXIT = 0x20026

HLT_SEMIHOSTING = 0xD45E_0000          # hlt #0xf000
_EXC_MASK, _HVC, _SMC = 0xFFE0_001F, 0xD400_0002, 0xD400_0003


@dataclass(frozen=True)
class CallResult:
    """What a call did: a value for x0 (None: x0 unchanged), console output, or the end of the run."""

    x0: int | None = None
    output: bytes = b""
    exit_status: int | None = None
    end: str = ""                  # "system off", "system reset", "semihosting exit"
    unsupported: str = ""          # a call not emulated: one line for the user


def instruction_kind(word: int) -> str:
    """"hvc", "smc", "semihosting" or "" for an instruction word."""
    if word == HLT_SEMIHOSTING:
        return "semihosting"
    if word & _EXC_MASK == _HVC:
        return "hvc"
    if word & _EXC_MASK == _SMC:
        return "smc"
    return ""


def psci(function: int) -> CallResult:
    function &= 0xFFFF_FFFF
    if function == PSCI_SYSTEM_OFF:
        return CallResult(exit_status=0, end="system off")
    if function == PSCI_SYSTEM_RESET:
        return CallResult(exit_status=0, end="system reset")
    if function == PSCI_VERSION:
        return CallResult(x0=0x1_0000)
    return CallResult(x0=PSCI_NOT_SUPPORTED & _M64)


class GuestMemory(Protocol):
    """Guest RAM as semihosting reads it (memory.AddressSpace): ValueError outside it."""

    def read(self, addr: int, length: int) -> bytes: ...
    def read_cstring(self, addr: int, limit: int = 4096) -> bytes: ...


def semihosting(op: int, arg: int, mem: GuestMemory, wide: bool = True) -> CallResult:
    """`wide`: the A64 convention (64-bit fields); else A32/T32's (32-bit, SYS_EXIT's argument is
    the reason itself: status 0 for ADP_Stopped_ApplicationExit, else 1, as QEMU answers)."""
    op &= 0xFFFF_FFFF
    minus_one = _M64 if wide else 0xFFFF_FFFF
    try:
        if op == SYS_WRITEC:
            return CallResult(output=mem.read(arg, 1))
        if op == SYS_WRITE0:
            return CallResult(output=mem.read_cstring(arg, 1 << 20))
        if op == SYS_EXIT and not wide:
            return CallResult(exit_status=0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1, end="semihosting exit")
        if op in (SYS_EXIT, SYS_EXIT_EXTENDED):
            reason, subcode = struct.unpack("<QQ" if wide else "<II", mem.read(arg, 16 if wide else 8))
            status = subcode & 0xFF if reason == ADP_STOPPED_APPLICATION_EXIT else 1
            return CallResult(exit_status=status, end="semihosting exit")
    except ValueError:
        return CallResult(x0=minus_one)            # an argument outside RAM: -1
    return CallResult(x0=minus_one, unsupported=f"semihosting call {op:#x} is not emulated (returns -1)")
