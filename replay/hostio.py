"""The boundary between the deterministic guest OS and the outside world.

Everything the emulated Linux needs from outside the guest goes through one
`HostIO` object.  While recording it is a `RecordingHostIO` (recorder.py):
it asks the real host and writes each answer to the event log.  While
replaying it is a `ReplayingHostIO` (replayer.py): it answers from the log
and touches nothing on the host.  The guest OS code above it is identical in
both modes, which is what makes replay exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .events import ClockSource, ExceptionCause, FileKind, ProcessEvent, RandomSource, ShutdownReason
from .linux.files import OpenFile

Writes = tuple[tuple[int, bytes], ...]
HostCall = Callable[[], tuple[int, Writes]]
HostFdCall = Callable[[int], tuple[int, Writes]]
HostFdsCall = Callable[[list[int | None]], tuple[int, Writes]]
# wait(entries, timeout_ms): poll host fds for (hfd, events) until one is ready or
# timeout_ms passes (None: no limit), honouring Ctrl-C; the ready ones' revents.
Waiter = Callable[[list[tuple[int, int]], "int | None"], dict[int, int]]
# A call that may wait for host fds and may make new host fds (socket, accept):
# (result, memory writes, the new host fds for the call's new files).
HostWaitCall = Callable[[list[int | None], Waiter], tuple[int, Writes, list[int]]]


@dataclass(frozen=True)
class OpenOutcome:
    result: int              # 0, or -errno
    kind: FileKind
    content: bytes | None    # captured content (CAPTURED)


class HostIO(Protocol):
    def open(self, icount: int, path: str, flags: int, mode: int, fd: int,
             file: OpenFile) -> OpenOutcome: ...
    def close(self, file: OpenFile) -> None: ...
    def read(self, icount: int, fd: int, file: OpenFile, count: int,
             offset: int | None) -> tuple[int, bytes]: ...
    def write(self, icount: int, fd: int, file: OpenFile, data: bytes,
              offset: int | None) -> int: ...
    def map_shared(self, file: OpenFile) -> None:
        """`file` (a host file) is mapped MAP_SHARED: recording keeps a host descriptor
        of it for write_back, whatever the guest closes; replay does nothing."""
        ...
    def write_back(self, file: OpenFile, offset: int, data: bytes) -> None:
        """The guest's writes to a shared mapping of `file` reach it (shared_files.py):
        recording writes them to the host file (none past its end), replay never does.
        Nothing is returned to the guest, so nothing is logged."""
        ...
    def clock(self, icount: int, source: ClockSource, clock_id: int) -> int: ...
    def tsc(self, icount: int, with_aux: bool) -> tuple[int, int]: ...
    def random(self, icount: int, source: RandomSource, count: int) -> bytes: ...
    def syscall(self, icount: int, sysno: int, call: HostCall) -> tuple[int, Writes]: ...
    def fd_syscall(self, icount: int, sysno: int, file: OpenFile,
                   call: HostFdCall) -> tuple[int, Writes]: ...
    def files_syscall(self, icount: int, sysno: int, files: list[OpenFile | None],
                      call: HostFdsCall) -> tuple[int, Writes]:
        """Like fd_syscall over several files (None where a file has no host fd)."""
        ...
    def wait_syscall(self, icount: int, sysno: int, files: list[OpenFile | None], call: HostWaitCall,
                     new_files: tuple[OpenFile, ...] = (), interrupt_at: int | None = None,
                     block: bool = False) -> tuple[int, Writes]:
        """Like files_syscall for calls that may block (sockets, poll): the call
        is given a Waiter; the host fds it returns belong to `new_files` from now
        on when the result is not an error (closed otherwise).  When CLOCK_MONOTONIC
        reaches `interrupt_at` (the interval timer's expiry) in a wait, the call
        ends there with -EINTR.  With `block` (other threads may run), a first
        wait that would wait ends the call at once with -EWAIT (abi.py): the
        thread blocks instead, and makes the call again when its fds are ready."""
        ...
    def exception(self, icount: int, signal: int, cause: ExceptionCause, pc: int,
                  address: int) -> None: ...
    def shutdown(self, icount: int, reason: ShutdownReason, status: int) -> None: ...
    def sleep(self, seconds: float, wake_on_signal: bool = False) -> bool:
        """Wait `seconds` while recording (replay: not at all).  With `wake_on_signal`,
        a signal sent to the recording from outside ends it early: True then."""
        ...
    def switch(self, icount: int, tid: int | None) -> int:
        """The thread to run from `icount` on: recording logs the scheduler's
        choice `tid`; replay answers from the log (a TASK_SWITCH event)."""
        ...
    def would_block(self, icount: int, file: OpenFile) -> bool:
        """Would a read of `file` wait for input?  Recording: the host says; replay:
        the log does (the recorded read was followed at once by a switch)."""
        ...
    def ready(self, files: list[OpenFile | None], timeout: float, events: list[int] | None = None) -> list[bool]:
        """Recording only: which of `files` have input (or the poll `events` given for
        each), waiting up to `timeout` s for one (polling should_stop, as blocking reads do)."""
        ...
    def process(self, event: ProcessEvent) -> None:
        """A process started, exec'd or ended: recording logs it, replay checks it is next."""
        ...
    def next_switch(self, icount: int) -> int:
        """Replay: the count of the next logged TASK_SWITCH (recording: none, NO_LIMIT)."""
        ...
    def async_signal(self, icount: int, pid: int, signal: int, clock_id: int, expiry_ns: int) -> bool:
        """Whether `signal` (process `pid`'s timer's, expiring at expiry_ns on
        clock_id) arrives here from outside: while recording, when the host's clock has passed the
        expiry (then logged as ASYNC_SIGNAL); on replay, when the log has it at
        this instruction count."""
        ...
    def external_signal(self, icount: int, pid: int) -> int:
        """A signal sent to the recording from outside (another host process's kill),
        for process `pid` here, or 0: while recording, the first one that arrived
        (then logged as an external ASYNC_SIGNAL); on replay, the log's at this count."""
        ...
    def next_async(self, icount: int) -> int:
        """The next instruction count at which async_signal must be asked (replay);
        recording delivers where it notices (NO_LIMIT)."""
        ...
    def next_sync(self, icount: int) -> int:
        """The next instruction count at which sync() must be called."""
        ...
    def sync(self, icount: int, state_hash: bytes) -> None:
        """Record (or verify) the machine state hash at a sync point."""
        ...
