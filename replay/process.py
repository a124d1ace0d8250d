"""A guest process: machine + kernel + loaded program, its run loop, its saved state.

Booting is deterministic given the trace header, the program and
interpreter bytes and the AT_RANDOM bytes (which come through HostIO as the
first event), so the recorder and the replayer build identical processes.
The run loop slices execution so that interrupts are noticed, stops at the
HostIO's sync points (where the log holds a state hash) and hands faults to
the kernel.  Its state is the machine's and the kernel's, each saved and
restored by its owner; `ProcessState` composes the two.

`Outcome` is engine-internal: why `run` returned, for the replayer and the
timeline (the timeline's StopReason is what front ends see).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from .arch import BY_ELF_MACHINE, Arch
from .errors import LogFormatError
from .eventlog import TraceHeader
from .events import RandomSource
from .hostio import HostIO
from .icount import NO_LIMIT
from .linux.exec_image import load_program
from .linux.family import Family, FamilySnapshot
from .linux.kernel import KernelSnapshot, LinuxKernel
from .linux.tasks import TASK_LIMIT
from .machine import Machine, MachineState, StopKind
from .scheduler import Policy, Scheduler

log = logging.getLogger(__name__)

SLICE = 1 << 26     # instructions between checks of should_stop (~0.1-0.2 s)
TIMER_SLICE = 1 << 22   # ... and of the interval timer, while it is armed (~10 ms)


class Outcome(enum.Enum):
    """Why GuestProcess.run returned (engine-internal)."""

    EXITED = "exited"            # the program ended (see kernel.state.exited)
    LIMIT = "limit"              # reached the requested instruction count
    INTERRUPTED = "interrupted"  # should_stop() said so, or request_stop()
    TRAPPED = "trapped"          # a breakpoint or watchpoint (see last_stop)
    SIGNAL = "signal"            # a delivery waits at the signal gate (kernel.held)


@dataclass(frozen=True)
class Program:
    """The bytes needed to boot: program and (for dynamic programs) ld.so."""

    path: str
    data: bytes
    interp_data: bytes | None = None


@dataclass(frozen=True)
class ProcessState:
    """A process's whole state at one instruction count: its machine's and its kernel's."""

    machine: MachineState       # the first process's (the one a Timeline debugs)
    kernel: KernelSnapshot
    family: FamilySnapshot      # every process (the first's kernel again, copied with the others')

    @property
    def icount(self) -> int:
        """The global count when saved."""
        return self.family.icount

    @property
    def held(self) -> bool:
        """Saved with a signal delivery waiting at the gate."""
        return self.kernel.held


