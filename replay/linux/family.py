"""The processes of one recording: who exists, who runs, fork and reaping.

rr's three objects map here as: a thread is a ThreadState (tasks.py), a
process is a LinuxKernel (its per-process state) with its own Machine (its
address space, copied at fork), and this `Family` holds them all by pid.
Pids and tids come from one deterministic counter (the recording's pid,
then +1, +2, ...), so every tid names one process.

Exactly one thread of one process runs at a time (scheduler.py); all the
Machines keep one global instruction count: a switch to another process
sets its Machine's counter to the count where the last one stopped.

A Machine, once used for a pid, stays that pid's, so that a checkpoint's saved
memory is restored into the machine that took it (see page_images.py);
re-running a fork after a seek back reuses it, emptied.  When a process is
reaped its machine is emptied and serves the next new process (a pid's and
its successor's lives never overlap).  Creating a Unicorn instance costs
~10 ms and its translation cache tens of MB, so they are not made per fork.

Saving: `save()` deep-copies every process's kernel state and fd table in one
copy, so the open files and pipes processes share stay shared in the copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..machine import Machine, MachineState
from .signals import SIG_IGN
from .tasks import TASK_LIMIT, WaitKind

SIGCHLD, CLD_EXITED = 17, 1
SA_NOCLDWAIT = 2

if TYPE_CHECKING:
    from .kernel import LinuxKernel

MakeKernel = Callable[[Machine, int], "LinuxKernel"]


@dataclass(frozen=True)
class FamilySnapshot:
    """Every process at one count: machines (by pid), kernels (copied together), who ran."""

    icount: int               # the global count (the running machine's; the others' may lag)
    current: int
    next_tid: int
    first_exit: object
    forked: bool
    machines: dict[int, MachineState]
    kernels: dict[int, tuple]


class Family:
    def __init__(self, first: LinuxKernel, make_kernel: MakeKernel, task_limit: int = TASK_LIMIT) -> None:
        self.first = first
        self.task_limit = task_limit      # threads and processes at once; more: EAGAIN
        self.kernels: dict[int, LinuxKernel] = {first.pid: first}
        self.current = first.pid
        self.next_tid = first.pid + 1
        self.first_exit = None            # the first process's ProcessExit, once it ended
        self.forked = False               # a second process was made (PROCESS events are logged)
        self._machines: dict[int, Machine] = {first.pid: first.machine}
        self._make_kernel = make_kernel
        self._last: dict[int, LinuxKernel] = {first.pid: first}   # each pid's kernel, also once reaped
        self._free: list[Machine] = []    # machines of reaped processes, for new ones
        first.family = self

    # -- who is who -------------------------------------------------------------------------
    @property
    def running(self) -> LinuxKernel:
        """The process that runs (or ran last: it may have ended and been reaped since)."""
        return self.kernel_of(self.current)

    def new_tid(self) -> int:
        tid = self.next_tid
        self.next_tid += 1
        return tid

    def owner(self, tid: int) -> LinuxKernel | None:
        """The live process that has thread `tid`."""
        for k in self.kernels.values():
            if tid in k.state.threads and k.state.exited is None:
                return k
        return None

    def machine_of(self, pid: int) -> Machine:
        """The machine of process `pid` (kept for the pid once made)."""
        return self._machines[pid]

    def kernel_of(self, pid: int) -> LinuxKernel:
        """Process `pid` as it is, or as it was last (reaped: its last kernel)."""
        k = self.kernels.get(pid)
        if k is not None:
            self._last[pid] = k
            return k
        return self._last[pid]

    def live(self) -> list[LinuxKernel]:
        return [k for k in self.kernels.values() if k.state.exited is None]

    @property
    def all_exited(self) -> bool:
        return not self.live()

    def task_count(self) -> int:
        return sum(len([t for t in k.state.threads.values() if not t.exited]) for k in self.live())

    # -- the interval timers (itimer.py) ----------------------------------------------------
    def timer_armed(self) -> bool:
        """Some live process has a timer armed (the run loop's slices are short then)."""
        return any(k.next_timer() is not None for k in self.live())

    def check_timers(self, icount: int) -> bool:
        """Send SIGALRM to each process whose interval timer expired by `icount`
        (HostIO decides: the host's clock recording, the log replaying), in pid
        order.  True when its delivery to the running thread waits at the signal gate."""
        held = False
        for k in sorted(self.live(), key=lambda k: k.pid):
            if k.next_timer() is not None and k.state.exited is None:
                held = k.check_timer(icount) or held
        first = self.first
        if first.state.exited is None:
            held = first.check_external(icount) or held
        return held

    # -- fork and reaping ------------------------------------------------------------------
    def spawn(self, pid: int) -> LinuxKernel:
        """A new, empty process `pid` (its machine reused if the pid had one)."""
        machine = self._machines.get(pid)
        if machine is None:
            machine = self._free.pop() if self._free else Machine(self.first.machine.arch)
            self._machines[pid] = machine
        elif machine in self._free:
            self._free.remove(machine)
        machine.clear()
        kernel = self._make_kernel(machine, pid)
        kernel.family = self
        self.kernels[pid] = kernel
        self._last[pid] = kernel
        return kernel

    def reap(self, pid: int) -> None:
        k = self.kernels.pop(pid, None)
        if k is not None and k is not self.first:
            # Free its memory; its machine serves the next new process (a checkpoint
            # from before the reaping restores the process into it again).
            k.machine.clear()
            self._free.append(k.machine)

    def process_ended(self, child: LinuxKernel) -> None:
        """`child` ended: its children go to the first process, its parent hears
        (SIGCHLD; its wait4 is made again) or, ignoring SIGCHLD, reaps it at once;
        a vfork parent waiting for it runs again."""
        ended = child.state.exited
        if ended is not None and self.current == child.pid:
            child.state.ran += max(0, ended.icount - child.state.ran_from)
            child.state.ran_from = ended.icount
        for k in self.kernels.values():
            if k.state.ppid == child.pid and k is not child:
                k.state.ppid = 1                 # orphans go to init, as on Linux without a subreaper
        self.release_vfork_parent(child)
        parent = self.kernels.get(child.state.ppid)
        if parent is None or parent.state.exited is not None:
            if child is not self.first:
                self.reap(child.pid)            # nobody will wait for it
            return
        action = parent.state.sigactions.get(SIGCHLD)
        if action is not None and (action.handler == SIG_IGN or action.flags & SA_NOCLDWAIT):
            self.reap(child.pid)
        for t in parent.state.threads.values():
            if t.wait is not None and t.wait.kind == WaitKind.JOIN:
                parent.restart(t)
        parent.receive(SIGCHLD, CLD_EXITED, child.pid)

    def release_vfork_parent(self, child: LinuxKernel) -> None:
        """The vfork child execs or ends: its parent's vfork returns (the child's pid)."""
        parent = self.kernels.get(child.state.ppid)
        if parent is None:
            return
        for t in parent.state.threads.values():
            if t.wait is not None and t.wait.kind == WaitKind.VFORK and t.wait.address == child.pid:
                parent.wake(t, child.pid)

    def wake_pipe_waiters(self) -> None:
        """A pipe changed (data, room, or its last writer gone): every thread waiting on a
        pipe (a reader of an empty one, a writer of a full one) tries again.  (A poll/select/
        epoll_wait on a pipe is a POLL wait: the scheduler sees the pipe ready.)"""
        for k in self.live():
            for t in k.state.threads.values():
                if t.wait is not None and t.wait.kind == WaitKind.PIPE:
                    k.restart(t)

    # -- checkpoints ---------------------------------------------------------------------------
    def save(self) -> FamilySnapshot:
        machines = {pid: k.machine.save() for pid, k in self.kernels.items() if k is not self.first}
        kernels = copy.deepcopy({pid: k.saved_fields() for pid, k in self.kernels.items()})
        return FamilySnapshot(self.running.machine.icount, self.current, self.next_tid,
                              copy.deepcopy(self.first_exit), self.forked, machines, kernels)

    def restore(self, snap: FamilySnapshot) -> None:
        kernels = copy.deepcopy(snap.kernels)
        for pid in [p for p in self.kernels if p not in kernels]:
            del self.kernels[pid]
        for pid, fields in kernels.items():
            k = self.kernels.get(pid)
            if k is None:
                machine = self._machines.get(pid)
                if machine is None:           # a state from elsewhere (keyframes on disk): a new machine
                    machine = self._machines[pid] = Machine()
                k = self._make_kernel(machine, pid)
                k.family = self
                self.kernels[pid] = k
                self._last[pid] = k
            k.restore_fields(fields)
            if pid in snap.machines:
                k.machine.restore(snap.machines[pid])
        self.current = snap.current
        self.next_tid = snap.next_tid
        self.first_exit = copy.deepcopy(snap.first_exit)
        self.forked = snap.forked
        self.running.machine.set_icount(snap.icount)      # (a reaped process's machine was not saved)
        used = {id(k.machine) for k in self.kernels.values()}
        self._free = list({id(m): m for m in self._machines.values()
                           if id(m) not in used and m is not self.first.machine}.values())

    def close(self) -> None:
        for machine in self._machines.values():
            if machine is not self.first.machine:
                machine.close()
