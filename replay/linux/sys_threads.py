"""Threads: clone and clone3 (threads only), futex, thread exit, tids, yielding.

A thread is a ThreadState (tasks.py) sharing the process's Machine; the
scheduler (scheduler.py) runs one at a time.  A thread that waits (futex)
raises Blocked through LinuxKernel.block: the machine stops after the
system call, another thread runs, and the waiter's result is written into
its saved registers by whoever wakes it (or by the scheduler, when its
timeout ends the wait).  Thread ids are the kernel's own, deterministic.
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from ..events import ClockSource
from . import sys_lifecycle
from .abi import Args, s32
from .tasks import ThreadState, Wait, WaitKind

if TYPE_CHECKING:
    from .kernel import LinuxKernel

CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
CLONE_PIDFD, CLONE_PTRACE, CLONE_VFORK, CLONE_PARENT = 0x1000, 0x2000, 0x4000, 0x8000
CLONE_THREAD, CLONE_NEWNS, CLONE_SYSVSEM, CLONE_SETTLS = 0x10000, 0x20000, 0x40000, 0x80000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_DETACHED = 0x100000, 0x200000, 0x400000
CLONE_UNTRACED, CLONE_CHILD_SETTID, CLONE_IO = 0x800000, 0x1000000, 0x80000000
_THREAD = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND
_HANDLED = (_THREAD | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID
            | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED | CLONE_UNTRACED | CLONE_IO)

FUTEX_WAIT, FUTEX_WAKE, FUTEX_FD, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP = 0, 1, 2, 3, 4, 5
FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 6, 7, 8, 9, 10
FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI2 = 11, 12, 13
FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 128, 256
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF
CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1
_TIMESPEC = struct.Struct("<qq")
_U32 = struct.Struct("<I")
ROBUST_LIST_HEAD_SIZE = 24


# -- creating threads -------------------------------------------------------------------
def _new_thread(k: LinuxKernel, flags: int, stack: int, parent_tid: int, child_tid: int, tls: int) -> int:
    if not flags & CLONE_THREAD:
        return sys_lifecycle.fork(k, flags, stack, parent_tid, child_tid)
    if flags & _THREAD != _THREAD:
        return -errno.EINVAL
    if flags & ~_HANDLED & 0xFFFFFFFF:
        k.warn_once(f"clone{flags:#x}", f"clone flags {flags & ~_HANDLED:#x} are not supported; returning -EINVAL")
        return -errno.EINVAL
    if k.family is not None and k.family.task_count() >= k.family.task_limit:
        return -errno.EAGAIN
    for ptr, wanted in ((parent_tid, CLONE_PARENT_SETTID), (child_tid, CLONE_CHILD_SETTID)):
        if flags & wanted and not k.can_write(ptr, 4):
            return -errno.EFAULT
    assert k.family is not None
    tid = k.family.new_tid()
    parent = k.thread
    context = sys_lifecycle.child_context(k.machine, stack, tls if flags & CLONE_SETTLS else None)
    child = ThreadState(tid, sigmask=parent.sigmask, comm=parent.comm, context=context,
                        clear_child_tid=child_tid if flags & CLONE_CHILD_CLEARTID else 0)
    k.state.threads[tid] = child
    if flags & CLONE_PARENT_SETTID:
        k.write(parent_tid, _U32.pack(tid))
    if flags & CLONE_CHILD_SETTID:
        k.write(child_tid, _U32.pack(tid))
    return tid


def sys_clone(k: LinuxKernel, a: Args) -> int:
    # flags, stack, parent_tid, then child_tid and tls in the architecture's order.
    child_tid, tls = k.machine.arch.clone_child_tid_tls
    return _new_thread(k, a[0], a[1], a[2], a[child_tid], a[tls])


def sys_clone3(k: LinuxKernel, a: Args) -> int:
    ptr, size = a[0], a[1]
    if size < 64 or size > 4096:
        return -errno.EINVAL
    if not k.can_read(ptr, 64):
        return -errno.EFAULT
    (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls) = struct.unpack(
        "<8Q", k.read(ptr, 64))
    if size > 64 and any(k.read(ptr + 64, size - 64)):
        k.warn_once("clone3-set-tid", "clone3's set_tid and cgroup are not supported; returning -EINVAL")
        return -errno.EINVAL
    if flags & _THREAD == _THREAD and exit_signal:
        return -errno.EINVAL
    if bool(stack) != bool(stack_size):
        return -errno.EINVAL
    return _new_thread(k, flags, stack + stack_size if stack else 0, parent_tid, child_tid, tls)


# -- thread identity and exit --------------------------------------------------------------
def sys_gettid(k: LinuxKernel, a: Args) -> int:
    return k.tid


def sys_set_tid_address(k: LinuxKernel, a: Args) -> int:
    k.thread.clear_child_tid = a[0]
    return k.tid


def sys_set_robust_list(k: LinuxKernel, a: Args) -> int:
    if a[1] != ROBUST_LIST_HEAD_SIZE:
        return -errno.EINVAL
    k.thread.robust_list = a[0]
    return 0


def sys_exit(k: LinuxKernel, a: Args) -> int:
    k.exit_thread(a[0] & 0xFF)


def sys_sched_yield(k: LinuxKernel, a: Args) -> int:
    if len(k.live_threads()) > 1:
        k.state.yielding = True
        k.give_way()
    return 0


# -- futex ---------------------------------------------------------------------------------
def _word(k: LinuxKernel, address: int) -> int | None:
    if address & 3 or not k.can_read(address, 4):
        return None
    return _U32.unpack(k.read(address, 4))[0]


def _deadline(k: LinuxKernel, ptr: int, absolute: bool, clock: int) -> int | None:
    """The wait's end in ns on `clock` (None: no timeout); a relative timeout reads the clock (logged)."""
    if not ptr:
        return None
    sec, nsec = _TIMESPEC.unpack(k.read(ptr, 16))
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        raise _Invalid()
    ns = sec * 1_000_000_000 + nsec
    if absolute:
        return ns
    return k.clock(ClockSource.CLOCK_GETTIME, clock) + ns


