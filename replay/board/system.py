"""A board assembled: the CPU, RAM, the devices, and the loop that runs firmware on them.

The loop runs the CPU exactly to the next *check point* and there updates the
devices and takes an interrupt if one is ready.  Check points are the timer
deadlines, every CHECK_INTERVAL instructions, the instruction after a `wfi`,
and while an interrupt is pending (taken, or masked) every CHASE_INTERVAL
instructions: all exact instruction counts.  The next one is state
(`check_at`, saved and restored with the rest), set at each check point from
the devices' state there, and moved only by a device register write, at the
write's exact count (_device_changed): sooner when the write leaves an
interrupt pending (at most CHASE_INTERVAL after it: a timer armed in the
past, an enable), later when it leaves none (on to the next deadline: a
handler that acknowledged its tick is not chased).  A stop the caller asks
for (a seek) is not a check point and moves nothing.  So an interrupt enters
its handler at the same count in every run, however Unicorn splits the code
into blocks and wherever a replay is stopped.  An interrupt pending while
masked is taken at most CHASE_INTERVAL instructions after it is unmasked.

A `wfi` stops the counter before it (Arch.trapped): the board retires it and
makes the instruction after it a check point, as one step, so no exact stop
can fall between them.

With `--clock host` the clock is paced to real time (QEMU without -icount,
or with shift=auto): at every check point the recorder reads the host's
clock, the guest's clock jumps forward to it (or the recorder sleeps while
the guest is ahead of it, as -icount sleep=on) and the value is logged
(a CLOCK event at that count).  Check points then fall where Unicorn's blocks
end (soft stops: every HOST_SLICE instructions, at timer deadlines, while an
interrupt is pending), which no rule could predict, so each is logged and
the replay stops exactly at the logged counts and only there (and at `wfi`,
also logged), with no host clock.  Between check points the counter is
still derived from the instruction count, so its reads need no events; every
interrupt is taken at a check point, so at a logged count.

What crosses the board's edge goes through a `BoardIO` (recording.py,
replaying.py): the UART's input, the count of its output, the host clock's
readings, the end.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..icount import NO_LIMIT
from ..machine import Machine, RunStop, StopKind
from ..memory import PROT_EXEC, PROT_READ, PROT_WRITE, page_down, page_up
from . import exceptions as exc
from .exceptions import Vector
from .firmware import Firmware
from .firmware_calls import CallResult, instruction_kind, psci, semihosting
from .gentimer import GenericTimer
from .gic import Gic
from .pl011 import Pl011

if TYPE_CHECKING:
    from .virt import Board

log = logging.getLogger(__name__)

CHECK_INTERVAL = 1 << 18
CHASE_INTERVAL = 1 << 10
HOST_SLICE = 1 << 16          # --clock host: the clock is read at least this often (instructions)
EXCP_UDEF, EXCP_SWI, EXCP_BKPT, EXCP_SMC = 1, 2, 7, 13
WFI = (0xD503207F).to_bytes(4, "little")
_M64 = (1 << 64) - 1


@dataclass(frozen=True)
class Ending:
    """How a run ended."""

    kind: str            # "exit" (the firmware ended it), "error", "interrupted", "stuck";
                         # "limit" and "trapped" (a breakpoint or watchpoint: last_trap) stop a run
    status: int
    message: str


class BoardIO(Protocol):
    def input_at(self, icount: int, room: int, wait: float) -> bytes | None:
        """Bytes for the UART at this check point (None: none).  `wait`: the CPU idles
        for that many seconds of guest time (math.inf: until input comes); a recorder
        may wait that long in real time for input (the replay never waits)."""

    def output_count(self, icount: int, count: int) -> None:
        """The UART (and semihosting console) wrote `count` bytes since the last check point."""

    def clock_at(self, icount: int, counter: int, frequency: int) -> int:
        """--clock host, at a check point: the counter's value here, at least `counter`
        (time never goes back): the host's clock at record (logged), the log's at replay."""

    def next_clock(self, icount: int) -> int | None:
        """--clock host: the count of the next logged check point (replay; NO_LIMIT: none
        left), or None (recording: check points are where Unicorn's blocks end)."""


class BoardSystem:
    def __init__(self, board: Board, ram_size: int, firmware: Firmware,
                 console: Callable[[bytes], None], warn: Callable[[str], None], clock: str = "virtual") -> None:
        self.board = board
        self.host_clock = clock == "host"
        self.ram_size = ram_size
        self.machine = Machine(board.arch)
        self._console = console
        self._warn = warn
        self._warned: set[str] = set()
        self.console_count = 0
        self._map_ram(firmware)
        self.interrupts_taken = 0
        self._should_stop: Callable[[], bool] = lambda: False
        self._wfi_at = 0
        self.last_trap: RunStop | None = None     # the breakpoint or watchpoint of a "trapped" ending
        self._outer_limit = NO_LIMIT                # the caller's exact stop in this run
        self._attach_devices(firmware)
        self.check_at = self._schedule(0)           # the next check point (virtual clock)

    def _attach_devices(self, firmware: Firmware) -> None:
        """The board's devices and CPU set-up (a subclass per CPU profile: mps2.py's MSystem)."""
        board, m = self.board, self.machine
        self.gic = self.intc = Gic(board.gic_lines)
        uart = board.device("pl011")
        self.uart = Pl011(uart.intid, self.gic.set_line, self._write_console)
        self.timer = GenericTimer(board.counter_frequency, board.icount_shift, board.timer_intids,
                                  self.gic.set_line)
        dist, cpu = board.device("gicv2-dist"), board.device("gicv2-cpu")
        m.map_device(dist.base, dist.size, self.gic.dist_read, self._device_write(self.gic.dist_write))
        m.map_device(cpu.base, cpu.size, self.gic.cpu_read, self._device_write(self.gic.cpu_write))
        m.map_device(uart.base, uart.size, self.uart.read, self._uart_write)   # (reads only lower its line)
        m.attach_system_registers(self)
        exc.prepare_el1(m)
        m.set_reg("pc", firmware.entry)

    def _map_ram(self, firmware: Firmware) -> None:
        """RAM is read-write; pages holding code also executable (and watched for
        writes, which would change code: Machine._on_region_change)."""
        for start, end in self.board.memory_ranges(self.ram_size):
            self._map_range(start, end, firmware)
        for seg in firmware.segments:
            self.machine.mem.write(seg.address, seg.data)

    def _map_range(self, start: int, end: int, firmware: Firmware) -> None:
        code: list[tuple[int, int]] = []
        for seg in firmware.segments:
            if seg.executable and start <= seg.address < end:
                lo, hi = page_down(seg.address), page_up(seg.address + seg.size)
                if code and lo <= code[-1][1]:
                    code[-1] = (code[-1][0], max(hi, code[-1][1]))
                else:
                    code.append((lo, hi))
        at = start
        rw, rwx = PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE | PROT_EXEC
        for lo, hi in sorted(code):
            if lo > at:
                self.machine.mem.map(at, lo - at, rw, "ram")
            self.machine.mem.map(lo, hi - lo, rwx, "ram (code)")
            at = hi
        if at < end:
            self.machine.mem.map(at, end - at, rw, "ram")

    def _write_console(self, data: bytes) -> None:
        self.console_count += len(data)
        self._console(data)

    # -- the loop ----------------------------------------------------------------------
    @property
    def icount(self) -> int:
        return self.machine.icount

    def next_check(self, interval: int = CHECK_INTERVAL) -> int:
        return self._schedule(self.icount, interval)

    def _schedule(self, icount: int, interval: int = CHECK_INTERVAL) -> int:
        """The check point after `icount` as the devices' state now has it."""
        nxt = (icount // interval + 1) * interval
        if self.intc.any_pending():
            nxt = min(nxt, icount + CHASE_INTERVAL)
        deadline = self.timer.next_deadline(icount)
        if deadline is not None and icount < deadline < nxt:
            nxt = deadline
        return nxt

    def run(self, io: BoardIO, should_stop: Callable[[], bool] | None = None,
            limit: int | None = None) -> Ending:
        """Run to the end of the firmware, or exactly to `limit` instructions
        (Ending "limit": run again to go on), or until should_stop."""
        m = self.machine
        m.should_stop = should_stop
        self._should_stop = should_stop or (lambda: False)
        self._outer_limit = NO_LIMIT if limit is None else limit
        while True:
            if limit is not None and self.icount >= limit:
                return Ending("limit", 0, f"stopped at instruction {self.icount:,}")
            exact, soft = self._next_stops(io)
            stop = m.run(min(exact, self._outer_limit), soft)
            if not self.host_clock:
                exact = self.check_at               # (a device write may have moved it)
            idle = False
            if stop.kind in (StopKind.BREAKPOINT, StopKind.WATCH):
                self.last_trap = stop
                self.flush_output(io)
                return Ending("trapped", 0, f"a breakpoint or watchpoint at {stop.pc:#x}")
            wfi = self._wfi_length(stop.pc) if stop.kind == StopKind.FAULT and stop.intno < 0 else 0
            if stop.kind == StopKind.FAULT:
                if wfi:
                    m.set_reg("pc", stop.pc + wfi)      # wfi: one instruction, then idle
                    self._wfi_at = stop.pc
                    m.set_icount(m.icount + 1)
                    idle = True
                else:
                    ending = self._on_exception(stop)
                    if ending is not None:
                        self.flush_output(io)
                        return ending
                    continue
            elif stop.kind == StopKind.INTERRUPTED:
                self.flush_output(io)
                return Ending("interrupted", 130, f"interrupted at instruction {self.icount:,}")
            elif stop.kind not in (StopKind.LIMIT, StopKind.SLICE):
                self.flush_output(io)
                return Ending("error", 1, f"unexpected stop {stop.kind.value} at {stop.pc:#x}")
            if idle or self.icount == exact or stop.kind == StopKind.SLICE:
                ending = self._check_point(io, idle)
                if ending is not None:
                    return ending
                self.check_at = self.next_check()
            if self._should_stop():         # after the check point: a replay stopped here is so too
                self.flush_output(io)
                return Ending("interrupted", 130, f"interrupted at instruction {self.icount:,}")

    def _next_stops(self, io: BoardIO) -> tuple[int, int]:
        """The next check point: (an exact count, a block boundary at or after a count)."""
        if not self.host_clock:
            return self.check_at, NO_LIMIT
        logged = io.next_clock(self.icount)
        if logged is None:                  # recording: soft stops, each one logged
            return NO_LIMIT, self.next_check(HOST_SLICE)
        return logged, NO_LIMIT

    # -- device writes that change what may interrupt (virtual clock) -------------------------
    def _device_changed(self, icount: int | None = None) -> None:
        """A register access at exact count `icount` (None: the current instruction's)
        changed a line, an enable or a timer.  The next check point moves sooner while an
        interrupt is pending (at most CHASE_INTERVAL after the access), or, when none is,
        on to the next deadline (so a handler that acknowledges its interrupt is not
        chased).  Each follows from the exact count, the check point already set and the
        state, so every run moves it alike; a new one lies past the block being run (the
        floor CHASE_INTERVAL past the access: Unicorn's blocks hold at most 512
        instructions)."""
        if self.host_clock:
            return
        m = self.machine
        if self.intc.any_pending():
            if self.check_at <= m.counter.state.block_start_icount + CHASE_INTERVAL:
                return                              # soon enough already (the access is in this block)
            if icount is None:
                icount = m.exact_icount_at(m.pc)
            new = min(self.check_at, icount + CHASE_INTERVAL)
        elif icount is not None:                    # a timer register (its count comes free)
            new = max(self._schedule(icount), icount + CHASE_INTERVAL)
        else:                                       # later only, from the check point already set
            new = self._schedule(self.check_at - 1)
        if new != self.check_at:
            self.check_at = new
            m.move_limit(min(new, self._outer_limit))

    def _device_write(self, write: Callable[[int, int, int], None]) -> Callable[[int, int, int], None]:
        """`write` (a device register's), then the next check point reconsidered."""
        def written(off: int, size: int, value: int) -> None:
            write(off, size, value)
            self._device_changed()
        return written

    def _uart_write(self, off: int, size: int, value: int) -> None:
        line = self.gic.level[self.uart.intid]
        self.uart.write(off, size, value)
        if self.gic.level[self.uart.intid] != line:
            self._device_changed()

    def read_sysreg(self, key: tuple[int, int, int, int, int], icount: int) -> int | None:
        return self.timer.read_sysreg(key, icount)

    def write_sysreg(self, key: tuple[int, int, int, int, int], value: int, icount: int) -> bool:
        handled = self.timer.write_sysreg(key, value, icount)
        if handled:
            self._device_changed(icount)
        return handled

    def _wfi_length(self, pc: int) -> int:
        """The size of the `wfi` at `pc` (0: not one)."""
        try:
            return 4 if self.machine.mem.read(pc, 4) == WFI else 0
        except ValueError:
            return 0

    def _irq_masked(self) -> bool:
        return exc.irq_masked(self.machine)

    def _take_irq(self) -> None:
        exc.take_exception(self.machine, Vector.IRQ, self.machine.pc)

    def flush_output(self, io: BoardIO) -> None:
        if self.console_count:
            io.output_count(self.icount, self.console_count)
            self.console_count = 0

    def _check_point(self, io: BoardIO, idle: bool) -> Ending | None:
        icount = self.icount
        if self.host_clock:
            timer = self.timer
            timer.warp_to(icount, io.clock_at(icount, timer.counter(icount), timer.frequency))
        self.timer.update(icount)
        self.flush_output(io)
        wake = None
        if idle and not self.intc.irq_asserted():
            wake = self.timer.next_deadline(icount)
        room = self.uart.room()
        wait = 0.0
        if idle and not self.intc.irq_asserted():
            wait = math.inf if wake is None else self.timer.seconds_between(icount, wake)
        data = io.input_at(icount, room, wait) if room else None
        if data:
            self.uart.receive(data)
        elif wake is not None:
            self.timer.sleep_until(icount, wake)
        elif idle and not self.intc.irq_asserted():
            if self._should_stop():
                return Ending("interrupted", 130, f"interrupted at instruction {icount:,}")
            return Ending("stuck", 1, f"the firmware waits for an interrupt (wfi at {self._wfi_at:#x}) "
                          "that can no longer come: no timer is armed and the UART input has ended")
        if self.intc.irq_asserted() and not self._irq_masked():
            self._take_irq()
            self.interrupts_taken += 1
        return None

    # -- CPU exceptions: calls to the machine, or entries to the firmware's vectors ---------
    def _on_exception(self, stop: RunStop) -> Ending | None:
        m = self.machine
        if stop.intno in (EXCP_UDEF, EXCP_SMC):
            at = stop.pc if stop.intno == EXCP_UDEF else stop.pc - 4
            try:
                word = int.from_bytes(m.mem.read(at, 4), "little")
            except ValueError:
                word = 0
            kind = instruction_kind(word)
            if kind in ("hvc", "smc"):
                return self._finish_call(stop, psci(m.reg("x0")))
            if kind == "semihosting":
                return self._finish_call(stop, semihosting(m.reg("x0"), m.reg("x1"), m.mem))
            return self._vector(stop.pc, exc.EC_UNKNOWN << 26 | exc.ESR_IL, "undefined instruction")
        if stop.intno == EXCP_SWI:
            imm = int.from_bytes(m.mem.read(stop.pc - 4, 4), "little") >> 5 & 0xFFFF
            return self._vector(stop.pc, exc.EC_SVC64 << 26 | exc.ESR_IL | imm, "svc")
        if stop.intno == EXCP_BKPT:
            imm = int.from_bytes(m.mem.read(stop.pc, 4), "little") >> 5 & 0xFFFF
            return self._vector(stop.pc, exc.EC_BRK64 << 26 | exc.ESR_IL | imm, "brk")
        what = stop.detail or "a CPU exception"
        return Ending("error", 1, f"the firmware faulted at {stop.pc:#x} (instruction {stop.icount:,}): {what}")

    def _vector(self, return_pc: int, esr: int, what: str) -> Ending | None:
        if exc.vector_base(self.machine) == 0:
            return Ending("error", 1, f"{what} at {return_pc:#x} (instruction {self.icount:,}) "
                          "and VBAR_EL1 is 0: the firmware has no exception vectors")
        exc.take_exception(self.machine, Vector.SYNC, return_pc, esr)
        return None

    def _finish_call(self, stop: RunStop, result: CallResult) -> Ending | None:
        m = self.machine
        if stop.intno == EXCP_UDEF:            # hvc and hlt did not retire: step past them
            m.set_reg("pc", stop.pc + 4)
            m.set_icount(m.icount + 1)
        return self._apply_call(result, "x0", _M64)

    def _apply_call(self, result: CallResult, register: str, mask: int) -> Ending | None:
        """A firmware call's effects (PSCI, semihosting): its console output, its result
        in `register`, the one warning for a call not emulated, the end it asks for."""
        if result.output:
            self._write_console(result.output)
        if result.x0 is not None:
            self.machine.set_reg(register, result.x0 & mask)
        if result.unsupported and result.unsupported not in self._warned:
            self._warned.add(result.unsupported)
            self._warn(result.unsupported)
        if result.exit_status is not None:
            return Ending("exit", result.exit_status, result.end)
        return None

    # -- state -------------------------------------------------------------------------
    def describe(self) -> str:
        """`info board`: device state."""
        lines = [self._title()]
        lines += self.uart.describe() + self.intc.describe() + self.timer.describe(self.icount)
        return "\n".join(lines)

    def _title(self) -> str:
        return (f"board {self.board.name}: RAM {self.board.ram_base:#x}-{self.board.ram_base + self.ram_size:#x}, "
                f"{self.interrupts_taken} interrupts taken")

    def save(self) -> tuple:
        """Everything a later restore needs: the CPU and RAM, the devices, the counters."""
        return (self.machine.save(), self.intc.save(), self.uart.save(), self.timer.save(),
                self.console_count, self.interrupts_taken, self.check_at)

    def restore(self, state: tuple) -> None:
        machine, intc, uart, timer, self.console_count, self.interrupts_taken, self.check_at = state
        self.machine.restore(machine)
        self.intc.restore(intc)
        self.uart.restore(uart)
        self.timer.restore(timer)

    def state_hash(self) -> bytes:
        return self.machine.quick_hash()

    def close(self) -> None:
        self.machine.close()
