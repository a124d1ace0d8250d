"""Replaying: answer the guest kernel from the log, verify, never touch the host.

`ReplayingHostIO` hands each logged answer back at the instruction count at
which it was recorded and checks that the guest asks the same question
(kind, fd, syscall number, sizes); any mismatch raises ReplayDivergence
naming the instruction count, the event and both sides.  State-hash
STATE_HASH events are verified when the replay reaches their count.
Program output is written again to an OutputSink (stdout/stderr by default).
"""

from __future__ import annotations

import bisect
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from .errors import LogFormatError, ReplayDivergence, TraceTruncated
from .eventlog import LOG_VERSION, LogContents, read_log
from .events import (
    AsyncSignal,
    CharRead,
    CharWrite,
    Clock,
    ClockSource,
    Event,
    EventKind,
    ExceptionCause,
    FileKind,
    FileOpen,
    GuestException,
    ProcessEvent,
    Random,
    RandomSource,
    Shutdown,
    ShutdownReason,
    StateHash,
    SyscallResult,
    TaskSwitch,
)
from .hostio import HostCall, HostFdCall, HostFdsCall, HostWaitCall, OpenOutcome, Writes
from .icount import NO_LIMIT
from .linux.files import OpenFile
from .process import GuestProcess, Outcome, Program
from .trace import TraceDir

log = logging.getLogger(__name__)


# Shutdowns that end the recording, not the program: replay stops there.
_RECORDING_STOPPED = (ShutdownReason.INTERRUPTED, ShutdownReason.ERROR, ShutdownReason.DEADLOCK)


class OutputSink:
    """Where the replayed program's stdout/stderr bytes go."""

    def __init__(self, stdout: BinaryIO | None, stderr: BinaryIO | None) -> None:
        self._streams = {1: stdout, 2: stderr}

    def write(self, stream: int, data: bytes) -> None:
        out = self._streams.get(stream)
        if out is None:
            return
        try:
            out.write(data)
            out.flush()
        except BrokenPipeError:
            # Its reader went away (`ttdbg replay -a TRACE | head -1`): the rest of
            # this stream is discarded and the replay goes on to the recorded end,
            # so it still ends with the recorded status.
            self._streams[stream] = None
            _point_at_devnull(out)

    @classmethod
    def console(cls) -> "OutputSink":
        return cls(sys.stdout.buffer, sys.stderr.buffer)

    @classmethod
    def quiet(cls) -> "OutputSink":
        return cls(None, None)


def _point_at_devnull(out: BinaryIO) -> None:
    """Send `out`'s file descriptor (and whatever it still buffers) to /dev/null,
    so that flushing it later (at exit) cannot fail again."""
    try:
        fd = out.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        return
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


class RecordingEnded(Exception):
    """The recording was interrupted here: the replay cannot go further."""

    def __init__(self, icount: int) -> None:
        super().__init__(f"the recording was interrupted at instruction {icount:,}")
        self.icount = icount


# Where the replay stands in the log: the next event, a recording-ended shutdown met, hashes verified.
LogCursor = tuple[int, Shutdown | None, int]