class _Invalid(Exception):
    pass


def _wait(k: LinuxKernel, uaddr: int, val: int, timeout: int, bitset: int, absolute: bool, clock: int) -> int:
    if not bitset:
        return -errno.EINVAL
    current = _word(k, uaddr)
    if current is None:
        return -errno.EFAULT if not uaddr & 3 else -errno.EINVAL
    try:
        deadline = _deadline(k, timeout, absolute, clock)
    except _Invalid:
        return -errno.EINVAL
    if current != val:
        return -errno.EAGAIN
    k.block(Wait(WaitKind.FUTEX, uaddr, bitset, deadline, clock, -errno.ETIMEDOUT))


def _requeue(k: LinuxKernel, uaddr: int, nr_wake: int, nr_requeue: int, uaddr2: int) -> int:
    woken = k.futex_wake(uaddr, nr_wake)
    moved = 0
    for t in k.futex_waiters(uaddr):
        if moved >= nr_requeue:
            break
        assert t.wait is not None
        t.wait.address = uaddr2
        moved += 1
    return woken + moved


_WAKE_OPS = {
    0: lambda old, arg: arg,              # FUTEX_OP_SET
    1: lambda old, arg: old + arg,        # FUTEX_OP_ADD
    2: lambda old, arg: old | arg,        # FUTEX_OP_OR
    3: lambda old, arg: old & ~arg,       # FUTEX_OP_ANDN
    4: lambda old, arg: old ^ arg,        # FUTEX_OP_XOR
}
_WAKE_CMPS = {
    0: lambda a, b: a == b, 1: lambda a, b: a != b, 2: lambda a, b: a < b,
    3: lambda a, b: a <= b, 4: lambda a, b: a > b, 5: lambda a, b: a >= b,
}


def _wake_op(k: LinuxKernel, uaddr: int, nr_wake: int, nr_wake2: int, uaddr2: int, encoded: int) -> int:
    op, cmp = (encoded >> 28) & 7, (encoded >> 24) & 15
    oparg, cmparg = (encoded >> 12) & 0xFFF, encoded & 0xFFF
    if encoded & (8 << 28):               # FUTEX_OP_OPARG_SHIFT
        oparg = 1 << (oparg & 31)
    oparg = oparg - 0x1000 if oparg & 0x800 and not encoded & (8 << 28) else oparg
    cmparg = cmparg - 0x1000 if cmparg & 0x800 else cmparg
    if op not in _WAKE_OPS or cmp not in _WAKE_CMPS:
        return -errno.ENOSYS
    old = _word(k, uaddr2)
    if old is None or not k.can_write(uaddr2, 4):
        return -errno.EFAULT
    k.write(uaddr2, _U32.pack(_WAKE_OPS[op](old, oparg) & 0xFFFFFFFF))
    woken = k.futex_wake(uaddr, nr_wake)
    signed_old = old - (1 << 32) if old >> 31 else old
    if _WAKE_CMPS[cmp](signed_old, cmparg):
        woken += k.futex_wake(uaddr2, nr_wake2)
    return woken


def sys_futex(k: LinuxKernel, a: Args) -> int:
    uaddr, op, val, timeout, uaddr2, val3 = a[0], a[1] & 0xFFFFFFFF, a[2] & 0xFFFFFFFF, a[3], a[4], a[5]
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    clock = CLOCK_REALTIME if op & FUTEX_CLOCK_REALTIME else CLOCK_MONOTONIC
    count = s32(val)
    if op & FUTEX_CLOCK_REALTIME and cmd not in (FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI,
                                                   FUTEX_LOCK_PI2):
        return -errno.ENOSYS
    if cmd == FUTEX_WAIT:
        return _wait(k, uaddr, val, timeout, FUTEX_BITSET_MATCH_ANY, False, clock)
    if cmd == FUTEX_WAIT_BITSET:
        return _wait(k, uaddr, val, timeout, val3 & 0xFFFFFFFF, True, clock)
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAKE else val3 & 0xFFFFFFFF
        if not bitset:
            return -errno.EINVAL
        return k.futex_wake(uaddr, max(count, 0), bitset)
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        nr_requeue = s32(timeout)         # the timeout argument carries the requeue count
        if count < 0 or nr_requeue < 0:
            return -errno.EINVAL
        if cmd == FUTEX_CMP_REQUEUE:
            word = _word(k, uaddr)
            if word is None:
                return -errno.EFAULT
            if word != val3 & 0xFFFFFFFF:
                return -errno.EAGAIN
        return _requeue(k, uaddr, count, nr_requeue, uaddr2)
    if cmd == FUTEX_WAKE_OP:
        return _wake_op(k, uaddr, max(count, 0), max(s32(timeout), 0), uaddr2, val3 & 0xFFFFFFFF)
    if cmd in (FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_WAIT_REQUEUE_PI,
               FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI2):
        k.warn_once(f"futex{cmd}", f"priority-inheritance futex operation {cmd} is not supported; "
                    "returning -ENOSYS")
        return -errno.ENOSYS
    return -errno.ENOSYS
