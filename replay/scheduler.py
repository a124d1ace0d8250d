"""The deterministic scheduler: one thread runs at a time, switches are events.

In rr's model, the threads of the guest never run in parallel: exactly one
runs, until it blocks (a futex wait, ...), yields, exits or its time slice
(a number of instructions) ends.  The instruction count stays one global
axis over all threads, so every position in time stays exact.

Recording, a `Policy` chooses: round-robin over the runnable threads with a
fixed slice, or, in chaos mode, random slices and choices from a seed.
Each switch is logged as a TASK_SWITCH event stamped with the count at which
it happened (through HostIO.switch).  Replaying, there is no policy: the
scheduler switches exactly where the log says, to the thread it names.
A slice ends at a block boundary while recording (a soft stop); replay stops
at the logged count exactly (the machine's LIMIT stop).

Switches happen only between runs of the machine, at the top of the process's
run loop (`settle`), so the state at a count where a switch is logged is the
state before it: the switch is made when execution resumes.  A switch saves
the running thread's CPU (a Unicorn context) in its ThreadState and loads the
next thread's: all threads share the machine, its memory and its counter.

A switch to a thread that still waits means its wait timed out (only a
timeout ends a wait without another thread's action); the thread's system
call then returns its wait's timeout result.  When every thread waits and
none has a timeout, nothing can ever wake them: the recording ends with a
DEADLOCK shutdown, naming each thread and what it waits on.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from .errors import ReplayError
from .hostio import HostIO
from .linux.abi import MASK64
from .linux.family import Family
from .linux.files import OpenFile
from .linux.itimer import CLOCK_MONOTONIC
from .linux.kernel import LinuxKernel
from .linux.sys_poll import POLLIN, POLLNVAL, local_revents
from .linux.tasks import ThreadState, WaitKind
from .machine import Machine

DEFAULT_SLICE = 50_000       # instructions a thread runs before another runnable one gets its turn


class Deadlock(ReplayError):
    """Every thread of the guest waits for another: nothing can ever run again."""


@dataclass
class Policy:
    """How the recording's scheduler chooses (never consulted by a replay).

    Round-robin with `slice_length` instructions; with a `chaos_seed`, each
    slice's length and each choice are drawn from a generator seeded with it
    (rr's chaos mode: rare interleavings come up after a few tries)."""

    slice_length: int = DEFAULT_SLICE
    chaos_seed: int | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.chaos_seed) if self.chaos_seed is not None else None

    def next_slice(self) -> int:
        if self._random is None:
            return self.slice_length
        # Log-uniform from 100 instructions to 100 slices: short slices split
        # critical sections, long ones starve a thread for a while (rr's chaos mode).
        low, high = math.log(100), math.log(100 * self.slice_length)
        return int(math.exp(self._random.uniform(low, high)))

    def choose(self, candidates: list[int], current: int) -> int:
        """The next thread among `candidates` (sorted tids), after `current` in turn."""
        if self._random is not None:
            return self._random.choice(candidates)
        later = [t for t in candidates if t > current]
        return later[0] if later else candidates[0]

    @staticmethod
    def now(clock: int) -> int:
        return time.clock_gettime_ns(clock)


