"""The event log codec (replay/events.py, replay/eventlog.py), property-tested."""

from __future__ import annotations

import os
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.errors import LogFormatError
from replay.eventlog import LOG_VERSION, MAGIC, LogWriter, TraceHeader, read_log
from replay.events import (
    EVENT_CLASSES,
    AsyncSignal,
    CharRead,
    CharWrite,
    Clock,
    ClockSource,
    End,
    EventKind,
    ExceptionCause,
    FileKind,
    FileOpen,
    GuestException,
    ProcessChange,
    ProcessEvent,
    Random,
    RandomSource,
    Shutdown,
    ShutdownReason,
    StateHash,
    SyscallResult,
    TaskSwitch,
    decode_event,
)

u8 = st.integers(0, 2**8 - 1)
u16 = st.integers(0, 2**16 - 1)
i32 = st.integers(-(2**31), 2**31 - 1)
i64 = st.integers(-(2**63), 2**63 - 1)
u64 = st.integers(0, 2**64 - 1)
icounts = u64
blobs = st.binary(max_size=300)
paths = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
digests = st.binary(min_size=32, max_size=32).map(bytes.hex)
signals = st.integers(1, 64)


def _captured_only(event: FileOpen) -> FileOpen:
    """Only a successful captured open names a digest (the decoder refuses anything else)."""
    keep = event.file_kind == FileKind.CAPTURED and event.result >= 0
    return replace(event, sha256=event.sha256 if keep else "")


def _signal_status(event: Shutdown) -> Shutdown:
    return replace(event, status=abs(event.status) % 64 + 1) if event.reason == ShutdownReason.SIGNAL else event


EVENTS: dict[EventKind, st.SearchStrategy] = {
    EventKind.CHAR_READ: st.builds(CharRead, icounts, i32, i64, blobs),
    EventKind.CHAR_WRITE: st.builds(CharWrite, icounts, i32, i64, i64),
    EventKind.CLOCK: st.builds(Clock, icounts, st.sampled_from(ClockSource), i32, i64, u64),
    EventKind.RANDOM: st.builds(Random, icounts, st.sampled_from(RandomSource), blobs),
    EventKind.SYSCALL: st.builds(SyscallResult, icounts, u16, i64,
                                 st.lists(st.tuples(u64, blobs), max_size=4).map(tuple)),
    EventKind.FILE_OPEN: st.builds(FileOpen, icounts, paths, i32, i64, st.sampled_from(FileKind), digests,
                                   u64).map(_captured_only),
    EventKind.EXCEPTION: st.builds(GuestException, icounts, signals, st.sampled_from(ExceptionCause), u64, u64),
    EventKind.SHUTDOWN: st.builds(Shutdown, icounts, st.sampled_from(ShutdownReason), i32).map(_signal_status),
    EventKind.STATE_HASH: st.builds(StateHash, icounts, blobs),
    EventKind.END: st.builds(End, icounts),
    EventKind.TASK_SWITCH: st.builds(TaskSwitch, icounts, st.integers(1, 2**31 - 1)),
    EventKind.PROCESS: st.builds(ProcessEvent, icounts, i32, i32, st.sampled_from(ProcessChange), i32,
                                 st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
                                          max_size=3).map(tuple)),
    EventKind.ASYNC_SIGNAL: st.builds(AsyncSignal, icounts, signals, st.integers(1, 2**31 - 1)),
}
any_event = st.one_of(*EVENTS.values())

HEADER = TraceHeader(machine=62, program="/bin/prog", program_sha256="ab" * 32, argv=("prog", "x"),
                     env=("A=1",), cwd="/tmp", pid=1234, extra={"ids": [0, 0, 0, 0]})


def test_every_kind_has_a_strategy_and_a_class() -> None:
    assert set(EVENTS) == set(EventKind) == set(EVENT_CLASSES)
    codes = [k.value for k in EventKind]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("kind", list(EventKind), ids=lambda k: k.name)
def test_encode_decode_round_trip(kind: EventKind) -> None:
    @given(EVENTS[kind])
    @settings(max_examples=60, deadline=None)
    def check(event) -> None:
        assert event.kind == kind
        again = decode_event(int(kind), event.icount, event.encode())
        assert again == event
        assert type(again) is type(event)
        assert isinstance(again.describe(), str) and again.describe()
    check()


def test_decode_rejects_unknown_kind_and_short_payload() -> None:
    with pytest.raises(ValueError, match="unknown event kind"):
        decode_event(200, 0, b"")
    with pytest.raises(ValueError, match="CHAR_WRITE"):
        decode_event(EventKind.CHAR_WRITE, 0, b"\x01\x02")
    with pytest.raises(ValueError):
        decode_event(EventKind.RANDOM, 0, b"\x00" + struct.pack("<I", 100) + b"short")


