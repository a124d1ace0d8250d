"""QPassSignals / QProgramSignals and signal stop replies, as byte transcripts."""

from __future__ import annotations

from fake_target import ALL_CAPABILITIES, FakeTarget, wire

from gdbstub.packets import Malformed, SignalList, parse
from gdbstub.replies import stop_reply
from gdbstub.session import Session
from gdbstub.target import Capability, StopKind, StopReason


class SignalTarget(FakeTarget):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.passed: list[frozenset[int]] = []
        self.program: list[frozenset[int]] = []

    def pass_signals(self, signals: frozenset[int]) -> None:
        self.passed.append(signals)

    def program_signals(self, signals: frozenset[int]) -> None:
        self.program.append(signals)


def test_parse_signal_lists() -> None:
    # gdb writes one or two hex digits per signal, with a trailing ';'
    assert parse(b"QPassSignals:e;14;1e;") == SignalList(False, frozenset({0xE, 0x14, 0x1E}))
    assert parse(b"QProgramSignals:") == SignalList(True, frozenset())
    assert isinstance(parse(b"QPassSignals:1234"), Malformed)
    assert isinstance(parse(b"QPassSignals:zz"), Malformed)
    assert isinstance(parse(b"QPassSignals"), Malformed)


def test_session_hands_the_lists_to_the_target() -> None:
    target = SignalTarget()
    session = Session(target)
    assert b"QPassSignals+;QProgramSignals+" in session.feed(wire(b"qSupported:swbreak+"))
    assert session.feed(wire(b"QPassSignals:e;1e")) == b"+" + wire(b"OK")
    assert session.feed(wire(b"QProgramSignals:1e;")) == b"+" + wire(b"OK")
    assert target.passed == [frozenset({0xE, 0x1E})]
    assert target.program == [frozenset({0x1E})]


def test_without_the_capability_the_lists_are_unsupported() -> None:
    target = SignalTarget(capabilities=ALL_CAPABILITIES - {Capability.PASS_SIGNALS})
    session = Session(target)
    assert b"QPassSignals" not in session.feed(wire(b"qSupported:swbreak+"))
    assert session.feed(wire(b"QPassSignals:e")) == b"+" + wire(b"")
    assert target.passed == []


def test_signal_stop_reply_carries_the_signal() -> None:
    assert stop_reply(StopReason(StopKind.SIGNAL, signal=30), 0x4D2).startswith(b"T1e")
