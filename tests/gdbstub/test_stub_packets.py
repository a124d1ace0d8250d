"""Packet parsing: payload bytes -> one typed request, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gdbstub.packets import (
    Breakpoint,
    Detach,
    HostClose,
    HostFstat,
    HostOpen,
    HostPread,
    HostReadlink,
    HostSetfs,
    Kill,
    Malformed,
    Monitor,
    QueryAttached,
    QueryCurrentThread,
    QueryStopReason,
    QuerySupported,
    QuerySymbol,
    ReadMemory,
    ReadRegister,
    ReadRegisters,
    Resume,
    SetThread,
    StartNoAckMode,
    ThreadAlive,
    ThreadExtraInfo,
    ThreadId,
    ThreadInfoFirst,
    ThreadInfoNext,
    Unknown,
    VCont,
    VContAction,
    VContQuery,
    WriteMemory,
    WriteRegister,
    WriteRegisters,
    XferRead,
    parse,
)
from gdbstub.target import BreakKind, Direction

CASES = [
    (b"qSupported:multiprocess+;swbreak+;xmlRegisters=i386",
     QuerySupported(("multiprocess+", "swbreak+", "xmlRegisters=i386"))),
    (b"qSupported", QuerySupported(())),
    (b"QStartNoAckMode", StartNoAckMode()),
    (b"?", QueryStopReason()),
    (b"g", ReadRegisters()),
    (b"G01xx", WriteRegisters((1, None))),
    (b"p10", ReadRegister(16)),
    (b"P10=0100000000000000", WriteRegister(16, b"\x01" + bytes(7))),
    (b"m7ffe0010,8", ReadMemory(0x7FFE0010, 8)),
    (b"M1000,2:abcd", WriteMemory(0x1000, b"\xab\xcd", binary=False)),
    (b"X1000,3:a}\x03b", WriteMemory(0x1000, b"a#b", binary=True)),
    (b"X1000,0:", WriteMemory(0x1000, b"", binary=True)),
    (b"Hg0", SetThread("g", ThreadId(0))),
    (b"Hc-1", SetThread("c", ThreadId(-1))),
    (b"Hgp4d2.4d2", SetThread("g", ThreadId(0x4D2, 0x4D2))),
    (b"T4d2", ThreadAlive(ThreadId(0x4D2))),
    (b"c", Resume(step=False)),
    (b"s", Resume(step=True)),
    (b"c1000", Resume(step=False, address=0x1000)),
    (b"C0b", Resume(step=False, signal=11)),
    (b"S05;2000", Resume(step=True, signal=5, address=0x2000)),
    (b"bc", Resume(step=False, direction=Direction.BACKWARD)),
    (b"bs", Resume(step=True, direction=Direction.BACKWARD)),
    (b"vCont?", VContQuery()),
    (b"vCont;s:4d2;c", VCont((VContAction("s", ThreadId(0x4D2)), VContAction("c")))),
    (b"vCont;C0b:-1", VCont((VContAction("c", ThreadId(-1), signal=11),))),
    (b"vCont;r1000,1010:4d2",
     VCont((VContAction("r", ThreadId(0x4D2), range_start=0x1000, range_end=0x1010),))),
    (b"Z0,401000,1", Breakpoint(True, BreakKind.SOFTWARE, 0x401000, 1)),
    (b"z1,401000,1", Breakpoint(False, BreakKind.HARDWARE, 0x401000, 1)),
    (b"Z2,601000,8", Breakpoint(True, BreakKind.WRITE, 0x601000, 8)),
    (b"Z3,601000,4", Breakpoint(True, BreakKind.READ, 0x601000, 4)),
    (b"z4,601000,2", Breakpoint(False, BreakKind.ACCESS, 0x601000, 2)),
    (b"Z0,401000,1;X2,0a00;cmds:0,X1,00", Breakpoint(True, BreakKind.SOFTWARE, 0x401000, 1)),
    (b"qXfer:features:read:target.xml:0,ffb",
     XferRead("features", "target.xml", 0, 0xFFB)),
    (b"qXfer:auxv:read::10,20", XferRead("auxv", "", 0x10, 0x20)),
    (b"qXfer:exec-file:read:4d2:0,100", XferRead("exec-file", "4d2", 0, 0x100)),
    (b"qAttached", QueryAttached()),
    (b"qAttached:4d2", QueryAttached(0x4D2)),
    (b"qC", QueryCurrentThread()),
    (b"qfThreadInfo", ThreadInfoFirst()),
    (b"qsThreadInfo", ThreadInfoNext()),
    (b"qSymbol::", QuerySymbol()),
    (b"qRcmd,68656c70", Monitor("help")),
    (b"vFile:open:2f62696e2f677565737400,0,1c0", HostOpen("/bin/guest", 0, 0o700)),   # a C string
    (b"vFile:open:2f62696e2f6775657374,0,0", HostOpen("/bin/guest", 0, 0)),
    (b"vFile:pread:3,1000,40", HostPread(3, 0x1000, 0x40)),
    (b"vFile:close:3", HostClose(3)),
    (b"vFile:fstat:3", HostFstat(3)),
    (b"vFile:setfs:0", HostSetfs(0)),
    (b"vFile:readlink:2f70726f632f312f657865", HostReadlink("/proc/1/exe")),
    (b"vFile:readlink:2F70726F632F312F63776400", HostReadlink("/proc/1/cwd")),       # pwndbg ends it with NUL
    (b"vFile:unlink:2f", Unknown("vFile:unlink")),
    (b"D", Detach()),
    (b"D;4d2", Detach(0x4D2)),
    (b"k", Kill(reply_expected=False)),
    (b"vKill;4d2", Kill(reply_expected=True, pid=0x4D2)),
    (b"vMustReplyEmpty", Unknown("vMustReplyEmpty")),
    (b"qTStatus", Unknown("qTStatus")),
    (b"qOffsets", Unknown("qOffsets")),
    (b"QThreadEvents:1", Unknown("QThreadEvents")),
    (b"qThreadExtraInfo,4d2", ThreadExtraInfo(ThreadId(0x4D2))),
    (b"qThreadExtraInfo,p4d2.4d3", ThreadExtraInfo(ThreadId(0x4D3, 0x4D2))),
    (b"Z9,1000,1", Unknown("Z9")),
    (b"!", Unknown("!")),
    (b"", Unknown("")),
    (b"qXfer:features:write:target.xml:0:abc", Unknown("qXfer:features:write")),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "expected"), CASES, ids=[repr(c[0])[:40] for c in CASES])
def test_parse(payload: bytes, expected: object) -> None:
    assert parse(payload) == expected


MALFORMED = [
    b"m1000",  # no length
    b"mzz,1",  # bad hex
    b"m-1,1",
    b"M1000,2:abc",  # odd hex
    b"M1000,3:abcd",  # length mismatch
    b"M1000,2",  # no ':'
    b"X1000,2:a",  # length mismatch
    b"X1000,1:}",  # dangling escape
    b"G0",
    b"Gzz",
    b"pq",
    b"P10",
    b"P10=zz",
    b"Hx0",
    b"Hgzz",
    b"C5",  # signal must be two digits
    b"Z0,1000",
    b"Z0,zz,1",
    b"vCont;",
    b"vCont;q",
    b"vCont;C:1",
    b"qXfer:features:read:target.xml:0",
    b"qXfer:features:read",
    b"qRcmd,zz",
    b"qRcmd",
    b"qThreadExtraInfo",
    b"qThreadExtraInfo,zz",
    b"vFile:open:zz,0,0",
    b"vFile:pread:3,1",
    b"vFile",
    b"?x",
    b"gg",
    b"D4",
]


@pytest.mark.parametrize("payload", MALFORMED, ids=[repr(p) for p in MALFORMED])
def test_malformed(payload: bytes) -> None:
    request = parse(payload)
    assert isinstance(request, Malformed), request
    assert request.reason


@given(st.binary(max_size=80))
def test_parse_never_raises(payload: bytes) -> None:
    parse(payload)


@given(st.sampled_from("?gGpPmMXHTcsCSbZzDkvqQ"), st.binary(max_size=60))
def test_parse_never_raises_with_known_lead(lead: str, rest: bytes) -> None:
    parse(lead.encode() + rest)