class Scheduler:
    def __init__(self, family: Family, host: HostIO, policy: Policy | None) -> None:
        self.family = family
        self.host = host
        self.policy = policy
        self.slice_end = 0 if policy is None else policy.next_slice()
        self.switches = 0

    @property
    def kernel(self) -> LinuxKernel:
        """The running process."""
        return self.family.running

    @property
    def machine(self) -> Machine:
        return self.family.running.machine

    @property
    def recording(self) -> bool:
        return self.policy is not None

    def soft_limit(self, icount: int) -> int:
        """Where the current slice ends (recording with several threads; else never)."""
        if self.policy is None or self.family.task_count() < 2:
            return MASK64
        return max(self.slice_end, icount + 1)

    # -- the one decision point ----------------------------------------------------------
    def settle(self) -> None:
        """Before the machine runs: switch threads if this is where one happens."""
        k = self.kernel
        icount = self.machine.icount
        current = k.thread
        if self.policy is None:
            if self.host.next_sync(icount) == icount:
                return                      # the state hash logged here comes before any switch
            if current.runnable and self.host.next_switch(icount) != icount:
                k.state.yielding = False        # (a yield with no other thread to run: no switch was logged)
                return
            tid = self.host.switch(icount, None)
            owner = self.family.owner(tid)
            if owner is None or owner.state.threads[tid].exited:
                raise ReplayError(f"the log switches to thread {tid}, which does not exist at instruction "
                                  f"{icount:,} (a damaged or foreign trace)")
            self._switch(tid)
            return
        if current.runnable and not k.state.yielding and (icount < self.slice_end or self.family.task_count() < 2):
            return
        candidates = self._candidates()
        if not candidates:
            candidates = self._wait_for_timeout()
            if not candidates:
                return                          # every process ended (an interval timer's SIGALRM)
        if current.runnable and candidates == [current.tid]:
            k.state.yielding = False
            self.slice_end = icount + self.policy.next_slice()
            return
        others = [t for t in candidates if t != current.tid] or candidates
        tid = self.policy.choose(others, current.tid)
        self.host.switch(icount, tid)
        self._switch(tid)

    def _candidates(self) -> list[int]:
        """Runnable threads, and waiting ones whose deadline has passed (recording only)."""
        assert self.policy is not None
        out = []
        for tid, t in sorted(self._threads()):
            if t.runnable or (not t.exited and t.wait is not None and t.wait.deadline is not None
                              and self.policy.now(t.wait.clock) >= t.wait.deadline):
                out.append(tid)
        waiting = self._io_waiters()
        if waiting:
            ready = self._ready(waiting, 0)
            out = sorted(set(out) | {tid for (tid, _k, _e), r in zip(waiting, ready) if r})
        return out

    def _io_waiters(self) -> list[tuple[int, LinuxKernel, list[tuple[OpenFile | None, int]]]]:
        """Threads waiting for input (a read of the host) or for files to be ready (poll,
        select, epoll_wait, a socket call), with the open files and poll events they wait for."""
        out: list[tuple[int, LinuxKernel, list[tuple[OpenFile | None, int]]]] = []
        for k in self.family.live():
            for tid, t in sorted(k.state.threads.items()):
                if t.exited or t.wait is None:
                    continue
                if t.wait.kind == WaitKind.HOST:
                    out.append((tid, k, [(k.fds.get(t.wait.address), POLLIN)]))
                elif t.wait.kind in (WaitKind.POLL, WaitKind.SOCKET):
                    out.append((tid, k, [(k.fds.get(fd), events) for fd, events in t.wait.fds]))
        return out

    def _ready(self, waiting: list[tuple[int, LinuxKernel, list[tuple[OpenFile | None, int]]]],
               timeout: float) -> list[bool]:
        """Which waiting threads' files are ready (recording): in-guest files (pipes,
        eventfds) answered here, host files polled, up to `timeout` s when none is."""
        local = [False] * len(waiting)
        host: list[tuple[int, OpenFile, int]] = []
        for i, (_tid, k, entries) in enumerate(waiting):
            for f, events in entries:
                r = POLLNVAL if f is None else local_revents(k, f, events)
                if r is None:
                    host.append((i, f, events))     # type: ignore[arg-type]
                elif r:
                    local[i] = True
        if any(local) or not host:
            return local
        answers = self.host.ready([f for _, f, _ in host], timeout, [e for _, _, e in host])
        for (i, _f, _e), r in zip(host, answers):
            local[i] = local[i] or r
        return local

    def _on_host(self, waiting: list[tuple[int, LinuxKernel, list[tuple[OpenFile | None, int]]]]) -> list:
        """The waiters some host file can wake (the others only another thread can)."""
        return [w for w in waiting if any(f is not None and local_revents(w[1], f, e) is None for f, e in w[2])]

    def _next_deadline(self) -> int | None:
        """ns until the first waiting thread's deadline or interval timer's expiry (None: none)."""
        assert self.policy is not None
        now = self.policy.now
        lefts = [t.wait.deadline - now(t.wait.clock) for _, t in self._threads()  # type: ignore[union-attr]
                 if not t.exited and t.wait is not None and t.wait.deadline is not None]
        lefts += [k.state.itimer.expiry - now(CLOCK_MONOTONIC) for k in self.family.live()
                  if k.state.itimer is not None]
        return min(lefts, default=None)

    def _wait_for_timeout(self) -> list[int]:
        """Nothing runs: wait for input, the first deadline or an interval timer's
        SIGALRM (which may interrupt a wait), or end the recording (deadlock).
        The threads that may run then; none when every process ended (SIGALRM's default)."""
        assert self.policy is not None
        icount = self.machine.icount
        while True:
            waiting = self._on_host(self._io_waiters())
            if waiting:
                # Wait on the host for input (or until the first deadline), as a blocking read does.
                while True:
                    left = self._next_deadline()
                    ready = self._ready(waiting, 3600.0 if left is None else max(left, 0) / 1e9)
                    if any(ready):
                        return [tid for (tid, _k, _e), r in zip(waiting, ready) if r]
                    if left is not None and left <= 0:
                        break
            timed = [t for _, t in self._threads() if not t.exited and t.wait is not None
                     and t.wait.deadline is not None]
            alarms = [k for k in self.family.live() if k.state.itimer is not None]
            if not timed and not alarms:
                raise Deadlock("deadlock: every thread waits and nothing can wake them: " + "; ".join(
                    f"thread {t.tid} waits on {t.wait.describe()}" for _, t in sorted(self._threads())
                    if not t.exited and t.wait))
            left = self._next_deadline()
            assert left is not None
            if left > 0:
                self.host.sleep(left / 1e9)
            if alarms:
                # An interval timer may have expired: its SIGALRM (logged here; the replay
                # delivers it at the top of the run loop, before this switch).
                self.family.check_timers(icount)
                if self.family.all_exited:
                    return []
            ready = self._candidates()
            if ready:
                return ready

    def _threads(self) -> list[tuple[int, ThreadState]]:
        """Every thread of every live process."""
        return [(tid, t) for k in self.family.live() for tid, t in k.state.threads.items()]

    def _switch(self, tid: int) -> None:
        old_k = self.kernel
        old = old_k.thread
        new_k = self.family.owner(tid)
        assert new_k is not None
        new = new_k.state.threads[tid]
        old_k.state.yielding = False
        icount = old_k.machine.icount
        if new is not old:
            if old.exited:
                if old_k.state.exited is None:
                    del old_k.state.threads[old.tid]
            else:
                old.context = old_k.machine.cpu_context()
            m = new_k.machine
            m.set_icount(icount)                 # one global count over every machine
            assert new.context is not None
            m.load_cpu_context(new.context)
            new.context = None
            new_k.state.current = tid
            self.family.current = new_k.pid
        if new.wait is not None:
            self._time_out(new)
        new_k.enter_pending_handlers()
        self.switches += 1
        if self.policy is not None:
            self.slice_end = icount + self.policy.next_slice()

    def _time_out(self, t: ThreadState) -> None:
        """A waiting thread runs again: its wait timed out (input came, for a read of the host:
        the read is made again)."""
        assert t.wait is not None
        if t.wait.retried:
            if t.wait.kind == WaitKind.POLL:
                t.resume_deadline = t.wait.deadline     # the call made again waits only what is left
            m = self.machine
            m.set_reg(m.arch.pc, m.reg(m.arch.pc) - m.arch.syscall_insn_size)
            m.set_reg(m.arch.syscall_number, t.wait.sysno)
        else:
            self.machine.set_reg(self.machine.arch.syscall_return, t.wait.timeout_result & MASK64)
        t.wait = None
