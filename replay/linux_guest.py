"""A Linux process of a replayed recording, as a Timeline's guest (guest.py).

The replay runs every process of the recording; the guest answers for the
debugged one (`pid`): its machine, its kernel (threads, the signal gate,
auxv, /proc files), its birth and its end.  The checkpointed state is saved
and restored by its owners (GuestProcess, which composes Machine and
LinuxKernel, and the log's cursor).
"""

from __future__ import annotations

from collections.abc import Callable

from .checkpoint import Checkpoint
from .errors import ReplayError
from .events import ProcessChange, ProcessEvent, ShutdownReason, TaskSwitch
from .guest import EndOfHistory, SignalGate
from .icount import NO_LIMIT
from .keyframes import fingerprint
from .linux.kernel import LinuxKernel
from .linux.procfs import DEBUGGER_FILES
from .linux.tasks import ThreadInfo, WaitKind
from .machine import Machine
from .process import Outcome
from .replayer import Replay


class LinuxGuest:
    spacing = (1 << 22, 1 << 17)          # checkpoints every 4M, reverse steps of <= 128K (10-50 MIPS)
    def __init__(self, replay: Replay, pid: int | None = None, slice_: int | None = None) -> None:
        self.replay = replay
        self.process = replay.process
        self.hostio = replay.hostio
        self.first_pid = replay.process.kernel.pid
        self.pid = self.first_pid if pid is None else pid
        self.trace_path = replay.trace.path
        if slice_ is not None:
            self.process.slice = slice_
        self.gate: SignalGate | None = None
        self.syscall_seen: Callable[[int, int], None] | None = None
        events = self.hostio.events
        self.event_icounts = [e.icount for e in events]
        switches = [e for e in events if isinstance(e, TaskSwitch)]
        self.switch_icounts = [e.icount for e in switches]
        self.switch_tids = [e.tid for e in switches]

    # -- running -------------------------------------------------------------------
    @property
    def machine(self) -> Machine:
        return self.process.family.machine_of(self.pid)

    @property
    def kernel(self) -> LinuxKernel:
        """The debugged process's kernel (a new object after a restore re-made the process)."""
        k = self.process.family.kernel_of(self.pid)
        k.signal_gate = self.gate
        k.syscall_seen = self.syscall_seen
        return k

    @property
    def icount(self) -> int:
        return self.process.icount

    @property
    def exited(self) -> bool:
        return self.process.exited

    @property
    def gone(self) -> bool:
        return self.kernel.state.exited is not None

    def run(self, limit: int, should_stop: Callable[[], bool] | None) -> Outcome:
        return self.replay.run(limit, should_stop)

    @property
    def last_trap_pc(self) -> int:
        stop = self.process.last_stop
        assert stop is not None
        return stop.pc

    # -- checkpoints ---------------------------------------------------------------
    def capture(self) -> Checkpoint:
        return Checkpoint(self.process.icount, self.process.save(), self.hostio.cursor())

    def restore(self, cp: Checkpoint) -> None:   # type: ignore[override]
        self.process.restore(cp.process)
        self.hostio.set_cursor(cp.cursor)

    def fingerprint(self) -> bytes:
        return fingerprint(self.process)

    # -- history ---------------------------------------------------------------------
    def end_of_history(self) -> EndOfHistory:
        events = self.hostio.events
        limit = self.replay.end_limit
        ended = next((e for e in events if isinstance(e, ProcessEvent) and e.pid == self.pid
                      and e.change == ProcessChange.EXIT), None)
        if ended is not None:
            if ended.icount <= limit:
                signal = ended.status & 0x7F
                if signal:
                    return EndOfHistory(ended.icount, ShutdownReason.SIGNAL, signal)
                return EndOfHistory(ended.icount, ShutdownReason.EXIT, (ended.status >> 8) & 0xFF)
        for ev in reversed(events):
            if ev.kind.name == "SHUTDOWN":
                reason = ev.reason  # type: ignore[attr-defined]
                return EndOfHistory(min(ev.icount, limit), reason, ev.status)  # type: ignore[attr-defined]
        return EndOfHistory(limit if limit != NO_LIMIT else events[-1].icount, None, 0)

    def birth(self) -> int:
        start = next((e.icount for e in self.hostio.events if isinstance(e, ProcessEvent)
                      and e.pid == self.pid and e.change == ProcessChange.START), None)
        if start is None:
            raise ReplayError(f"no process {self.pid} in this trace (see `ttdbg ps`)")
        return start

    @property
    def born(self) -> bool:
        return self.pid in self.process.family.kernels

    # -- signals -----------------------------------------------------------------------
    @property
    def held(self) -> tuple:
        return self.kernel.held

    def release_held(self) -> None:
        self.kernel.release_held()

    # -- threads and process facts ----------------------------------------------------
    @property
    def current_tid(self) -> int:
        return self.kernel.tid

    def threads(self) -> tuple[ThreadInfo, ...]:
        k = self.kernel
        tids = [k.tid] if k.state.exited is not None else [    # ended: the thread that ended it, as it stood
            tid for tid in sorted(k.state.threads) if not k.state.threads[tid].exited]
        return tuple(ThreadInfo(tid, k.pid, k.thread_name(tid).decode("utf-8", "replace")) for tid in tids)

    def read_register(self, name: str, tid: int | None) -> int:
        context = self._context(tid)
        return self.machine.reg(name) if context is None else self.machine.context_reg(context, name)

    def read_registers(self, names: tuple[str, ...], tid: int | None) -> tuple[int, ...]:
        context = self._context(tid)
        if context is None:
            return self.machine.regs(names)
        return tuple(self.machine.context_reg(context, n) for n in names)

    def _context(self, tid: int | None):  # noqa: ANN202 (a saved CPU context, or None: on the CPU)
        """Where thread `tid`'s registers are: None while it runs on the CPU; a thread
        switched out (or of a process not running) keeps its CPU in its context."""
        k = self.kernel
        tid = k.tid if tid is None else tid
        thread = k.state.threads.get(tid)
        if thread is None or (thread.exited and tid != k.tid):
            raise ReplayError(f"no thread {tid} here")
        return thread.context

    @property
    def program(self) -> str:
        return self.kernel.exe

    @property
    def auxv(self) -> bytes:
        return self.kernel.state.auxv

    def vfork_child(self) -> int | None:
        k = self.kernel
        thread = k.state.threads.get(k.tid)
        wait = thread.wait if thread is not None else None
        return wait.address if wait is not None and wait.kind == WaitKind.VFORK else None

    def proc_file(self, name: str, tid: int | None) -> bytes | None:
        make = DEBUGGER_FILES.get(name)
        if make is None:
            return None
        k = self.kernel
        ppid = k.state.ppid or self.process.header.extra.get("ppid", 0)   # the first's: as recorded
        return make(k, ppid if isinstance(ppid, int) else 0, self.pid if tid is None else tid)

    def device_state(self) -> str:
        return ""
