"""An in-memory Target for byte-transcript tests of the gdb stub.

Execution is a scripted list of PCs; ``position`` indexes it.  Resuming
forwards or backwards walks the list, stopping at breakpoints, watched writes
(``writes`` maps a position to the address written when arriving there) and
the ends of the recording.  ``tids`` (parallel to the history) names the
thread that runs each instruction; ``names`` maps every live thread to its name.
The thread a stop is in is the one that made the last instruction for a step
or a watched write (forwards; backwards, the one whose instruction was undone),
else the one about to run (a breakpoint).  With ``tids``, a thread's registers are
the fake's with rax = its tid and, off the stop's thread, rip = where it last ran.
With ``spin=True`` a continue never finishes on its own: it polls
``should_stop`` until the stub interrupts it.  ``process_stops`` maps a
position to the fork, vfork or exec stop a forward continue makes on arriving
there, if gdb asked for that kind (``process_events``).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable

from x86_description import X86_64, X86_64_PC

from gdbstub.target import (
    BreakKind,
    Capability,
    Direction,
    HostStat,
    StopKind,
    StopReason,
    TargetError,
    ThreadInfo,
)

ALL_CAPABILITIES = frozenset(Capability)

PID = 0x4D2
TID = 0x4D2


def wire(payload: bytes) -> bytes:
    """Frame a payload independently of gdbstub.framing (the tests' oracle)."""
    return b"$" + payload + b"#" + ("%02x" % (sum(payload) % 256)).encode()


class FakeTarget:
    def __init__(
        self,
        history: list[int] | None = None,
        *,
        capabilities: frozenset[Capability] = ALL_CAPABILITIES,
        spin: bool = False,
        memory: dict[int, int] | None = None,
        tids: list[int] | None = None,
        names: dict[int, str] | None = None,
    ) -> None:
        self.capabilities = capabilities
        self.description = X86_64
        self.pid = PID
        self.history = history if history is not None else [0x1000 + 4 * i for i in range(10)]
        self.tids = tids
        self.stop_tid = tids[0] if tids else TID
        self.names = names if names is not None else {TID: "guest"}
        self.position = 0
        self.writes: dict[int, int] = {}
        self.spin = spin
        self.memory: dict[int, int] = dict(memory or {})
        self.breakpoints: set[tuple[BreakKind, int]] = set()
        self.registers: list[int | None] = [0] * len(X86_64.registers)
        for i in range(16):
            self.registers[i] = 0x1111111111111111 * (i % 15 + 1) & 0xFFFFFFFFFFFFFFFF
        self.registers[17] = 0x246  # eflags
        self.registers[[r.name for r in X86_64.registers].index("fs_base")] = None
        self.files: dict[str, bytes] = {"/bin/guest": b"\x7fELF" + bytes(range(60))}
        self.open_files: dict[int, bytes] = {}
        self.calls: list[tuple[object, ...]] = []
        self.killed = False
        self.detached = False
        self.resume_started = 0
        self.current_stop = StopReason(StopKind.SIGNAL)
        self.process_stops: dict[int, StopReason] = {}
        self.reports = {StopKind.FORK: False, StopKind.VFORK: False, StopKind.EXEC: False}

    # --- state --------------------------------------------------------------
    @property
    def pc(self) -> int:
        return self.history[self.position]

    @property
    def tid(self) -> int:
        return self.stop_tid

    def threads(self) -> list[ThreadInfo]:
        return [ThreadInfo(tid, name) for tid, name in sorted(self.names.items())]

    def stop_reason(self) -> StopReason:
        return self.current_stop

    def read_registers(self, tid: int | None = None) -> list[int | None]:
        values = list(self.registers)
        values[X86_64_PC] = self.pc
        if self.tids:
            values[0] = self.tid if tid is None else tid
        if tid is None or tid == self.tid:
            return values
        if tid not in self.names:
            raise TargetError(errno.ESRCH)
        assert self.tids is not None
        ran = [p for p in range(self.position) if self.tids[p] == tid]
        values[X86_64_PC] = self.history[ran[-1]] if ran else 0xDEAD0000
        return values

    def write_register(self, regnum: int, value: int, tid: int | None = None) -> None:
        self.calls.append(("write_register", regnum, value))
        if regnum == X86_64_PC:
            raise TargetError(errno.EPERM)
        self.registers[regnum] = value

    def read_memory(self, addr: int, length: int) -> bytes:
        out = bytearray()
        for a in range(addr, addr + length):
            if a not in self.memory:
                break
            out.append(self.memory[a])
        if not out:
            raise TargetError(errno.EFAULT)
        return bytes(out)

    def write_memory(self, addr: int, data: bytes) -> None:
        self.calls.append(("write_memory", addr, data))
        for i, b in enumerate(data):
            self.memory[addr + i] = b

    # --- execution ----------------------------------------------------------
    def resume(
        self, step: bool, direction: Direction, should_stop: Callable[[], bool], tid: int | None = None
    ) -> StopReason:
        self.calls.append(("resume", step, direction) + ((tid,) if tid is not None else ()))
        self.resume_started += 1
        reason = self._resume(step, direction, should_stop, self.stop_tid if tid is None else tid)
        if self.tids and reason.kind not in (StopKind.SIGNAL, StopKind.WATCH):
            self.stop_tid = self.tids[self.position]   # about to run: at a breakpoint, an end
        self.current_stop = reason
        return reason

    def _resume(
        self, step: bool, direction: Direction, should_stop: Callable[[], bool], tid: int | None
    ) -> StopReason:
        if self.spin and not step:
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                if should_stop():
                    return StopReason(StopKind.INTERRUPTED)
                time.sleep(0.002)
            return StopReason(StopKind.SIGNAL, signal=9)  # the test will notice
        forward = direction is Direction.FORWARD
        while True:
            if forward and self.position == len(self.history) - 1:
                return StopReason(StopKind.REPLAY_END)
            if not forward and self.position == 0:
                return StopReason(StopKind.REPLAY_BEGIN)
            left = self.position
            self.position += 1 if forward else -1
            written = self.writes.get(self.position if forward else left)
            if written is not None and (BreakKind.WRITE, written) in self.breakpoints:
                return StopReason(StopKind.WATCH, address=written)
            ran = self.tids[left if forward else self.position] if self.tids else TID
            self.stop_tid = ran
            if step and (tid is None or ran == tid):
                return StopReason(StopKind.SIGNAL)
            event = self.process_stops.get(self.position)
            if forward and not step and event is not None and self.reports.get(event.kind, True):
                return event
            if (BreakKind.SOFTWARE, self.pc) in self.breakpoints:
                return StopReason(StopKind.SW_BREAK)
            if (BreakKind.HARDWARE, self.pc) in self.breakpoints:
                return StopReason(StopKind.HW_BREAK)
            if should_stop():
                return StopReason(StopKind.INTERRUPTED)

    def insert_breakpoint(self, kind: BreakKind, addr: int, length: int) -> None:
        self.calls.append(("insert", kind, addr, length))
        self.breakpoints.add((kind, addr))

    def remove_breakpoint(self, kind: BreakKind, addr: int, length: int) -> None:
        self.calls.append(("remove", kind, addr, length))
        if (kind, addr) not in self.breakpoints:
            raise TargetError(errno.ENOENT)
        self.breakpoints.discard((kind, addr))

    # --- extras -------------------------------------------------------------
    def auxv(self) -> bytes:
        return bytes(range(40))

    def exec_file(self) -> str:
        return "/bin/guest"

    def host_open(self, path: str, flags: int, mode: int) -> int:
        self.calls.append(("host_open", path, flags, mode))
        if path not in self.files:
            raise TargetError(errno.ENOENT)
        fd = 3 + len(self.open_files)
        self.open_files[fd] = self.files[path]
        return fd

    def host_pread(self, fd: int, count: int, offset: int) -> bytes:
        if fd not in self.open_files:
            raise TargetError(errno.EBADF)
        return self.open_files[fd][offset : offset + count]

    def host_readlink(self, path: str) -> str:
        if path != f"/proc/{PID}/exe":
            raise TargetError(errno.ENOENT)
        return "/bin/guest"

    def host_close(self, fd: int) -> None:
        if self.open_files.pop(fd, None) is None:
            raise TargetError(errno.EBADF)

    def host_fstat(self, fd: int) -> HostStat:
        if fd not in self.open_files:
            raise TargetError(errno.EBADF)
        return HostStat(size=len(self.open_files[fd]), mode=0o100755, mtime=0x5F5E100)

    def monitor(self, command: str, should_stop: Callable[[], bool]) -> str:
        self.calls.append(("monitor", command))
        if command == "fail":
            raise TargetError(errno.EINVAL)
        if command == "spin":  # a long seek: only should_stop ends it
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                if should_stop():
                    self.calls.append(("monitor interrupted", command))
                    return "interrupted\n"
                time.sleep(0.002)
            return "spun for 10 s\n"
        if command == "quiet":
            return ""
        return f"ran {command}\n"

    def catch_syscalls(self, numbers: frozenset[int] | None, enabled: bool) -> None:
        self.calls.append(("catch_syscalls", numbers, enabled))

    def process_events(self, fork: bool, vfork: bool, exec: bool) -> None:
        self.calls.append(("process_events", fork, vfork, exec))
        self.reports = {StopKind.FORK: fork, StopKind.VFORK: vfork, StopKind.EXEC: exec}

    def kill(self) -> None:
        self.killed = True

    def detach(self) -> None:
        self.detached = True

