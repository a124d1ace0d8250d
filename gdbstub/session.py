"""One gdb connection's protocol state, with no I/O.

A :class:`Session` takes frame events (or raw bytes, via :meth:`Session.feed`)
and returns the bytes to send back.  It owns the per-connection state - ack
or no-ack mode, the features gdb announced, the selected threads, the last
packet sent (for ``-`` retransmission) - and dispatches each parsed request
through a table of handlers.  Handlers reach the debuggee only through the
:class:`~gdbstub.target.Target` protocol and map :class:`TargetError` to
``Exx`` (or ``F-1,errno`` for host I/O) in one place.

Nothing escapes :meth:`Session.handle_event`: unexpected exceptions from the
target are logged and answered with an error reply, so one bad packet can
never take the connection down.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from typing import Any

from . import replies
from .features import PROCESS_EVENTS, supported_reply, target_xml, xfer_chunk
from .framing import (
    Ack,
    BadFrame,
    Decoder,
    FrameEvent,
    Interrupt,
    Nak,
    Overlong,
    Packet,
    frame,
)
from .packets import (
    Breakpoint,
    CatchSyscalls,
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
    Request,
    Resume,
    SetThread,
    SignalList,
    StartNoAckMode,
    ThreadAlive,
    ThreadExtraInfo,
    ThreadId,
    ThreadInfoFirst,
    ThreadInfoNext,
    Unknown,
    VCont,
    VContQuery,
    WriteMemory,
    WriteRegister,
    WriteRegisters,
    XferRead,
    parse,
)
from .target import (
    BREAK_CAPABILITY,
    Capability,
    Direction,
    StopKind,
    StopReason,
    Target,
    TargetError,
)

logger = logging.getLogger(__name__)

DEFAULT_PACKET_SIZE = 0x4000
MAX_RESENDS = 4
"""How many times one packet is sent again on ``-`` before the connection is dropped.

A real gdb NAKs a packet only when a byte got mangled on the way, so a few
retransmissions are plenty; a peer that keeps NAKing would otherwise make the
stub send the same packet for ever (20,000 ``-`` cost 164 MB of output).
"""

Reply = bytes | list[bytes] | None
"""A handler's answer: one payload, several (e.g. ``O`` output then ``OK``), or none."""


def _never() -> bool:
    return False


