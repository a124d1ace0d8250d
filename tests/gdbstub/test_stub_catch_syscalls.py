"""QCatchSyscalls (gdb's `catch syscall`) and the syscall_entry/syscall_return stop replies."""

from __future__ import annotations

import pytest
from fake_target import ALL_CAPABILITIES, FakeTarget, wire

from gdbstub import replies
from gdbstub.packets import CatchSyscalls, Malformed, parse
from gdbstub.session import Session
from gdbstub.target import Capability, StopKind, StopReason


@pytest.mark.parametrize(("packet", "expected"), [
    (b"QCatchSyscalls:0", CatchSyscalls(False)),
    (b"QCatchSyscalls:1", CatchSyscalls(True, None)),                      # every call
    (b"QCatchSyscalls:1;40", CatchSyscalls(True, frozenset({0x40}))),      # aarch64's write
    (b"QCatchSyscalls:1;1;e7;3c", CatchSyscalls(True, frozenset({1, 0xE7, 0x3C}))),
])
def test_parse(packet: bytes, expected: CatchSyscalls) -> None:
    assert parse(packet) == expected


@pytest.mark.parametrize("packet", [b"QCatchSyscalls", b"QCatchSyscalls:2", b"QCatchSyscalls:1;",
                                    b"QCatchSyscalls:1;zz", b"QCatchSyscalls:11"])
def test_malformed(packet: bytes) -> None:
    assert isinstance(parse(packet), Malformed)


def test_stop_replies_name_the_call() -> None:
    entry = replies.stop_reply(StopReason(StopKind.SYSCALL_ENTRY, syscall=0x40), 7)
    ret = replies.stop_reply(StopReason(StopKind.SYSCALL_RETURN, syscall=1), 7)
    assert entry == b"T05thread:7;syscall_entry:40;"
    assert ret == b"T05thread:7;syscall_return:1;"
    with pytest.raises(ValueError):
        StopReason(StopKind.SYSCALL_ENTRY)


def _ask(session: Session, payload: bytes) -> bytes:
    out = session.feed(wire(payload))
    assert out[:1] == b"+"
    return out[2:-3]


def test_session_passes_the_list_to_the_target() -> None:
    target = FakeTarget()
    s = Session(target)
    assert b"QCatchSyscalls+" in _ask(s, b"qSupported")
    assert _ask(s, b"QCatchSyscalls:1;40;ac") == b"OK"
    assert _ask(s, b"QCatchSyscalls:0") == b"OK"
    assert [c for c in target.calls if c[0] == "catch_syscalls"] == [
        ("catch_syscalls", frozenset({0x40, 0xAC}), True), ("catch_syscalls", None, False)]


def test_without_the_capability_the_packet_is_unsupported() -> None:
    target = FakeTarget(capabilities=ALL_CAPABILITIES - {Capability.CATCH_SYSCALLS})
    s = Session(target)
    assert b"QCatchSyscalls" not in _ask(s, b"qSupported")
    assert _ask(s, b"QCatchSyscalls:1") == b""
    assert not [c for c in target.calls if c[0] == "catch_syscalls"]
