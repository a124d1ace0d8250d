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

from . import cpu
from .errors import LogFormatError
from .eventlog import TraceHeader
from .events import RandomSource
from .hostio import HostIO
from .icount import NO_LIMIT
from .linux.initial_stack import (
    AT_BASE,
    AT_CLKTCK,
    AT_EGID,
    AT_ENTRY,
    AT_EUID,
    AT_FLAGS,
    AT_GID,
    AT_HWCAP,
    AT_MINSIGSTKSZ,
    AT_PAGESZ,
    AT_PHDR,
    AT_PHENT,
    AT_PHNUM,
    AT_SECURE,
    AT_UID,
    HWCAP_X86_64,
    build_stack,
)
from .linux.kernel import KernelSnapshot, LinuxKernel
from .linux.layout import MMAP_TOP, STACK_SIZE, STACK_TOP
from .loader import PIE_BASE, load_image, parse_elf
from .machine import Machine, MachineState, StopKind
from .memory import PAGE, page_up

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

    machine: MachineState
    kernel: KernelSnapshot

    @property
    def icount(self) -> int:
        return self.machine.icount

    @property
    def held(self) -> bool:
        """Saved with a signal delivery waiting at the gate."""
        return self.kernel.held


class GuestProcess:
    def __init__(self, header: TraceHeader, program: Program, host: HostIO,
                 warn: Callable[[str], None]) -> None:
        self.header = header
        self.host = host
        self._check_cpu(header)
        self.machine = Machine()
        self.kernel = LinuxKernel(self.machine, host, header.pid, header.program, header.cwd, warn,
                                  ids=header.extra.get("ids"))
        self.auxv = b""
        self.last_stop = None
        self.sync_hash = self._sync_hash_function(header)
        self.slice = SLICE
        self._boot(program)

    def _boot(self, program: Program) -> None:
        mem = self.machine.mem
        image = parse_elf(program.path, program.data)
        loaded = load_image(mem, image, program.data, PIE_BASE, program.path)
        entry = loaded.entry
        interp_base = 0
        if image.interp:
            if program.interp_data is None:
                raise ValueError("dynamic program without its interpreter")
            interp = parse_elf(image.interp, program.interp_data)
            lo, hi = interp.span
            interp_base = mem.find_free(hi - lo, MMAP_TOP) - lo
            interp_loaded = load_image(mem, interp, program.interp_data, interp_base, image.interp)
            entry = interp_loaded.entry
        brk = page_up(loaded.end)
        self.kernel.state.brk_start = self.kernel.state.brk = brk
        mem.map(STACK_TOP - STACK_SIZE, STACK_SIZE, 3, "[stack]")
        random16 = self.host.random(0, RandomSource.AT_RANDOM, 16)
        aux = {
            AT_HWCAP: HWCAP_X86_64, AT_PAGESZ: PAGE, AT_CLKTCK: 100,
            AT_PHDR: loaded.phdr, AT_PHENT: image.phentsize, AT_PHNUM: image.phnum,
            AT_BASE: interp_base, AT_FLAGS: 0, AT_ENTRY: loaded.entry,
            AT_UID: 0, AT_EUID: 0, AT_GID: 0, AT_EGID: 0, AT_SECURE: 0,
            AT_MINSIGSTKSZ: 2048,
        }
        ids = self.header.extra.get("ids")
        if ids:
            aux.update({AT_UID: ids[0], AT_EUID: ids[1], AT_GID: ids[2], AT_EGID: ids[3]})
        argv = [a.encode("utf-8", "surrogateescape") for a in self.header.argv]
        envp = [e.encode("utf-8", "surrogateescape") for e in self.header.env]
        initial, writes = build_stack(STACK_TOP, argv, envp,
                                   self.header.program.encode("utf-8", "surrogateescape"),
                                   random16, aux)
        for addr, data in writes:
            mem.write(addr, data)
        self.auxv = initial.auxv
        self.kernel.set_exec_image(program.data, initial.arg_span, initial.env_span)
        self.kernel.setup_std_streams()
        m = self.machine
        m.set_reg("rsp", initial.sp)
        m.set_reg("rip", entry)
        m.set_reg("rdx", 0)

    def _sync_hash_function(self, header: TraceHeader) -> Callable[[], bytes]:
        """The digest the log's STATE_HASH events hold (named in the header)."""
        name = header.extra.get("state_hash", "blake2b")
        functions = {"blake2b": self.machine.state_hash, "crc32": self.machine.quick_hash}
        if name not in functions:
            raise LogFormatError(f"the trace uses state hash {name!r}, unknown to this ttdbg; upgrade ttdbg")
        return functions[name]

    @staticmethod
    def _check_cpu(header: TraceHeader) -> None:
        """A trace replays only on the emulated CPU it was recorded on (cpu.py)."""
        recorded = header.extra.get("cpu", "qemu64 (before ttdbg described its CPU)")
        if recorded != cpu.SIGNATURE:
            raise LogFormatError(f"the trace was recorded on another emulated CPU ({recorded}; this ttdbg "
                                 f"emulates {cpu.SIGNATURE}): replay it with the ttdbg that recorded it")

    @property
    def icount(self) -> int:
        return self.machine.icount

    @property
    def exited(self) -> bool:
        return self.kernel.state.exited is not None

    def save(self) -> ProcessState:
        return ProcessState(self.machine.save(), self.kernel.save())

    def restore(self, state: ProcessState) -> None:
        self.machine.restore(state.machine)
        self.kernel.restore(state.kernel)

    def run(self, limit: int = NO_LIMIT, should_stop: Callable[[], bool] | None = None) -> Outcome:
        """Run until the program ends, `limit` instructions, or an interrupt."""
        m = self.machine
        m.should_stop = should_stop
        while True:
            if self.kernel.state.exited is not None:
                return Outcome.EXITED
            if m.icount >= limit:
                return Outcome.LIMIT
            sync = self.host.next_sync(m.icount)
            target = min(limit, sync, self.host.next_async(m.icount))
            slice_length = self.slice if self.kernel.state.itimer is None else min(self.slice, TIMER_SLICE)
            stop = m.run(target, slice_end=m.icount + slice_length)
            if stop.kind == StopKind.LIMIT:
                if m.icount == sync:
                    self.host.sync(m.icount, self.sync_hash())
                if self.kernel.check_timers():
                    return Outcome.SIGNAL
                continue
            if stop.kind == StopKind.SLICE:
                if self.kernel.check_timers():
                    return Outcome.SIGNAL
                if should_stop is not None and should_stop():
                    return Outcome.INTERRUPTED
                continue
            if stop.kind == StopKind.INTERRUPTED:
                return Outcome.INTERRUPTED
            if stop.kind in (StopKind.FAULT, StopKind.HALTED):
                if stop.kind == StopKind.FAULT:
                    self.kernel.on_fault(stop)
                if self.kernel.held:
                    return Outcome.SIGNAL
                continue
            if stop.kind in (StopKind.BREAKPOINT, StopKind.WATCH):
                self.last_stop = stop
                return Outcome.TRAPPED

    def close(self) -> None:
        self.machine.close()