class Session:
    """Protocol state for one gdb connection.

    ``should_stop`` is handed to :meth:`Target.resume`; the server makes it
    return True when gdb sends 0x03 while the target runs.
    """

    def __init__(
        self,
        target: Target,
        *,
        should_stop: Callable[[], bool] = _never,
        packet_size: int = DEFAULT_PACKET_SIZE,
        rle: bool = False,
    ) -> None:
        self._target = target
        self._should_stop = should_stop
        self._packet_size = packet_size
        self._rle = rle
        self._decoder = Decoder(packet_size)
        self._ack_mode = True
        self._enter_noack = False
        self._last_sent: bytes | None = None
        self._resends = 0
        self._gdb_features: frozenset[str] = frozenset()
        self._multiprocess = False
        self._closed = False
        self._target_xml: bytes | None = None
        self._threads_xml = b""
        self._g_tid: int | None = None  # Hg: whose registers g/p/G/P mean (None: the current thread)
        self._c_tid: int | None = None  # Hc: which thread s/bs step (None: see _alive_hint)
        self._alive_hint: int | None = None  # the one thread gdb checked with T since the last stop
        self._alive_conflict = False
        self._thread_ids: list[bytes] = []  # what qsThreadInfo has still to send
        self._children: set[int] = set()  # pids of fork/vfork stops gdb has not detached yet
        self._g_child: int | None = None  # Hg named one of them (gdb takes its breakpoints out)
        self._handlers: dict[type, Callable[[Any], Reply]] = {
            QuerySupported: self._query_supported,
            StartNoAckMode: self._start_noack,
            QueryStopReason: self._query_stop_reason,
            ReadRegisters: self._read_registers,
            WriteRegisters: self._write_registers,
            ReadRegister: self._read_register,
            WriteRegister: self._write_register,
            ReadMemory: self._read_memory,
            WriteMemory: self._write_memory,
            SetThread: self._set_thread,
            ThreadAlive: self._thread_alive,
            Resume: self._resume,
            VContQuery: lambda req: b"vCont;c;C;s;S",
            VCont: self._vcont,
            Breakpoint: self._breakpoint,
            XferRead: self._xfer_read,
            QueryAttached: self._query_attached,
            QueryCurrentThread: lambda req: b"QC" + self._thread_id(),
            ThreadInfoFirst: self._thread_info_first,
            ThreadInfoNext: self._thread_info_next,
            ThreadExtraInfo: self._thread_extra_info,
            QuerySymbol: lambda req: replies.OK,
            Monitor: self._monitor,
            SignalList: self._signal_list,
            CatchSyscalls: self._catch_syscalls,
            HostOpen: self._host_open,
            HostPread: self._host_pread,
            HostClose: self._host_close,
            HostReadlink: self._host_readlink,
            HostFstat: self._host_fstat,
            HostSetfs: self._host_setfs,
            Detach: self._detach,
            Kill: self._kill,
            Unknown: lambda req: replies.EMPTY,
            Malformed: self._malformed,
        }

    # --- public interface ------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once gdb detached or killed: the server should drop the connection."""
        return self._closed

    @property
    def ack_mode(self) -> bool:
        return self._ack_mode

    def feed(self, data: bytes) -> bytes:
        """Decode raw bytes from gdb and return everything to send back."""
        return b"".join(self.handle_event(event) for event in self._decoder.feed(data))

    def handle_event(self, event: FrameEvent) -> bytes:
        """Answer one frame event; returns the bytes to write (possibly empty)."""
        if isinstance(event, Packet):
            return self._packet(event.payload)
        if isinstance(event, BadFrame):
            logger.warning("bad packet: %s", event.reason)
            if self._ack_mode:
                return b"-"
            if event.payload is not None:  # no-ack: the transport is trusted
                return self._packet(event.payload)
            return self._send([replies.error(errno.EINVAL)])
        if isinstance(event, Overlong):
            logger.warning("packet of %d bytes exceeds %d", event.length, self._packet_size)
            return (b"+" if self._ack_mode else b"") + self._send([replies.error(errno.E2BIG)])
        if isinstance(event, Nak):
            if not self._ack_mode or self._last_sent is None or self._closed:
                return b""
            if self._resends >= MAX_RESENDS:
                logger.warning("gdb refused the same packet %d times: dropping the connection", self._resends + 1)
                self._closed = True
                return b""
            self._resends += 1
            logger.debug("-> (resend) %r", self._last_sent)
            return self._last_sent
        if isinstance(event, Interrupt):
            logger.debug("<- interrupt while stopped: ignored")
            return b""
        if isinstance(event, Ack):
            return b""
        logger.error("unexpected frame event %r", event)  # pragma: no cover
        return b""

    def handle_request(self, request: Request) -> list[bytes]:
        """Dispatch one parsed request; returns reply payloads (unframed)."""
        handler = self._handlers.get(type(request))
        try:
            if handler is None:  # pragma: no cover - the table covers every request
                raise NotImplementedError(type(request).__name__)
            reply = handler(request)
        except TargetError as exc:
            logger.debug("target error for %r: %s", request, exc)
            reply = replies.error(exc.errno)
        except Exception:
            logger.exception("handler failed for %r", request)
            reply = replies.error(errno.EIO)
        if reply is None:
            return []
        return [reply] if isinstance(reply, bytes) else reply

    # --- plumbing -------------------------------------------------------------

    def _packet(self, payload: bytes) -> bytes:
        logger.debug("<- %r", payload)
        ack = b"+" if self._ack_mode else b""
        out = ack + self._send(self.handle_request(parse(payload)))
        if self._enter_noack:
            self._enter_noack = False
            self._ack_mode = False
        return out

    def _send(self, payloads: list[bytes]) -> bytes:
        frames = []
        for payload in payloads:
            logger.debug("-> %r", payload)
            frames.append(frame(payload, rle=self._rle))
        if frames:
            self._last_sent = frames[-1]
            self._resends = 0
        return b"".join(frames)

    def _has(self, capability: Capability) -> bool:
        return capability in self._target.capabilities

    def _stop_reply(self, reason: StopReason) -> bytes:
        if reason.kind in (StopKind.FORK, StopKind.VFORK) and reason.child is not None:
            self._children.add(reason.child)    # gdb detaches it (D;pid), or follows it (not offered)
        registers = self._target.description.registers
        expedite: list[tuple[Any, int | None]] = []
        if any(reg.expedite for reg in registers):
            try:
                values = self._target.read_registers(None)
            except TargetError:
                values = []
            expedite = [
                (reg, value) for reg, value in zip(registers, values) if reg.expedite
            ]
        return replies.stop_reply(
            reason,
            self._target.tid,
            pid=self._target.pid if self._multiprocess else None,
            swbreak="swbreak+" in self._gdb_features,
            hwbreak="hwbreak+" in self._gdb_features,
            expedite=expedite,
        )

    def _wire_pid(self) -> int | None:
        return self._target.pid if self._multiprocess else None

    def _thread_id(self) -> bytes:
        return replies.thread_id(self._target.tid, self._wire_pid())

    def _is_our_process(self, pid: int | None) -> bool:
        return pid is None or pid == self._target.pid

    def _live_tids(self) -> set[int]:
        return {t.tid for t in self._target.threads()} | {self._target.tid}

    def _is_our_thread(self, thread: ThreadId) -> bool:
        pid_ok = thread.pid in (None, ThreadId.ALL, ThreadId.ANY, self._target.pid)
        return pid_ok and (thread.tid in (ThreadId.ALL, ThreadId.ANY) or thread.tid in self._live_tids())

    def _one_thread(self, thread: ThreadId) -> int | None:
        """The tid a thread-id names; None for "any" or "all" (the current thread does)."""
        return None if thread.tid in (ThreadId.ALL, ThreadId.ANY) else thread.tid

    def _stopped(self) -> None:
        """After a stop gdb takes the thread it names as the one Hg selected
        (as gdbserver makes it in all-stop): registers mean that thread's again."""
        self._g_tid = None
        self._g_child = None
        self._alive_hint = None
        self._alive_conflict = False

    # --- handlers -------------------------------------------------------------

    def _query_supported(self, req: QuerySupported) -> Reply:
        self._gdb_features = frozenset(req.features)
        self._multiprocess = "multiprocess+" in self._gdb_features
        events: tuple[str, ...] = ()
        if self._has(Capability.PROCESS_EVENTS):
            # fork and vfork stops name the child as p<pid>.<tid>: multiprocess only
            events = tuple(f for f in PROCESS_EVENTS if f in self._gdb_features
                           and (self._multiprocess or f == "exec-events+"))
            self._target.process_events(*(f in events for f in PROCESS_EVENTS))
        return supported_reply(self._target.capabilities, self._packet_size, multiprocess=self._multiprocess,
                               events=events)

    def _query_attached(self, req: QueryAttached) -> Reply:
        # The replayed process was "attached to": gdb detaches on quit rather than killing it.
        return b"1" if self._is_our_process(req.pid) else replies.error(errno.ESRCH)

    def _start_noack(self, req: StartNoAckMode) -> Reply:
        self._enter_noack = True
        return replies.OK

    def _query_stop_reason(self, req: QueryStopReason) -> Reply:
        return self._stop_reply(self._target.stop_reason())

    def _read_registers(self, req: ReadRegisters) -> Reply:
        registers = self._target.description.registers
        return replies.pack_registers(registers, self._target.read_registers(self._g_tid))

    def _write_registers(self, req: WriteRegisters) -> Reply:
        if not self._has(Capability.WRITE_REGISTERS):
            return replies.error(errno.EPERM)
        registers = self._target.description.registers
        try:
            values = replies.unpack_registers(registers, req.data)
        except ValueError as exc:
            logger.debug("G rejected: %s", exc)
            return replies.error(errno.EINVAL)
        current = self._target.read_registers(self._g_tid)
        for reg, value, old in zip(registers, values, current):
            if value is not None and value != old:
                self._target.write_register(reg.regnum, value, self._g_tid)
        return replies.OK

    def _read_register(self, req: ReadRegister) -> Reply:
        registers = self._target.description.registers
        if req.regnum >= len(registers):
            return replies.error(errno.EINVAL)
        values = self._target.read_registers(self._g_tid)
        return replies.pack_register(registers[req.regnum], values[req.regnum])

    def _write_register(self, req: WriteRegister) -> Reply:
        if not self._has(Capability.WRITE_REGISTERS):
            return replies.error(errno.EPERM)
        registers = self._target.description.registers
        if req.regnum >= len(registers) or len(req.data) != registers[req.regnum].size:
            return replies.error(errno.EINVAL)
        self._target.write_register(req.regnum, int.from_bytes(req.data, "little"), self._g_tid)
        return replies.OK

    def _read_memory(self, req: ReadMemory) -> Reply:
        length = min(req.length, (self._packet_size - 4) // 2)
        if length == 0:
            return replies.EMPTY
        data = self._target.read_memory(req.addr, length)
        if not data:
            return replies.error(errno.EFAULT)
        return replies.hex_encode(data[:length])

    def _write_memory(self, req: WriteMemory) -> Reply:
        if not self._has(Capability.WRITE_MEMORY):
            return replies.error(errno.EPERM)
        if req.data:
            self._target.write_memory(req.addr, req.data)
        return replies.OK

    def _set_thread(self, req: SetThread) -> Reply:
        if req.operation == "g":
            self._g_child = req.thread.pid if req.thread.pid in self._children else None
            if self._g_child is not None:
                return replies.OK
        if not self._is_our_thread(req.thread):
            return replies.error(errno.ESRCH)
        if req.operation == "g":
            self._g_tid = self._one_thread(req.thread)
        else:  # every thread resumes together; Hc only says which one a step steps
            self._c_tid = self._one_thread(req.thread)
        return replies.OK

    def _thread_alive(self, req: ThreadAlive) -> Reply:
        if not self._is_our_thread(req.thread):
            return replies.error(errno.ESRCH)
        tid = self._one_thread(req.thread)
        if tid is not None and not self._alive_conflict:
            if self._alive_hint not in (None, tid):  # several (`thread apply`): no hint
                self._alive_hint, self._alive_conflict = None, True
            else:
                self._alive_hint = tid
        return replies.OK

    def _step_tid(self) -> int | None:
        """The thread ``s``/``bs`` step: Hc's, else the one thread gdb checked alive
        since the last stop, else the stop's.  gdb resumes in reverse with ``Hc``
        for the whole process and ``bs`` (never vCont), naming the thread it means
        to step nowhere; but before stepping a thread other than the stop's (after
        `thread N`, or back to it after stepping another over a breakpoint) it asks
        whether that thread is alive."""
        return self._c_tid if self._c_tid is not None else self._alive_hint

    def _thread_info_first(self, req: ThreadInfoFirst) -> Reply:
        pid = self._wire_pid()
        self._thread_ids = [replies.thread_id(t.tid, pid) for t in self._target.threads()]
        return self._thread_info_next(ThreadInfoNext())

    def _thread_info_next(self, req: ThreadInfoNext) -> Reply:
        """``m`` and as many thread-ids as fit in a packet, until ``l``."""
        if not self._thread_ids:
            return b"l"
        room = self._packet_size - 8
        taken = 0
        size = 0
        while taken < len(self._thread_ids) and size + len(self._thread_ids[taken]) + 1 <= room:
            size += len(self._thread_ids[taken]) + 1
            taken += 1
        taken = max(taken, 1)
        piece, self._thread_ids = self._thread_ids[:taken], self._thread_ids[taken:]
        return b"m" + b",".join(piece)

    def _thread_extra_info(self, req: ThreadExtraInfo) -> Reply:
        if not self._is_our_thread(req.thread):
            return replies.error(errno.ESRCH)
        tid = self._one_thread(req.thread)
        tid = self._target.tid if tid is None else tid
        name = next((t.name for t in self._target.threads() if t.tid == tid), "")
        return replies.hex_text(name)

    def _run(self, step: bool, direction: Direction, tid: int | None = None) -> Reply:
        if direction is Direction.BACKWARD:
            needed = Capability.REVERSE_STEP if step else Capability.REVERSE_CONTINUE
            if not self._has(needed):
                return replies.EMPTY
        if not step or tid == self._target.tid:
            tid = None
        reason = self._target.resume(step, direction, self._should_stop, tid)
        self._stopped()
        return self._stop_reply(reason)

    def _resume(self, req: Resume) -> Reply:
        if req.address is not None:
            logger.info("ignoring resume address 0x%x", req.address)
        if req.signal:
            # A replay cannot change the recorded signal: the target makes the delivery
            # it stopped at, whatever signal gdb resumes with (as `record full` replay).
            logger.debug("resume with signal %d: the recorded delivery goes ahead", req.signal)
        return self._run(req.step, req.direction, self._step_tid())

    def _vcont(self, req: VCont) -> Reply:
        """All threads resume together (all-stop).  A step action for a thread
        makes the resume a step of that thread; otherwise the first action that
        applies decides.  'r' (range step) may stop after one instruction, so it
        is a step."""
        applying = [a for a in req.actions if a.thread is None or self._is_our_thread(a.thread)]
        if not applying:
            return replies.error(errno.ESRCH)
        if any(a.action == "t" for a in applying):
            return replies.error(errno.EINVAL)  # all-stop: nothing to stop
        steps = [a for a in applying if a.action in ("s", "r")]
        stepped = next((a for a in steps if a.thread is not None and self._one_thread(a.thread) is not None), None)
        if stepped is not None:
            assert stepped.thread is not None
            return self._run(True, Direction.FORWARD, self._one_thread(stepped.thread))
        return self._run(applying[0].action in ("s", "r"), Direction.FORWARD)

    def _breakpoint(self, req: Breakpoint) -> Reply:
        if not self._has(BREAK_CAPABILITY[req.kind]):
            return replies.EMPTY
        if self._g_child is not None:
            return replies.OK       # a forked child's copy of a breakpoint: the child is not debugged
        if req.insert:
            self._target.insert_breakpoint(req.kind, req.addr, req.length)
        else:
            self._target.remove_breakpoint(req.kind, req.addr, req.length)
        return replies.OK

    def _xfer_read(self, req: XferRead) -> Reply:
        if req.object == "features":
            if req.annex != "target.xml":
                return replies.error(errno.ENOENT)
            if self._target_xml is None:
                self._target_xml = target_xml(self._target.description).encode("utf-8")
            data = self._target_xml
        elif req.object == "threads":
            if req.annex:
                return replies.error(errno.EINVAL)
            if req.offset == 0 or not self._threads_xml:  # a new read: the threads now
                self._threads_xml = replies.threads_xml(self._target.threads(), self._wire_pid())
            data = self._threads_xml
        elif req.object == "auxv" and self._has(Capability.AUXV):
            if req.annex:
                return replies.error(errno.EINVAL)
            data = self._target.auxv()
        elif req.object == "exec-file" and self._has(Capability.EXEC_FILE):
            if req.annex and not self._annex_is_our_pid(req.annex):
                return replies.error(errno.ESRCH)
            data = self._target.exec_file().encode("utf-8", "surrogateescape")
        else:
            return replies.EMPTY
        return xfer_chunk(data, req.offset, min(req.length, self._packet_size - 1))

    def _annex_is_our_pid(self, annex: str) -> bool:
        try:
            return int(annex, 16) == self._target.pid
        except ValueError:
            return False

    def _signal_list(self, req: SignalList) -> Reply:
        if not self._has(Capability.PASS_SIGNALS):
            return replies.EMPTY
        if req.program:
            self._target.program_signals(req.signals)
        else:
            self._target.pass_signals(req.signals)
        return replies.OK

    def _catch_syscalls(self, req: CatchSyscalls) -> Reply:
        if not self._has(Capability.CATCH_SYSCALLS):
            return replies.EMPTY
        self._target.catch_syscalls(req.numbers, req.enabled)
        return replies.OK

    def _monitor(self, req: Monitor) -> Reply:
        if not self._has(Capability.MONITOR):
            return replies.EMPTY
        output = self._target.monitor(req.command, self._should_stop)
        return [*replies.console_output(output, self._packet_size), replies.OK]

    def _host_io(self, call: Callable[[], bytes]) -> Reply:
        if not self._has(Capability.HOST_IO):
            return replies.EMPTY
        try:
            return call()
        except TargetError as exc:
            return replies.host_error(exc.errno)

    def _host_open(self, req: HostOpen) -> Reply:
        return self._host_io(
            lambda: replies.host_result(self._target.host_open(req.path, req.flags, req.mode))
        )

    def _host_pread(self, req: HostPread) -> Reply:
        count = min(req.count, (self._packet_size - 32) // 2)
        return self._host_io(
            lambda: replies.host_data(self._target.host_pread(req.fd, count, req.offset)[:count])
        )

    def _host_close(self, req: HostClose) -> Reply:
        def call() -> bytes:
            self._target.host_close(req.fd)
            return replies.host_result(0)

        return self._host_io(call)

    def _host_fstat(self, req: HostFstat) -> Reply:
        return self._host_io(
            lambda: replies.host_data(replies.pack_host_stat(self._target.host_fstat(req.fd)))
        )

    def _host_readlink(self, req: HostReadlink) -> Reply:
        return self._host_io(
            lambda: replies.host_data(self._target.host_readlink(req.path).encode("utf-8", "surrogateescape"))
        )

    def _host_setfs(self, req: HostSetfs) -> Reply:
        # One process, one filesystem view: "ours" and "the stub's own" are the same.
        if req.pid in (0, self._target.pid):
            return self._host_io(lambda: replies.host_result(0))
        return self._host_io(lambda: replies.host_error(errno.ESRCH))

    def _detach(self, req: Detach) -> Reply:
        if req.pid is not None and req.pid in self._children:
            # gdb lets a forked child go (detach-on-fork): it runs on in the replay, and
            # is a process of its own to debug (`ttdbg serve -p PID`)
            self._children.discard(req.pid)
            if self._g_child == req.pid:
                self._g_child = None
            return replies.OK
        if not self._is_our_process(req.pid):
            return replies.error(errno.ESRCH)
        self._closed = True
        self._target.detach()
        return replies.OK

    def _kill(self, req: Kill) -> Reply:
        if not self._is_our_process(req.pid):
            return replies.error(errno.ESRCH)
        self._closed = True
        self._target.kill()
        return replies.OK if req.reply_expected else None

    def _malformed(self, req: Malformed) -> Reply:
        logger.warning("malformed %s packet: %s", req.name, req.reason)
        return replies.error(errno.EINVAL)
