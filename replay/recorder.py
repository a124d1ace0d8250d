"""Recording: run a program once on the real host, logging every input.

`RecordingHostIO` answers the guest kernel's questions from the real host
(files, terminal, clocks, randomness) and appends each answer to the log as
an event stamped with the instruction count.  `record()` boots the program,
runs it to the end (or until interrupted) and closes the log with SHUTDOWN
and END events.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import math
import os
import select
import stat as _stat
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import icount
from .errors import DiskFullError, ProgramError, TraceError
from .eventlog import LogWriter, TraceHeader
from .events import (
    AsyncSignal,
    CharRead,
    CharWrite,
    Clock,
    ClockSource,
    End,
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
from .linux.abi import EWAIT
from .linux.files import O_ACCMODE, O_NONBLOCK, O_RDONLY, OpenFile
from .linux.tasks import TASK_LIMIT
from .loader import MAX_SHEBANG, ElfImage, parse_elf, script_argv, shebang
from .process import GuestProcess, Outcome, Program
from .scheduler import DEFAULT_SLICE, Deadlock, Policy
from .trace import TraceDir, device_of

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_INTERVAL = 1 << 28   # instructions between state-hash events
O_PATH = 0o10000000
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
WAIT_POLL = 0.1                          # seconds between should_stop() polls in blocking host calls


def _host_has_rdtscp() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return any(line.startswith("flags") and " rdtscp" in line for line in f)
    except OSError:
        return False


_HOST_RDTSCP: bool | None = None


def host_tsc(with_aux: bool) -> tuple[int, int]:
    """The host's time-stamp counter (and, for rdtscp, its TSC_AUX), read with
    the instructions themselves (_icount.c's tt_host_rdtsc).  On a host without
    rdtscp, rdtscp is answered with rdtsc's value and TSC_AUX 0."""
    global _HOST_RDTSCP  # a host property probed once, not state
    if _HOST_RDTSCP is None:
        _HOST_RDTSCP = _host_has_rdtscp()
    fn = icount.library().tt_host_rdtsc
    fn.restype = ctypes.c_uint64
    fn.argtypes = [ctypes.POINTER(ctypes.c_uint32)]
    if with_aux and _HOST_RDTSCP:
        aux = ctypes.c_uint32(0)
        return fn(ctypes.byref(aux)), aux.value
    return fn(None), 0


class RecordingStopped(Exception):
    """Raised inside a blocking host call when should_stop() asks to end the recording.

    It is raised from our own hook code, so Unicorn's hook wrapper carries it out of
    emu_start.  (A KeyboardInterrupt raised by the default SIGINT handler can instead
    fire on entry to a ctypes callback, where ctypes swallows it and the syscall is
    silently skipped: the CLI therefore turns Ctrl-C into should_stop() instead.)
    """


class _TimerExpired(Exception):
    """The guest's interval timer expired during a host wait: the call ends with EINTR."""


class _WouldWait(Exception):
    """A host wait would wait while other threads may run: the call ends with -EWAIT."""


class RecordingHostIO:
    """HostIO over the real host; every answer becomes an event."""

    def __init__(self, writer: LogWriter, trace: TraceDir, checkpoint_interval: int,
                 should_stop: Callable[[], bool] | None = None, sysroot: str | None = None,
                 incoming: Callable[[], int] | None = None) -> None:
        self.writer = writer
        self.incoming = incoming    # the next signal sent to the recording from outside (0: none)
        self._arrived: list[int] = []
        # Another architecture's libraries: an absolute path read-only opened is
        # looked up under `sysroot` first, as `qemu-aarch64 -L` does (the log
        # keeps the guest's path; replay reads the captured bytes).
        self.sysroot = sysroot
        self.should_stop = should_stop
        self.trace = trace
        self.interval = checkpoint_interval
        self._host_fds: dict[int, int] = {}
        # Host descriptors of the files mapped MAP_SHARED (by id of the OpenFile, kept alive here).
        self._mapped: dict[int, tuple[OpenFile, int]] = {}
        self.shutdown_event: Shutdown | None = None
        self._interrupt_at: int | None = None   # during a wait_syscall: the interval timer's expiry
        self._may_block = False     # during a wait_syscall: its first wait may end it (-EWAIT)

    def _hfd(self, f: OpenFile) -> int:
        if f.std_stream is not None:
            return f.std_stream
        return self._host_fds[f.handle]

    def _hfds(self, files: list[OpenFile | None]) -> list[int | None]:
        """The host descriptors behind guest files (None: no file, or none on the host)."""
        hfds: list[int | None] = []
        for f in files:
            try:
                hfds.append(self._hfd(f) if f is not None else None)
            except KeyError:
                hfds.append(None)
        return hfds

    def open(self, icount: int, path: str, flags: int, mode: int, fd: int, file: OpenFile) -> OpenOutcome:
        try:
            hfd = _open_noatime(self._host_path(path, flags), flags | os.O_CLOEXEC, mode)
        except OSError as exc:
            result = -(exc.errno or errno.EIO)
            self.writer.append(FileOpen(icount, path, flags, result, FileKind.NONE))
            return OpenOutcome(result, FileKind.NONE, None)
        st = os.fstat(hfd)
        content = None
        digest = ""
        if _stat.S_ISDIR(st.st_mode):
            kind = FileKind.DIRECTORY
        elif _stat.S_ISREG(st.st_mode) and (flags & O_ACCMODE) == O_RDONLY and not flags & O_PATH:
            kind = FileKind.CAPTURED
            content = _read_all(hfd, st.st_size)
            digest = self.trace.store_file(content)
        elif _stat.S_ISREG(st.st_mode):
            kind = FileKind.HOST
        else:
            kind = FileKind.CHAR
        self._host_fds[file.handle] = hfd
        self.writer.append(FileOpen(icount, path, flags, fd, kind, digest,
                                    len(content) if content is not None else 0))
        return OpenOutcome(0, kind, content)

    def _host_path(self, path: str, flags: int) -> str:
        if self.sysroot and path.startswith("/") and (flags & O_ACCMODE) == O_RDONLY:
            inside = os.path.join(self.sysroot, path.lstrip("/"))
            if os.path.lexists(inside):
                return inside
        return path

    def close(self, file: OpenFile) -> None:
        hfd = self._host_fds.pop(file.handle, None)
        if hfd is not None:
            os.close(hfd)

    def map_shared(self, file: OpenFile) -> None:
        if id(file) not in self._mapped:
            self._mapped[id(file)] = (file, os.dup(self._hfd(file)))

    def write_back(self, file: OpenFile, offset: int, data: bytes) -> None:
        entry = self._mapped.get(id(file))
        if entry is None:
            return
        hfd = entry[1]
        try:
            size = os.fstat(hfd).st_size
            data = data[:max(0, size - offset)]
            while data:
                done = os.pwrite(hfd, data, offset)
                data, offset = data[done:], offset + done
        except OSError as exc:
            log.warning("could not write a shared mapping back to %s: %s", file.path, exc.strerror)

    def read(self, icount: int, fd: int, file: OpenFile, count: int, offset: int | None) -> tuple[int, bytes]:
        try:
            hfd = self._hfd(file)
            if offset is None and not (file.socket is not None and file.flags & O_NONBLOCK):
                self._wait_readable(hfd)
            data = os.read(hfd, count) if offset is None else os.pread(hfd, count, offset)
            result = len(data)
        except OSError as exc:
            data, result = b"", -(exc.errno or errno.EIO)
        self.writer.append(CharRead(icount, fd, result, data))
        return result, data

    def write(self, icount: int, fd: int, file: OpenFile, data: bytes, offset: int | None) -> int:
        try:
            hfd = self._hfd(file)
            if file.socket is not None and file.flags & O_NONBLOCK:
                result = os.write(hfd, data)
            else:
                result = self._write(hfd, data) if offset is None else os.pwrite(hfd, data, offset)
        except OSError as exc:
            result = -(exc.errno or errno.EIO)
        self.writer.append(CharWrite(icount, fd, len(data), result))
        return result

    def clock(self, icount: int, source: ClockSource, clock_id: int) -> int:
        value = time.clock_gettime_ns(clock_id if source == ClockSource.CLOCK_GETTIME else time.CLOCK_REALTIME)
        self.writer.append(Clock(icount, source, clock_id, value))
        return value

    def tsc(self, icount: int, with_aux: bool) -> tuple[int, int]:
        value, aux = host_tsc(with_aux)
        source = ClockSource.RDTSCP if with_aux else ClockSource.RDTSC
        self.writer.append(Clock(icount, source, 0, value, aux))
        return value, aux

    def random(self, icount: int, source: RandomSource, count: int) -> bytes:
        data = os.urandom(count)
        self.writer.append(Random(icount, source, data))
        return data

    def syscall(self, icount: int, sysno: int, call: HostCall) -> tuple[int, Writes]:
        result, writes = call()
        self.writer.append(SyscallResult(icount, sysno, result, tuple(writes)))
        return result, tuple(writes)

    def fd_syscall(self, icount: int, sysno: int, file: OpenFile, call: HostFdCall) -> tuple[int, Writes]:
        try:
            hfd = self._hfd(file)
        except KeyError:
            result, writes = -errno.EBADF, ()
        else:
            result, writes = call(hfd)
        self.writer.append(SyscallResult(icount, sysno, result, tuple(writes)))
        return result, tuple(writes)

    def files_syscall(self, icount: int, sysno: int, files: list[OpenFile | None],
                      call: HostFdsCall) -> tuple[int, Writes]:
        hfds = self._hfds(files)
        result, writes = call(hfds)
        self.writer.append(SyscallResult(icount, sysno, result, tuple(writes)))
        return result, tuple(writes)

    def wait_syscall(self, icount: int, sysno: int, files: list[OpenFile | None], call: HostWaitCall,
                     new_files: tuple[OpenFile, ...] = (), interrupt_at: int | None = None,
                     block: bool = False) -> tuple[int, Writes]:
        hfds = self._hfds(files)
        self._interrupt_at = interrupt_at
        self._may_block = block
        try:
            result, writes, made = call(hfds, self._wait)
        except _TimerExpired:
            result, writes, made = -errno.EINTR, (), []
        except _WouldWait:
            result, writes, made = -EWAIT, (), []
        finally:
            self._interrupt_at = None
            self._may_block = False
        if result >= 0 and len(made) == len(new_files):
            for f, hfd in zip(new_files, made):
                self._host_fds[f.handle] = hfd
        else:
            for hfd in made:
                os.close(hfd)
        self.writer.append(SyscallResult(icount, sysno, result, tuple(writes)))
        return result, tuple(writes)

    def _wait(self, entries: list[tuple[int, int]], timeout_ms: int | None) -> dict[int, int]:
        """Poll host fds until one is ready or the timeout passes, polling
        should_stop() (Ctrl-C) every WAIT_POLL seconds."""
        poller = select.poll()
        for hfd, events in entries:
            poller.register(hfd, events)
        if self._may_block:
            # The call's first wait, while other threads may run: wait in the scheduler instead.
            self._may_block = False
            if timeout_ms != 0:
                ready = poller.poll(0)
                if ready:
                    return dict(ready)
                raise _WouldWait()
        end = None if timeout_ms is None or timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        while True:
            if self._interrupt_at is not None and (time.clock_gettime_ns(time.CLOCK_MONOTONIC) >= self._interrupt_at
                                                   or self._signalled()):
                raise _TimerExpired()
            left = WAIT_POLL if end is None else min(WAIT_POLL, max(0.0, end - time.monotonic()))
            if self._interrupt_at is not None:
                left = min(left, max(0.0, (self._interrupt_at - time.clock_gettime_ns(time.CLOCK_MONOTONIC)) / 1e9))
            ready = poller.poll(math.ceil(left * 1000))
            if ready:
                return dict(ready)
            if end is not None and time.monotonic() >= end:
                return {}
            if self.should_stop is not None and self.should_stop():
                raise RecordingStopped()

    def exception(self, icount: int, signal: int, cause: ExceptionCause, pc: int, address: int) -> None:
        self.writer.append(GuestException(icount, signal, cause, pc, address))

    def shutdown(self, icount: int, reason: ShutdownReason, status: int) -> None:
        event = Shutdown(icount, reason, status)
        self.shutdown_event = event
        self.writer.append(event, closing=True)

    def _write(self, hfd: int, data: bytes) -> int:
        """os.write, but a pipe nobody reads must not make Ctrl-C wait: write
        PIPE_BUF bytes at a time (never blocks once select says writable),
        polling should_stop() (Ctrl-C) while the pipe is full.  All of `data`
        is written, as a blocking write to a pipe does.  A socket (kept
        non-blocking on the host) is written the same way, but a whole
        datagram at once."""
        mode = os.fstat(hfd).st_mode
        if not _stat.S_ISSOCK(mode) and (self.should_stop is None or not _stat.S_ISFIFO(mode)):
            return os.write(hfd, data)
        step = len(data) if _stat.S_ISSOCK(mode) else select.PIPE_BUF
        done = 0
        while done < len(data):
            while not select.select([], [hfd], [], WAIT_POLL)[1]:
                if self.should_stop is not None and self.should_stop():
                    raise RecordingStopped()
            try:
                done += os.write(hfd, data[done:done + step])
            except OSError:
                if not done:
                    raise
                break                       # as Linux: the bytes written so far count
        return done

    def _wait_readable(self, hfd: int) -> None:
        """Block until `hfd` is readable, polling should_stop() (Ctrl-C) meanwhile."""
        while True:
            try:
                ready, _, _ = select.select([hfd], [], [], WAIT_POLL)
            except (OSError, ValueError):
                return                      # let the read itself report the problem
            if ready:
                return
            if self.should_stop is not None and self.should_stop():
                raise RecordingStopped()

    def _signalled(self) -> bool:
        """Some signal sent to the recording from outside waits to be delivered."""
        if self.incoming is not None:
            while signo := self.incoming():
                self._arrived.append(signo)
        return bool(self._arrived)

    def sleep(self, seconds: float, wake_on_signal: bool = False) -> bool:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.should_stop is not None and self.should_stop():
                raise RecordingStopped()
            if wake_on_signal and self._signalled():
                return True
            time.sleep(min(left, WAIT_POLL))
        return False

    def external_signal(self, icount: int, pid: int) -> int:
        if not self._signalled():
            return 0
        signo = self._arrived.pop(0)
        self.writer.append(AsyncSignal(icount, signo, pid, external=True))
        return signo

    def switch(self, icount: int, tid: int | None) -> int:
        assert tid is not None, "the recording's scheduler always chooses"
        self.writer.append(TaskSwitch(icount, tid))
        return tid

    def next_switch(self, icount: int) -> int:
        return NO_LIMIT

    def process(self, event: ProcessEvent) -> None:
        self.writer.append(event)

    def would_block(self, icount: int, file: OpenFile) -> bool:
        try:
            hfd = self._hfd(file)
            return not select.select([hfd], [], [], 0)[0]
        except (KeyError, OSError, ValueError):
            return False                    # the read itself reports the problem

    def ready(self, files: list[OpenFile | None], timeout: float, events: list[int] | None = None) -> list[bool]:
        wanted = events if events is not None else [select.POLLIN] * len(files)
        hfds = self._hfds(files)
        if any(h is None for h in hfds):
            return [h is None for h in hfds]     # a closed fd: its call fails at once
        union: dict[int, int] = {}
        for h, e in zip(hfds, wanted):
            union[h] = union.get(h, 0) | e      # type: ignore[index]
        poller = select.poll()
        for h, e in union.items():
            poller.register(h, e)
        end = time.monotonic() + timeout
        while True:
            try:
                left = min(WAIT_POLL, max(0.0, end - time.monotonic()))
                got = dict(poller.poll(math.ceil(left * 1000)))
            except (OSError, ValueError):
                return [True] * len(files)
            if got or time.monotonic() >= end:
                return [bool(got.get(h, 0) & (e | select.POLLERR | select.POLLHUP | select.POLLNVAL))  # type: ignore[arg-type]
                        for h, e in zip(hfds, wanted)]
            if self.should_stop is not None and self.should_stop():
                raise RecordingStopped()

    def async_signal(self, icount: int, pid: int, signal: int, clock_id: int, expiry_ns: int) -> bool:
        if time.clock_gettime_ns(clock_id) < expiry_ns:
            return False
        self.writer.append(AsyncSignal(icount, signal, pid))
        return True

    def next_async(self, icount: int) -> int:
        return NO_LIMIT

    def next_sync(self, icount: int) -> int:
        return (icount // self.interval + 1) * self.interval

    def sync(self, icount: int, state_hash: bytes) -> None:
        self.writer.append(StateHash(icount, state_hash))

    def close_all(self) -> None:
        for hfd in self._host_fds.values():
            try:
                os.close(hfd)
            except OSError:
                pass
        self._host_fds.clear()
        for _file, hfd in self._mapped.values():
            os.close(hfd)
        self._mapped.clear()


def _open_noatime(path: str, flags: int, mode: int) -> int:
    """os.open; read-only, with O_NOATIME where the host allows it (files the user
    owns): capturing a file reads it whole at open, which must not change its
    access time before the guest fstats it (gzip copies it to its output)."""
    if (flags & O_ACCMODE) == O_RDONLY and not flags & O_PATH:
        try:
            return os.open(path, flags | os.O_NOATIME, mode)
        except PermissionError:
            pass
    return os.open(path, flags, mode)


def _read_all(fd: int, size_hint: int) -> bytes:
    chunks = []
    offset = 0
    while True:
        chunk = os.pread(fd, max(size_hint - offset, 1 << 20), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def sysroot_for(image: ElfImage, sysroot: str | None) -> str | None:
    """The sysroot a dynamic program's loader and libraries come from: `sysroot`,
    or its architecture's default (None for a static program or the host's own)."""
    if not image.interp:
        return None
    if sysroot is None:
        sysroot = image.arch.default_sysroot
        if sysroot is not None and not os.path.isdir(sysroot):
            raise ProgramError(f"{image.path}: a dynamic {image.arch.name} program needs its libraries: install "
                               f"{image.arch.sysroot_package} (for {sysroot}) or pass --sysroot DIR")
    elif not os.path.isdir(sysroot):
        raise ProgramError(f"{sysroot}: no such directory (--sysroot)")
    return sysroot


def read_program(path: str) -> bytes:
    """The program's bytes, or a ProgramError that says what is wrong."""
    if not os.path.lexists(path):
        raise ProgramError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ProgramError(f"{path}: is a directory")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ProgramError(f"{path}: cannot read: {exc.strerror}") from None


def follow_script(program_path: str, argv: list[str], data: bytes) -> tuple[str, list[str], bytes]:
    """A `#!` script given as the program runs as Linux's execve runs it: its
    interpreter, with the script (as named in argv[0]) as an argument.  The
    program, its argv and its bytes; an ELF program's unchanged."""
    for _ in range(MAX_SHEBANG + 1):
        script = shebang(data)
        if script is None:
            return program_path, argv, data
        interp, arg = script
        named = argv[0] if argv and "/" in argv[0] else program_path
        raw = script_argv(interp, arg, os.fsencode(named), [os.fsencode(v) for v in argv])
        program_path, argv = interp, [os.fsdecode(v) for v in raw]
        data = read_program(interp)
    raise ProgramError(f"{program_path}: too many levels of #! interpreters")


def resolve_program(name: str) -> str:
    """Find PROGRAM like a shell does: a path as is, a bare name on $PATH."""
    if "/" in name:
        return os.path.abspath(name)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise ProgramError(f"{name}: command not found")


@dataclass(frozen=True)
class RecordResult:
    trace: TraceDir
    status: int                 # the shell-style exit status
    shutdown: Shutdown | None
    icount: int
    events: int
    seconds: float


def record(program_path: str, argv: list[str], trace: TraceDir, *,
           env: list[str] | None = None, checkpoint_interval: int = DEFAULT_CHECKPOINT_INTERVAL,
           warn: Callable[[str], None] = lambda message: log.warning("%s", message),
           progress: Callable[[int], None] | None = None,
           should_stop: Callable[[], bool] | None = None,
           program_data: bytes | None = None, slice_length: int = DEFAULT_SLICE,
           chaos_seed: int | None = None, task_limit: int = TASK_LIMIT,
           sysroot: str | None = None, incoming: Callable[[], int] | None = None) -> RecordResult:
    """Record one run of `program_path` into `trace` (an empty trace directory).

    `should_stop` is polled between time slices and while the guest waits for
    input; when it returns True the recording ends cleanly as INTERRUPTED.
    `program_data`: the program's bytes, when the caller has already read them.
    Threads take turns of `slice_length` instructions; with `chaos_seed`, of
    random lengths and in a random order drawn from that seed (scheduler.py).
    More than `task_limit` threads and processes at once: clone and fork fail with EAGAIN.
    `sysroot`: where a dynamic program of another architecture finds its loader
    and libraries (default: its architecture's, see sysroot_for).
    `incoming`: the next signal another host process sent the recording (0: none),
    polled between time slices and in waits; it is delivered to the first process
    at that instruction count (an external ASYNC_SIGNAL event).
    """
    data = program_data if program_data is not None else read_program(program_path)
    program_path, argv, data = follow_script(program_path, argv, data)
    image = parse_elf(program_path, data)
    sysroot = sysroot_for(image, sysroot)
    interp_data = None
    interp_digest = ""
    if image.interp:
        interp_data = read_program(os.path.join(sysroot, image.interp.lstrip("/")) if sysroot else image.interp)
        parse_elf(image.interp, interp_data)
        interp_digest = trace.store_file(interp_data)
    digest = trace.store_file(data)
    header = TraceHeader(
        machine=image.arch.elf_machine, program=program_path, program_sha256=digest, argv=tuple(argv),
        env=tuple(env if env is not None else (f"{k}={v}" for k, v in os.environ.items())),
        cwd=os.getcwd(), pid=os.getpid(), interpreter=image.interp, interpreter_sha256=interp_digest,
        extra={"ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()], "ppid": os.getppid(),
               "checkpoint_interval": checkpoint_interval, "state_hash": "crc32", "cpu": image.arch.signature,
               "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "scheduler": {"slice": slice_length, "chaos_seed": chaos_seed, "task_limit": task_limit}},
    )
    try:
        writer = LogWriter(trace.log_path, header)
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise DiskFullError(device_of(trace.path), None) from None
        raise TraceError(f"cannot write {trace.log_path}: {exc.strerror}") from None
    hostio = RecordingHostIO(writer, trace, checkpoint_interval, should_stop, sysroot, incoming)
    started = time.monotonic()
    process = GuestProcess(header, Program(program_path, data, interp_data), hostio, warn,
                           Policy(slice_length, chaos_seed))
    failed = False
    try:
        outcome = _run(process, progress, should_stop)
        if outcome != Outcome.EXITED and hostio.shutdown_event is None:
            hostio.shutdown(process.icount, ShutdownReason.INTERRUPTED, 0)
    except Deadlock as exc:
        warn(str(exc))
        if hostio.shutdown_event is None:
            hostio.shutdown(process.icount, ShutdownReason.DEADLOCK, 0)
    except (KeyboardInterrupt, RecordingStopped):
        if hostio.shutdown_event is None:
            hostio.shutdown(process.icount, ShutdownReason.INTERRUPTED, 0)
    except Exception as exc:
        failed = True
        # ttdbg itself failed, or the device filled up: keep everything recorded
        # so far, closed properly (the log keeps space reserved for this).
        if hostio.shutdown_event is None:
            _closing(lambda: hostio.shutdown(process.icount, ShutdownReason.ERROR, 0))
        if isinstance(exc, DiskFullError) or (isinstance(exc, OSError) and exc.errno in _NO_SPACE):
            raise DiskFullError(device_of(trace.path), process.icount) from None
        raise
    finally:
        if failed:
            _closing(lambda: writer.append(End(process.icount), closing=True))
            _closing(writer.close)
        else:
            writer.append(End(process.icount), closing=True)
            writer.close()
        hostio.close_all()
    elapsed = time.monotonic() - started
    shutdown = hostio.shutdown_event
    status = shutdown.exit_status() if shutdown else 1
    icount = process.icount
    process.close()
    return RecordResult(trace, status, shutdown, icount, writer.events_written, elapsed)


def _closing(step: Callable[[], None]) -> None:
    """One step of closing a log after a failure: a second failure must not hide the first."""
    try:
        step()
    except OSError as exc:
        log.warning("could not close the trace cleanly: %s", exc.strerror)


def _run(process: GuestProcess, progress: Callable[[int], None] | None,
         should_stop: Callable[[], bool] | None) -> Outcome:
    if progress is None:
        return process.run(should_stop=should_stop)
    interval = 1 << 29
    while True:
        outcome = process.run(limit=process.icount + interval, should_stop=should_stop)
        if outcome != Outcome.LIMIT:
            return outcome
        progress(process.icount)


