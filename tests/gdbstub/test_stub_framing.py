"""Framing: checksums, escaping, run-length encoding and the incremental decoder."""

from __future__ import annotations

import pytest
from fake_target import wire
from hypothesis import given
from hypothesis import strategies as st

from gdbstub.framing import (
    Ack,
    BadFrame,
    Decoder,
    FramingError,
    Interrupt,
    Nak,
    Overlong,
    Packet,
    checksum,
    escape,
    frame,
    rle_decode,
    rle_encode,
    unescape,
)


def test_checksum_and_frame_exact_bytes() -> None:
    assert checksum(b"OK") == 0x9A
    assert frame(b"OK") == b"$OK#9a"
    assert frame(b"") == b"$#00"
    assert frame(b"qSupported") == b"$qSupported#37"


def test_escape_exact() -> None:
    assert escape(b"a#b$c}d*e") == b"a}\x03b}\x04c}]d}\x0ae"
    assert unescape(b"a}\x03b}\x04c}]d}\x0ae") == b"a#b$c}d*e"


def test_unescape_trailing_escape_is_error() -> None:
    with pytest.raises(FramingError):
        unescape(b"abc}")


@given(st.binary())
def test_escape_round_trip(data: bytes) -> None:
    escaped = escape(data)
    assert not set(escaped) & set(b"#$*")
    assert unescape(escaped) == data


def test_rle_decode_exact() -> None:
    # '0* ' is '0' followed by 32-29 = 3 more copies.
    assert rle_decode(b"0* ") == b"0000"
    assert rle_decode(b"ab*\"c") == b"a" + b"b" * 6 + b"c"


def test_rle_encode_exact_and_avoids_hash_and_dollar() -> None:
    assert rle_encode(b"0000") == b"0* "
    assert rle_encode(b"000") == b"000"
    # 8 zeros would need count 7 -> '$'; 7 zeros count 6 -> '#': both avoided.
    for n in (7, 8):
        encoded = rle_encode(b"0" * n)
        assert b"#" not in encoded and b"$" not in encoded
        assert rle_decode(encoded) == b"0" * n


@pytest.mark.parametrize("bad", [b"*!", b"ab*", b"a*\x10"])
def test_rle_decode_errors(bad: bytes) -> None:
    with pytest.raises(FramingError):
        rle_decode(bad)


@given(st.binary(max_size=400))
def test_rle_round_trip_on_escaped_data(data: bytes) -> None:
    escaped = escape(data)
    encoded = rle_encode(escaped)
    assert not set(encoded) & set(b"#$")
    assert rle_decode(encoded) == escaped
    assert unescape(rle_decode(encoded)) == data


def test_frame_with_rle() -> None:
    assert frame(b"0" * 9, rle=True) == wire(b"0*%")
    # 8 zeros would need the count character '$': split into 1+5 and 2 literal.
    assert frame(b"0" * 8, rle=True) == wire(b'0*"00')


def test_decoder_events() -> None:
    d = Decoder()
    events = d.feed(b"+-\x03$OK#9ajunk$g#67")
    assert events == [Ack(), Nak(), Interrupt(), Packet(b"OK"), Packet(b"g")]


def test_decoder_interrupt_inside_packet_is_data() -> None:
    payload = b"X10,1:\x03"
    assert Decoder().feed(wire(payload)) == [Packet(payload)]


def test_decoder_bad_checksum() -> None:
    events = Decoder().feed(b"$OK#00")
    assert len(events) == 1 and isinstance(events[0], BadFrame)
    assert events[0].payload == b"OK"


def test_decoder_non_hex_checksum() -> None:
    [event] = Decoder().feed(b"$OK#zz")
    assert isinstance(event, BadFrame)


def test_decoder_bad_rle() -> None:
    [event] = Decoder().feed(wire(b"*!"))
    assert isinstance(event, BadFrame) and event.payload is None


def test_decoder_expands_rle() -> None:
    assert Decoder().feed(wire(b"m0* ")) == [Packet(b"m0000")]


def test_decoder_restarts_on_dollar() -> None:
    assert Decoder().feed(b"$abc$OK#9a") == [Packet(b"OK")]


def test_decoder_overlong() -> None:
    d = Decoder(max_payload=8)
    events = d.feed(wire(b"x" * 9) + wire(b"12345678"))
    assert events == [Overlong(9), Packet(b"12345678")]


def test_decoder_truncated_then_completed() -> None:
    d = Decoder()
    assert d.feed(b"$O") == []
    assert d.in_packet
    assert d.feed(b"K#9") == []
    assert d.feed(b"a") == [Packet(b"OK")]
    assert not d.in_packet


@given(
    st.lists(st.binary(max_size=50), max_size=8),
    st.lists(st.integers(min_value=1, max_value=20), min_size=1),
)
def test_decoder_any_chunking(payloads: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(b"+" + frame(escape(p)) for p in payloads)
    d = Decoder()
    events = []
    pos = 0
    i = 0
    while pos < len(stream):
        n = cuts[i % len(cuts)]
        events += d.feed(stream[pos : pos + n])
        pos += n
        i += 1
    packets = [unescape(e.payload) for e in events if isinstance(e, Packet)]
    assert packets == payloads
    assert events.count(Ack()) == len(payloads)
