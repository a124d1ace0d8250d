"""Reply formatting, the register table, target.xml and qSupported."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
from x86_description import X86_64

from gdbstub import replies
from gdbstub.features import supported_reply, target_xml, xfer_chunk
from gdbstub.target import (
    Capability,
    HostOpenFlags,
    HostStat,
    RegisterInfo,
    StopKind,
    StopReason,
    TargetDescription,
    host_flags_to_os,
)

RIP = X86_64.registers[16]
RSP = X86_64.registers[7]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (StopReason(StopKind.SIGNAL), b"T05thread:4d2;"),
        (StopReason(StopKind.SIGNAL, signal=11), b"T0bthread:4d2;"),
        (StopReason(StopKind.SW_BREAK), b"T05thread:4d2;swbreak:;"),
        (StopReason(StopKind.HW_BREAK), b"T05thread:4d2;hwbreak:;"),
        (StopReason(StopKind.WATCH, address=0x601000), b"T05thread:4d2;watch:601000;"),
        (StopReason(StopKind.RWATCH, address=0x10), b"T05thread:4d2;rwatch:10;"),
        (StopReason(StopKind.AWATCH, address=0x10), b"T05thread:4d2;awatch:10;"),
        (StopReason(StopKind.REPLAY_BEGIN), b"T05thread:4d2;replaylog:begin;"),
        (StopReason(StopKind.REPLAY_END), b"T05thread:4d2;replaylog:end;"),
        (StopReason(StopKind.INTERRUPTED), b"T02thread:4d2;"),
        (StopReason(StopKind.EXITED, exit_status=3), b"W03"),
        (StopReason(StopKind.TERMINATED, signal=9), b"X09"),
    ],
)
def test_stop_reply(reason: StopReason, expected: bytes) -> None:
    assert replies.stop_reply(reason, 0x4D2) == expected


def test_stop_reply_without_negotiated_breakpoint_reasons() -> None:
    assert replies.stop_reply(StopReason(StopKind.SW_BREAK), 1, swbreak=False) == b"T05thread:1;"
    assert replies.stop_reply(StopReason(StopKind.HW_BREAK), 1, hwbreak=False) == b"T05thread:1;"


def test_stop_reply_expedited_registers() -> None:
    reply = replies.stop_reply(
        StopReason(StopKind.SIGNAL), 1, expedite=[(RSP, 0x7FFE0000), (RIP, 0x401000)]
    )
    assert reply == b"T0507:0000fe7f00000000;10:0010400000000000;thread:1;"


def test_stop_reason_validation() -> None:
    with pytest.raises(ValueError):
        StopReason(StopKind.WATCH)
    with pytest.raises(ValueError):
        StopReason(StopKind.EXITED)


def test_pack_register() -> None:
    assert replies.pack_register(RIP, 0x401000) == b"0010400000000000"
    assert replies.pack_register(RIP, None) == b"xx" * 8
    st0 = X86_64.registers[24]
    assert st0.name == "st0" and st0.size == 10
    assert replies.pack_register(st0, 1) == b"01" + b"00" * 9


def test_pack_unpack_registers_round_trip() -> None:
    values: list[int | None] = [i * 3 for i in range(len(X86_64.registers))]
    values[5] = None
    packed = replies.pack_registers(X86_64.registers, values)
    assert len(packed) == sum(r.bitsize for r in X86_64.registers) // 4 == 1120
    raw = bytes.fromhex(packed.decode().replace("xx", "00"))
    data = list(raw)
    for i in range(X86_64.registers[5].size):
        data[5 * 8 + i] = None  # type: ignore[call-overload]
    assert replies.unpack_registers(X86_64.registers, data) == values


def test_unpack_registers_short_and_long() -> None:
    assert replies.unpack_registers(X86_64.registers, [1] + [0] * 7)[:2] == [1, None]
    with pytest.raises(ValueError):
        replies.unpack_registers(X86_64.registers, [0] * 561)


def test_error_and_hex() -> None:
    assert replies.error(14) == b"E0e"
    assert replies.error(0x1FF) == b"Eff"
    assert replies.hex_text("hi\n") == b"68690a"
    assert replies.console_output("hello", max_payload=5) == [b"O6865", b"O6c6c", b"O6f"]


def test_host_replies() -> None:
    assert replies.host_result(3) == b"F3"
    assert replies.host_result(0x40) == b"F40"
    assert replies.host_error(2) == b"F-1,2"
    assert replies.host_error(36) == b"F-1,5b"  # ENAMETOOLONG is 91 in gdb's numbering
    assert replies.host_error(999) == b"F-1,270f"  # EUNKNOWN
    assert replies.host_data(b"a#") == b"F2;a}\x03"


def test_pack_host_stat() -> None:
    packed = replies.pack_host_stat(HostStat(size=1000, mode=0o100755, mtime=7, ino=9))
    assert len(packed) == 64
    fields = struct.unpack(">IIIIIIIQQQIII", packed)
    assert fields == (0, 9, 0o100755, 1, 0, 0, 0, 1000, 4096, 2, 0, 7, 0)


def test_host_flags() -> None:
    import os

    assert host_flags_to_os(HostOpenFlags.RDONLY) == os.O_RDONLY
    assert host_flags_to_os(HostOpenFlags.WRONLY | HostOpenFlags.CREAT | HostOpenFlags.TRUNC) == (
        os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    )


# --- register table and target.xml -------------------------------------------------


def test_x86_64_table_order() -> None:
    names = [r.name for r in X86_64.registers]
    assert names[:8] == ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"]
    assert names[16:24] == ["rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs"]
    assert names[24] == "st0" and names[32] == "fctrl" and names[39] == "fop"
    assert names[40] == "xmm0" and names[55] == "xmm15" and names[56] == "mxcsr"
    assert names[57:] == ["orig_rax", "fs_base", "gs_base"]
    assert X86_64.g_packet_size == 560


def test_target_xml_matches_table() -> None:
    root = ET.fromstring(target_xml(X86_64))
    assert root.tag == "target"
    assert root.findtext("architecture") == "i386:x86-64"
    assert root.findtext("osabi") == "GNU/Linux"
    features = [f.get("name") for f in root.findall("feature")]
    assert features == [
        "org.gnu.gdb.i386.core",
        "org.gnu.gdb.i386.sse",
        "org.gnu.gdb.i386.linux",
        "org.gnu.gdb.i386.segments",
    ]
    regs = root.findall("feature/reg")
    assert len(regs) == len(X86_64.registers) == 60
    assert sum(int(r.get("bitsize", "0")) for r in regs) // 4 == 1120
    by_name = {r.get("name"): r for r in regs}
    assert by_name["rip"].get("type") == "code_ptr"
    assert by_name["rsp"].get("type") == "data_ptr"
    assert by_name["eflags"].get("type") == "i386_eflags"
    assert by_name["st7"].get("type") == "i387_ext"
    assert by_name["xmm3"].get("type") == "vec128"
    assert by_name["gs_base"].get("regnum") == "59"
    defined = {el.get("id") for el in root.iter() if el.tag in ("flags", "union", "vector")}
    assert {"i386_eflags", "i386_mxcsr", "vec128"} <= defined


def test_description_rejects_misnumbered_table() -> None:
    reg = RegisterInfo("pc", 32, "code_ptr", regnum=1, feature="f")
    with pytest.raises(ValueError):
        TargetDescription("arm", (reg,))


def test_supported_reply_all_capabilities() -> None:
    reply = supported_reply(frozenset(Capability), 0x4000)
    assert reply == (
        b"PacketSize=4000;QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;vContSupported+;"
        b"swbreak+;hwbreak+;qXfer:auxv:read+;qXfer:exec-file:read+;"
        b"ReverseStep+;ReverseContinue+;QPassSignals+;QProgramSignals+;QCatchSyscalls+"
    )
    assert b"multiprocess" not in reply


def test_supported_reply_without_reverse() -> None:
    reply = supported_reply(frozenset({Capability.SW_BREAK}), 0x1000)
    assert reply == (
        b"PacketSize=1000;QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;vContSupported+;swbreak+"
    )


def test_xfer_chunk() -> None:
    data = b"abcdefghij"
    assert xfer_chunk(data, 0, 4) == b"mabcd"
    assert xfer_chunk(data, 8, 4) == b"lij"
    assert xfer_chunk(data, 6, 4) == b"lghij"
    assert xfer_chunk(data, 20, 4) == b"l"
    assert xfer_chunk(b"#$", 0, 1) == b"m}\x03"