class ReplayingHostIO:
    """HostIO answered from the event log."""

    def __init__(self, contents: LogContents, trace: TraceDir, sink: OutputSink) -> None:
        self.events = contents.events
        self.complete = contents.complete
        # Set when the log is older than this ttdbg's: divergences then say so.
        self.older_log = contents.version if contents.version < LOG_VERSION else 0
        self.syscall_name = contents.syscall_name
        self.trace = trace
        self.sink = sink
        self.index = 0                 # next event to consume
        self._state_hashes = [i for i, e in enumerate(self.events) if e.kind == EventKind.STATE_HASH]
        self._switches = [i for i, e in enumerate(self.events) if e.kind == EventKind.TASK_SWITCH]
        self._asyncs = [i for i, e in enumerate(self.events) if e.kind == EventKind.ASYNC_SIGNAL]
        self.verified_state_hashes = 0
        self.shutdown_event: Shutdown | None = None
        # A SHUTDOWN that ended the recording rather than the program, if any.
        self.recording_stopped = next((e for e in reversed(self.events) if isinstance(e, Shutdown)
                                       and e.reason in _RECORDING_STOPPED), None)
        self._cache: dict[str, bytes] = {}

    # -- the log cursor ---------------------------------------------------------------
    def _take(self, icount: int, kind: EventKind, actual: str) -> Event:
        if self.index >= len(self.events):
            if not self.complete:
                raise TraceTruncated(icount, len(self.events))
            raise ReplayDivergence(icount, self.index, "the end of the log", actual, self.older_log)
        ev = self.events[self.index]
        if isinstance(ev, Shutdown) and ev.reason in _RECORDING_STOPPED and kind != EventKind.SHUTDOWN:
            self.shutdown_event = ev
            raise RecordingEnded(ev.icount)
        if ev.kind != kind or ev.icount != icount:
            raise ReplayDivergence(icount, self.index, f"{ev.describe()} at instruction {ev.icount:,}",
                                   f"{actual} at instruction {icount:,}", self.older_log)
        self.index += 1
        return ev

    def _mismatch(self, icount: int, ev: Event, actual: str) -> ReplayDivergence:
        return ReplayDivergence(icount, self.index - 1, ev.describe(), actual, self.older_log)

    def stop_limit(self) -> int:
        """Where replay must stop: an interrupted or truncated recording's end."""
        if not self.events:
            return 0
        if self.recording_stopped is not None:
            return self.recording_stopped.icount
        if not self.complete:
            return self.events[-1].icount
        return NO_LIMIT

    # -- HostIO ------------------------------------------------------------------------
    def open(self, icount: int, path: str, flags: int, mode: int, fd: int, file: OpenFile) -> OpenOutcome:
        ev = self._take(icount, EventKind.FILE_OPEN, f"open({path!r})")
        assert isinstance(ev, FileOpen)
        if ev.path != path or ev.flags != flags:
            raise self._mismatch(icount, ev, f"open({path!r}, flags={flags:#o})")
        if ev.result < 0:
            return OpenOutcome(ev.result, FileKind.NONE, None)
        if ev.result != fd:
            raise self._mismatch(icount, ev, f"open({path!r}) as fd {fd}")
        content = None
        if ev.file_kind == FileKind.CAPTURED:
            content = self._cache.get(ev.sha256)
            if content is None:
                content = self.trace.load_file(ev.sha256)
                self._cache[ev.sha256] = content
        return OpenOutcome(0, ev.file_kind, content)

    def close(self, file: OpenFile) -> None:
        pass

    def map_shared(self, file: OpenFile) -> None:
        pass

    def write_back(self, file: OpenFile, offset: int, data: bytes) -> None:
        pass                           # replay never touches host files

    def read(self, icount: int, fd: int, file: OpenFile, count: int, offset: int | None) -> tuple[int, bytes]:
        ev = self._take(icount, EventKind.CHAR_READ, f"read(fd={fd}, count={count})")
        assert isinstance(ev, CharRead)
        if ev.fd != fd or len(ev.data) > count:
            raise self._mismatch(icount, ev, f"read(fd={fd}, count={count})")
        return ev.result, ev.data

    def write(self, icount: int, fd: int, file: OpenFile, data: bytes, offset: int | None) -> int:
        ev = self._take(icount, EventKind.CHAR_WRITE, f"write(fd={fd}, count={len(data)})")
        assert isinstance(ev, CharWrite)
        if ev.fd != fd or ev.count != len(data):
            raise self._mismatch(icount, ev, f"write(fd={fd}, count={len(data)})")
        if file.std_stream in (1, 2) and ev.result > 0:
            self.sink.write(file.std_stream, data[:ev.result])
        return ev.result

    def clock(self, icount: int, source: ClockSource, clock_id: int) -> int:
        ev = self._take(icount, EventKind.CLOCK, f"clock {source.name.lower()}({clock_id})")
        assert isinstance(ev, Clock)
        if ev.source != source or ev.clock_id != clock_id:
            raise self._mismatch(icount, ev, f"clock {source.name.lower()}({clock_id})")
        return ev.value

    def tsc(self, icount: int, with_aux: bool) -> tuple[int, int]:
        source = ClockSource.RDTSCP if with_aux else ClockSource.RDTSC
        ev = self._take(icount, EventKind.CLOCK, source.name.lower())
        assert isinstance(ev, Clock)
        if ev.source != source:
            raise self._mismatch(icount, ev, source.name.lower())
        return ev.value, ev.aux

    def random(self, icount: int, source: RandomSource, count: int) -> bytes:
        ev = self._take(icount, EventKind.RANDOM, f"random {source.name.lower()}({count})")
        assert isinstance(ev, Random)
        if ev.source != source or len(ev.data) != count and source != RandomSource.GETRANDOM:
            raise self._mismatch(icount, ev, f"random {source.name.lower()}({count})")
        return ev.data

    def syscall(self, icount: int, sysno: int, call: HostCall) -> tuple[int, Writes]:
        ev = self._take(icount, EventKind.SYSCALL, f"syscall {self.syscall_name(sysno)}")
        assert isinstance(ev, SyscallResult)
        if ev.sysno != sysno:
            raise self._mismatch(icount, ev, f"syscall {self.syscall_name(sysno)}")
        return ev.result, ev.writes

    def fd_syscall(self, icount: int, sysno: int, file: OpenFile, call: HostFdCall) -> tuple[int, Writes]:
        return self.syscall(icount, sysno, lambda: (0, ()))

    def files_syscall(self, icount: int, sysno: int, files: list[OpenFile | None],
                      call: HostFdsCall) -> tuple[int, Writes]:
        return self.syscall(icount, sysno, lambda: (0, ()))

    def wait_syscall(self, icount: int, sysno: int, files: list[OpenFile | None], call: HostWaitCall,
                     new_files: tuple[OpenFile, ...] = (), interrupt_at: int | None = None,
                     block: bool = False) -> tuple[int, Writes]:
        return self.syscall(icount, sysno, lambda: (0, ()))

    def exception(self, icount: int, signal: int, cause: ExceptionCause, pc: int, address: int) -> None:
        ev = self._take(icount, EventKind.EXCEPTION, f"signal {signal} at pc {pc:#x}")
        assert isinstance(ev, GuestException)
        if ev.signal != signal or ev.pc != pc:
            raise self._mismatch(icount, ev, f"signal {signal} at pc {pc:#x}")

    def shutdown(self, icount: int, reason: ShutdownReason, status: int) -> None:
        ev = self._take(icount, EventKind.SHUTDOWN, f"shutdown {reason.name.lower()} status={status}")
        assert isinstance(ev, Shutdown)
        if ev.reason != reason or ev.status != status:
            raise self._mismatch(icount, ev, f"shutdown {reason.name.lower()} status={status}")
        self.shutdown_event = ev

    def sleep(self, seconds: float, wake_on_signal: bool = False) -> bool:
        return False

    def _next_state_hash(self) -> StateHash | None:
        i = bisect.bisect_left(self._state_hashes, self.index)
        if i < len(self._state_hashes):
            ev = self.events[self._state_hashes[i]]
            assert isinstance(ev, StateHash)
            return ev
        return None

    # -- time travel support --------------------------------------------------------------
    def cursor(self) -> LogCursor:
        return (self.index, self.shutdown_event, self.verified_state_hashes)

    def set_cursor(self, cursor: LogCursor) -> None:
        self.index, self.shutdown_event, self.verified_state_hashes = cursor

    def switch(self, icount: int, tid: int | None) -> int:
        ev = self._take(icount, EventKind.TASK_SWITCH, "a task switch")
        assert isinstance(ev, TaskSwitch)
        return ev.tid

    def would_block(self, icount: int, file: OpenFile) -> bool:
        if self.index >= len(self.events):
            return False
        ev = self.events[self.index]
        return ev.kind == EventKind.TASK_SWITCH and ev.icount == icount

    def ready(self, files: list[OpenFile | None], timeout: float, events: list[int] | None = None) -> list[bool]:
        raise AssertionError("a replay never asks the host")

    def process(self, event: ProcessEvent) -> None:
        actual = event.describe()
        ev = self._take(event.icount, EventKind.PROCESS, actual)
        if ev != event:
            raise self._mismatch(event.icount, ev, actual)

    def next_switch(self, icount: int) -> int:
        i = bisect.bisect_left(self._switches, self.index)
        return self.events[self._switches[i]].icount if i < len(self._switches) else NO_LIMIT

    def async_signal(self, icount: int, pid: int, signal: int, clock_id: int, expiry_ns: int) -> bool:
        if self.index >= len(self.events):
            return False
        ev = self.events[self.index]
        if not isinstance(ev, AsyncSignal) or ev.icount != icount or ev.pid != pid or ev.external:
            return False
        if ev.signal != signal:
            raise self._mismatch(icount, ev, f"signal {signal} from a timer")
        self.index += 1
        return True

    def external_signal(self, icount: int, pid: int) -> int:
        if self.index >= len(self.events):
            return 0
        ev = self.events[self.index]
        if not isinstance(ev, AsyncSignal) or ev.icount != icount or ev.pid != pid or not ev.external:
            return 0
        self.index += 1
        return ev.signal

    def next_async(self, icount: int) -> int:
        i = bisect.bisect_left(self._asyncs, self.index)
        return self.events[self._asyncs[i]].icount if i < len(self._asyncs) else NO_LIMIT

    def next_sync(self, icount: int) -> int:
        ev = self._next_state_hash()
        return ev.icount if ev is not None else NO_LIMIT

    def sync(self, icount: int, state_hash: bytes) -> None:
        ev = self._take(icount, EventKind.STATE_HASH, f"state hash {state_hash.hex()[:16]}")
        assert isinstance(ev, StateHash)
        if ev.state_hash != state_hash:
            raise ReplayDivergence(icount, self.index - 1, f"state hash {ev.state_hash.hex()[:16]}",
                                   f"state hash {state_hash.hex()[:16]} (registers or memory differ)",
                                   self.older_log)
        self.verified_state_hashes += 1


