"""Typed errors of the replay engine.

Every failure the engine can report has a type here, so that each boundary
(CLI, REPL, gdb stub) maps them once: an exit status, a one-line message, an
error reply.  Library code never prints or exits.
"""

from __future__ import annotations


class ReplayError(Exception):
    """Base class of every error the engine reports to its callers."""

    exit_status = 1


class ProgramError(ReplayError):
    """The program to record cannot be run: missing, not ELF, wrong arch."""

    exit_status = 127


class UnsupportedError(ReplayError):
    """The guest needs something ttdbg does not emulate."""

    exit_status = 70


class TraceError(ReplayError):
    """A trace directory cannot be used (missing, unwritable, exists)."""

    exit_status = 66


class LogFormatError(TraceError):
    """The event log is corrupt, foreign or of a newer version."""

    exit_status = 65


class TraceBusyError(TraceError):
    """Another ttdbg is recording into the same trace directory."""

    exit_status = 66


class DiskFullError(TraceError):
    """The device holding the trace filled up while recording.

    The recording is stopped and the trace closed: it replays up to `icount`.
    """

    exit_status = 73

    def __init__(self, device: str, icount: int | None) -> None:
        self.device = device
        self.icount = icount
        if icount is None:
            super().__init__(f"no space left on {device} while creating the trace; nothing was recorded")
        else:
            super().__init__(f"no space left on {device} while recording; "
                             f"the trace is complete up to instruction {icount:,}")


class ReplayDivergence(ReplayError):
    """The replay does not match the recording.

    Carries the instruction count and the event index where it happened,
    what the log expected and what the replay did instead.
    """

    exit_status = 75

    def __init__(self, icount: int, event_index: int, expected: str, actual: str, log_version: int = 0) -> None:
        self.icount = icount
        self.event_index = event_index
        self.expected = expected
        self.actual = actual
        # A log older than this ttdbg's: its recorder answered some system calls
        # differently (refused one this ttdbg records), so a divergence is expected.
        older = (f"; the trace was recorded by an older ttdbg (log version {log_version}), which "
                 f"answered some system calls differently: record it again") if log_version else ""
        super().__init__(
            f"replay diverged at instruction {icount:,} (event #{event_index}): "
            f"expected {expected}, got {actual}{older}"
        )


class TraceTruncated(ReplayError):
    """The replay reached the end of a truncated log (a killed recording)."""

    exit_status = 74

    def __init__(self, icount: int, events: int) -> None:
        self.icount = icount
        self.events = events
        super().__init__(
            f"the trace is truncated: replay stopped at instruction {icount:,} "
            f"after its last complete event (#{events - 1})"
        )
