"""A board's firmware replayed, as a Timeline's guest (replay/guest.py).

One CPU is one thread (tid 1 of "process" 1).  A checkpoint is the whole
board: the CPU and RAM, the GIC, the UART with its RX FIFO, the timer, the
check point the loop aims at, and the replayer's place in the log
(BoardReplay.save), so reverse motions across interrupts and UART input land
exactly.  What a board has not answers "none": no signals are ever held, no
auxv, no /proc files, no process births or thread switches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..errors import ReplayError
from ..guest import EndOfHistory, SignalGate
from ..linux.tasks import ThreadInfo
from ..machine import Machine
from ..page_images import MemoryImage, Pages
from ..process import Outcome
from .exceptions import SPSR_EL1
from .replaying import BoardReplay

CPU_TID = 1
_PAGE_ENTRY, _FIXED_COST = 8, 4096          # as checkpoint.py charges a process's checkpoint


@dataclass(frozen=True)
class BoardCheckpoint:
    icount: int
    state: tuple                              # BoardReplay.save()

    held = False                              # a board never holds a delivery

    @property
    def _memory(self) -> MemoryImage:
        return self.state[0][0].memory        # (system (machine, ...), log index, ending)

    @property
    def pages(self) -> Mapping[int, Pages]:
        return self._memory.pages

    @property
    def cost(self) -> int:
        m = self._memory
        return m.new_bytes + _PAGE_ENTRY * m.page_count() + _FIXED_COST

    @property
    def resident_bytes(self) -> int:
        return self._memory.resident_bytes()


# Registers read from the CPU's system registers rather than Unicorn's register ids.
_SYSREGS = {"spsr_el1": SPSR_EL1}


_BANKED_SP = ("sp_el0", "sp_el1")


def _current_sp(pstate: int) -> str:
    """The stack pointer register in use: SP_ELx at ELxh (PSTATE.SP set), else SP_EL0."""
    return f"sp_el{pstate >> 2 & 3}" if pstate & 1 else "sp_el0"


class BoardGuest:
    def __init__(self, replay: BoardReplay) -> None:
        self.replay = replay
        self.pid = self.first_pid = CPU_TID
        self.trace_path = replay.trace.path
        self.event_icounts = [e.icount for e in replay.contents.events]
        self.switch_icounts: list[int] = []
        self.switch_tids: list[int] = []
        self.gate: SignalGate | None = None
        self.syscall_seen = None              # firmware makes no system calls
        self._ran, self._seconds = 0, 0.0         # replayed so far: the speed, for `spacing`

    # -- running -------------------------------------------------------------------
    @property
    def machine(self) -> Machine:
        return self.replay.system.machine

    @property
    def icount(self) -> int:
        return self.replay.icount

    @property
    def exited(self) -> bool:
        return self.replay.ending is not None

    @property
    def gone(self) -> bool:
        return self.exited

    @property
    def spacing(self) -> tuple[int, int]:
        """Checkpoints every ~1/4 s of replay, a reverse step's replay ~1/64 of that.  A
        firmware's speed varies 100x (0.3-0.7 MIPS near its devices, each UART access or
        interrupt a call into Python; 30+ MIPS computing), and a board's checkpoint costs
        ~30 ms (a scan of all its RAM), so the spacing follows the replay's measured speed."""
        rate = self._ran / self._seconds if self._seconds > 0.05 else 1e6
        every = 1 << min(22, max(16, int(rate / 4).bit_length() - 1))
        return every, every >> 4

    def run(self, limit: int, should_stop: Callable[[], bool] | None) -> Outcome:
        start, began = self.icount, self.replay.seconds
        ending = self.replay.run(limit, should_stop)
        self._ran += self.icount - start
        self._seconds += self.replay.seconds - began
        if self.replay.ending is not None:
            return Outcome.EXITED
        return {"limit": Outcome.LIMIT, "trapped": Outcome.TRAPPED}.get(ending.kind, Outcome.INTERRUPTED)

    @property
    def last_trap_pc(self) -> int:
        trap = self.replay.system.last_trap
        assert trap is not None
        return trap.pc

    # -- checkpoints ---------------------------------------------------------------
    def capture(self) -> BoardCheckpoint:
        return BoardCheckpoint(self.icount, self.replay.save())

    def restore(self, cp: BoardCheckpoint) -> None:  # type: ignore[override]
        self.replay.restore(cp.state)

    def fingerprint(self) -> bytes:
        return self.icount.to_bytes(8, "little") + self.replay.system.state_hash()

    # -- history ---------------------------------------------------------------------
    def end_of_history(self) -> EndOfHistory:
        icount, shutdown = self.replay.recorded_end
        if shutdown is None:
            return EndOfHistory(icount, None, 0)
        return EndOfHistory(icount, shutdown.reason, shutdown.status)

    def birth(self) -> int:
        return 0

    @property
    def born(self) -> bool:
        return True

    # -- signals: none ---------------------------------------------------------------
    @property
    def held(self) -> tuple:
        return ()

    def release_held(self) -> None:
        pass

    # -- the one thread, the firmware ---------------------------------------------------
    @property
    def current_tid(self) -> int:
        return CPU_TID

    def threads(self) -> tuple[ThreadInfo, ...]:
        return (ThreadInfo(CPU_TID, CPU_TID, "cpu0"),)

    def read_register(self, name: str, tid: int | None) -> int:
        if tid not in (None, CPU_TID):
            raise ReplayError(f"no thread {tid} here (a board has one CPU, thread {CPU_TID})")
        key = _SYSREGS.get(name)
        if key is not None:
            return self.machine.sysreg(key)
        if name in _BANKED_SP and name == _current_sp(self.machine.reg("pstate")):
            return self.machine.reg("sp")       # Unicorn's copy of the SP in use is stale (measured)
        return self.machine.reg(name)

    def read_registers(self, names: tuple[str, ...], tid: int | None) -> tuple[int, ...]:
        return tuple(self.read_register(n, tid) for n in names)

    @property
    def program(self) -> str:
        return self.replay.contents.header.program

    @property
    def auxv(self) -> bytes:
        return b""

    def vfork_child(self) -> int | None:
        return None

    def proc_file(self, name: str, tid: int | None) -> bytes | None:
        return None

    def device_state(self) -> str:
        return self.replay.describe()