class GuestProcess:
    def __init__(self, header: TraceHeader, program: Program, host: HostIO,
                 warn: Callable[[str], None], policy: Policy | None = None) -> None:
        self.header = header
        self.host = host
        arch = self._check_cpu(header)
        self.machine = Machine(arch)
        self.kernel = LinuxKernel(self.machine, host, header.pid, header.program, header.cwd, warn,
                                  ids=header.extra.get("ids"))
        self.auxv = b""
        self._warn = warn
        self.last_stop = None
        self.sync_hash = self._sync_hash_function(header)
        self.slice = SLICE
        # Recording: `policy` chooses the threads' turns; replaying (None): the log does.
        scheduling = header.extra.get("scheduler")
        limit = scheduling.get("task_limit") if isinstance(scheduling, dict) else None
        self.family = Family(self.kernel, self._make_kernel,
                             limit if isinstance(limit, int) and 1 <= limit <= 1 << 22 else TASK_LIMIT)
        self.scheduler = Scheduler(self.family, host, policy)
        self._boot(program)

    def _boot(self, program: Program) -> None:
        ids = self.header.extra.get("ids")
        argv = [a.encode("utf-8", "surrogateescape") for a in self.header.argv]
        envp = [e.encode("utf-8", "surrogateescape") for e in self.header.env]
        random16 = self.host.random(0, RandomSource.AT_RANDOM, 16)
        self.auxv = load_program(self.kernel, program.path, program.data, program.interp_data, argv, envp,
                                 self.header.program.encode("utf-8", "surrogateescape"), random16, ids)
        self.kernel.setup_std_streams()

    def _make_kernel(self, machine: Machine, pid: int) -> LinuxKernel:
        """The kernel of a new process (fork), before it gets the parent's state."""
        h = self.header
        return LinuxKernel(machine, self.host, pid, h.program, h.cwd, self._warn, ids=h.extra.get("ids"))

    def _sync_hash_function(self, header: TraceHeader) -> Callable[[], bytes]:
        """The digest the log's STATE_HASH events hold (named in the header), of the running process."""
        name = header.extra.get("state_hash", "blake2b")
        functions = {"blake2b": lambda: self.scheduler.machine.state_hash(),
                     "crc32": lambda: self.scheduler.machine.quick_hash()}
        if name not in functions:
            raise LogFormatError(f"the trace uses state hash {name!r}, unknown to this ttdbg; upgrade ttdbg")
        return functions[name]

    @staticmethod
    def _check_cpu(header: TraceHeader) -> Arch:
        """A trace replays only on the emulated CPU it was recorded on (cpu.py,
        replay/arch/): returns the trace's architecture."""
        arch = BY_ELF_MACHINE.get(header.machine)
        if arch is None:
            raise LogFormatError(f"the trace is of ELF machine {header.machine}, an architecture this ttdbg "
                                 "does not run")
        recorded = header.extra.get("cpu", "qemu64 (before ttdbg described its CPU)")
        if recorded != arch.signature:
            raise LogFormatError(f"the trace was recorded on another emulated CPU ({recorded}; this ttdbg "
                                 f"emulates {arch.signature}): replay it with the ttdbg that recorded it")
        return arch

    @property
    def icount(self) -> int:
        """The global instruction count (the running process's machine holds it)."""
        return self.scheduler.machine.icount

    @property
    def exited(self) -> bool:
        """Every process of the recording has ended."""
        return self.family.all_exited

    def save(self) -> ProcessState:
        family = self.family.save()
        state, fds = family.kernels[self.kernel.pid][:2]
        return ProcessState(self.machine.save(), KernelSnapshot(state, fds), family)

    def restore(self, state: ProcessState) -> None:
        self.machine.restore(state.machine)
        self.family.restore(state.family)

    def run(self, limit: int = NO_LIMIT, should_stop: Callable[[], bool] | None = None) -> Outcome:
        """Run until the program ends, `limit` instructions, or an interrupt."""
        while True:
            if self.family.all_exited:
                return Outcome.EXITED
            m = self.scheduler.machine
            if m.icount >= limit:
                return Outcome.LIMIT
            # The interval timers' SIGALRM, before any switch: recording, where an
            # expiry is noticed (logged); replaying, where the log has it (next_async).
            if self.family.check_timers(m.icount):
                return Outcome.SIGNAL
            if self.family.all_exited:
                return Outcome.EXITED
            self.scheduler.settle()
            if self.family.all_exited:
                return Outcome.EXITED
            if self.scheduler.kernel.held:      # a signal another task sent the thread switched in
                return Outcome.SIGNAL
            m = self.scheduler.machine
            m.should_stop = should_stop
            sync = self.host.next_sync(m.icount)
            target = min(limit, sync, self.host.next_switch(m.icount), self.host.next_async(m.icount))
            slice_end = min(m.icount + self.slice, self.scheduler.soft_limit(m.icount))
            m.after_syscall = self.scheduler.after_syscall if self.scheduler.unsliced else None
            if self.family.timer_armed():
                slice_end = min(slice_end, m.icount + TIMER_SLICE)
            stop = m.run(target, slice_end=slice_end)
            if stop.kind == StopKind.LIMIT:
                if m.icount == sync:
                    self.host.sync(m.icount, self.sync_hash())
                continue
            if stop.kind == StopKind.SLICE:
                if should_stop is not None and should_stop():
                    return Outcome.INTERRUPTED
                continue
            if stop.kind == StopKind.INTERRUPTED:
                return Outcome.INTERRUPTED
            if stop.kind in (StopKind.FAULT, StopKind.HALTED):
                if stop.kind == StopKind.FAULT:
                    self.scheduler.kernel.on_fault(stop)
                if self.scheduler.kernel.held:
                    return Outcome.SIGNAL
                continue
            if stop.kind in (StopKind.BREAKPOINT, StopKind.WATCH):
                self.last_stop = stop
                return Outcome.TRAPPED

    def close(self) -> None:
        self.family.close()
        self.machine.close()