def load_program(trace: TraceDir, contents: LogContents) -> Program:
    header = contents.header
    data = trace.load_file(header.program_sha256)
    interp = trace.load_file(header.interpreter_sha256) if header.interpreter_sha256 else None
    return Program(header.program, data, interp)


@dataclass(frozen=True)
class ReplayResult:
    status: int
    icount: int
    shutdown: Shutdown | None
    truncated: bool
    interrupted_recording: bool
    verified_state_hashes: int


class Replay:
    """One replay of a trace: boot from the log, then run forward."""

    def __init__(self, trace: TraceDir, sink: OutputSink | None = None,
                 warn: Callable[[str], None] | None = None, contents: LogContents | None = None) -> None:
        self.trace = trace
        self.contents = contents if contents is not None else read_log(trace.log_path)
        if not self.contents.events:
            raise LogFormatError(f"{trace.path}: the event log holds no events")
        self.hostio = ReplayingHostIO(self.contents, trace, sink or OutputSink.quiet())
        self.process = GuestProcess(self.contents.header, load_program(trace, self.contents),
                                    self.hostio, warn or (lambda message: log.debug("%s", message)))
        self.end_limit = self.hostio.stop_limit()

    def run(self, limit: int = NO_LIMIT, should_stop: Callable[[], bool] | None = None) -> Outcome:
        try:
            return self.process.run(min(limit, self.end_limit), should_stop)
        except RecordingEnded:
            return Outcome.EXITED

    @property
    def icount(self) -> int:
        """Instructions replayed so far."""
        return self.process.icount

    @property
    def auxv(self) -> bytes:
        """The auxiliary vector the program started with."""
        return self.process.auxv

    def run_to_end(self, should_stop: Callable[[], bool] | None = None,
                   progress: Callable[[int], None] | None = None, slice_length: int = 1 << 29) -> bool:
        """Replay to the end of the recording, calling progress(icount) every `slice_length`
        instructions; False when should_stop() interrupted it first."""
        while True:
            outcome = self.run(self.process.icount + slice_length, should_stop)
            if outcome is Outcome.INTERRUPTED:
                return False
            if outcome is not Outcome.LIMIT or self.process.icount >= self.end_limit:
                return True
            if progress is not None:
                progress(self.process.icount)

    def result(self) -> ReplayResult:
        shutdown = self.hostio.shutdown_event
        if shutdown is None and self.process.icount >= self.end_limit:
            shutdown = self.hostio.recording_stopped   # an interrupted recording ends here
        status = shutdown.exit_status() if shutdown else 1
        return ReplayResult(status, self.process.icount, shutdown, not self.contents.complete,
                            bool(shutdown and shutdown.reason in _RECORDING_STOPPED),
                            self.hostio.verified_state_hashes)

    def close(self) -> None:
        self.process.close()