def _sorted(events: list) -> list:
    """Events as a log holds them: instruction counts never go back."""
    return sorted(events, key=lambda e: e.icount)


def _write(path: Path, events: list) -> list[int]:
    """Write a log; returns the file size after the header and after each event."""
    w = LogWriter(str(path), HEADER)
    sizes = [w.bytes_written]
    for e in events:
        w.append(e)
        sizes.append(w.bytes_written)
    w.close()
    assert os.path.getsize(path) == sizes[-1]
    return sizes


@given(st.lists(any_event, max_size=12))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_writer_reader_round_trip(tmp_path: Path, events: list) -> None:
    events = _sorted(events)
    path = tmp_path / "events.log"
    path.unlink(missing_ok=True)
    _write(path, events)
    contents = read_log(str(path))
    assert contents.events == events
    assert contents.header == HEADER
    assert contents.version == LOG_VERSION
    assert not contents.truncated
    assert contents.complete == (bool(events) and events[-1].kind == EventKind.END)


@given(st.lists(any_event, min_size=1, max_size=6))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_truncation_anywhere_in_the_last_record_is_truncated_not_corrupt(tmp_path: Path, events: list) -> None:
    events = _sorted(events)
    path = tmp_path / "events.log"
    path.unlink(missing_ok=True)
    sizes = _write(path, events)
    data = path.read_bytes()
    start = sizes[-2]
    for cut in range(start + 1, len(data)):          # every byte offset inside the last record
        path.write_bytes(data[:cut])
        contents = read_log(str(path))
        assert contents.truncated, cut
        assert contents.complete == (len(events) > 1 and events[-2].kind == EventKind.END)
        assert contents.events == events[:-1]
    path.write_bytes(data[:start])                   # cut exactly between records: not torn
    contents = read_log(str(path))
    assert not contents.truncated and contents.events == events[:-1]


def test_truncated_header_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    sizes = _write(path, [End(0)])
    data = path.read_bytes()
    for cut in (0, 3, len(MAGIC), sizes[0] - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(LogFormatError):
            read_log(str(path))


@given(st.lists(any_event, min_size=2, max_size=6), st.data())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_flipped_byte_before_the_last_record_is_refused_or_torn(tmp_path: Path, events: list, data) -> None:
    """A flipped byte is never silently accepted as different events."""
    events = _sorted(events)
    path = tmp_path / "events.log"
    path.unlink(missing_ok=True)
    sizes = _write(path, events)
    raw = bytearray(path.read_bytes())
    pos = data.draw(st.integers(sizes[0], len(raw) - 1))
    raw[pos] ^= data.draw(st.integers(1, 255))
    path.write_bytes(bytes(raw))
    try:
        contents = read_log(str(path))
    except LogFormatError as exc:
        assert "corrupt" in str(exc)
        return
    # Only a damaged length field of the last record can pass for a torn last
    # record (a damaged one mid-log has intact records after it: corruption);
    # the events before it are intact and nothing is invented.
    assert contents.truncated
    assert pos >= sizes[-2], "a damaged length mid-log was taken for a torn last record"
    assert contents.events == events[:len(contents.events)]


def test_newer_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    _write(path, [End(5)])
    raw = bytearray(path.read_bytes())
    struct.pack_into("<H", raw, len(MAGIC), LOG_VERSION + 1)
    path.write_bytes(bytes(raw))
    with pytest.raises(LogFormatError, match="newer"):
        read_log(str(path))


def test_icount_going_backwards_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    _write(path, [Shutdown(10, ShutdownReason.EXIT, 0), End(5)])
    with pytest.raises(LogFormatError, match="backwards"):
        read_log(str(path))


def test_missing_log(tmp_path: Path) -> None:
    with pytest.raises(LogFormatError):
        read_log(str(tmp_path / "nope.log"))


def test_damaged_length_mid_log_is_corrupt_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    events = [Clock(i, ClockSource.RDTSC, 0, i) for i in range(5)] + [End(9)]
    sizes = _write(path, events)
    raw = bytearray(path.read_bytes())
    struct.pack_into("<I", raw, sizes[2] + 9, 1 << 20)     # event #2's length now runs past the end
    path.write_bytes(bytes(raw))
    with pytest.raises(LogFormatError, match="corrupt event #2"):
        read_log(str(path))


def test_header_checksum(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    sizes = _write(path, [End(0)])
    raw = bytearray(path.read_bytes())
    at = raw.index(b'"x"')
    raw[at + 1] ^= 0x01                                      # argv[1] "x" -> "y"
    path.write_bytes(bytes(raw))
    with pytest.raises(LogFormatError, match="corrupt header .checksum"):
        read_log(str(path))
    assert sizes[0] == len(raw) - 17                          # the header ends with its CRC


def test_log_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    _write(path, [End(0)])
    assert path.stat().st_mode & 0o777 == 0o600 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
