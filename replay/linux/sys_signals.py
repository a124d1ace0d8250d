"""Signal system calls: sigaction, the signal mask, the alternate stack,
sigreturn, and signals sent to the process itself (kill, tgkill, tkill).

All of it is kernel state; delivery itself lives in the kernel
(deliver_self_signal, enter_handler) and the frame in sigframe.py.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import signals as sig
from . import sys_timers
from .abi import Args, s32
from .sigframe import SS_DISABLE, SS_ONSTACK, AltStack
from .signals import SI_USER, SigAction
from .sys_process import recording_pgid
from .sysnames import SYSCALL_NUMBERS
from .tasks import Wait, WaitKind

if TYPE_CHECKING:
    from .kernel import LinuxKernel

SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2


def with_wait_mask(k: LinuxKernel, mask_ptr: int, size: int, call: Callable[[], int]) -> int:
    """ppoll, pselect6 and epoll_pwait's signal mask, applied atomically for the wait:
    a signal it unblocks that is already pending ends the call at once (EINTR); one
    that arrives during the wait interrupts it (another task's, a timer's, one from
    outside).  When a handler runs, its frame keeps the old mask (as sigsuspend's);
    otherwise the old mask is back when the call returns.  A call that blocks keeps
    the wait's mask while it waits (kernel.block raises through here)."""
    if not mask_ptr:
        return call()
    if size != 8:
        return -errno.EINVAL
    if not k.can_read(mask_ptr, 8):
        return -errno.EFAULT
    (mask,) = struct.unpack("<Q", k.read(mask_ptr, 8))
    t = k.thread
    if t.suspended_mask is None:
        t.suspended_mask = t.sigmask
    t.sigmask = mask & ~sig.UNBLOCKABLE
    if t.pending & ~t.sigmask:
        k.deliver_pending()
        result = -errno.EINTR
    else:
        result = call()
    if not k.handler_due() and t.suspended_mask is not None:
        t.sigmask, t.suspended_mask = t.suspended_mask, None
    return result


def sys_rt_sigaction(k: LinuxKernel, a: Args) -> int:
    signum, act, oact = s32(a[0]), a[1], a[2]
    if not 1 <= signum <= 64 or (act and signum in (sig.SIGKILL, sig.SIGSTOP)):
        return -errno.EINVAL
    current = k.state.sigactions.get(signum, SigAction())
    if not k.machine.arch.sa_restorer:     # no sa_restorer field (riscv64): handler, flags, mask
        if oact:
            k.write(oact, struct.pack("<QQQ", current.handler, current.flags, current.mask))
        if act:
            handler, flags, mask = struct.unpack("<QQQ", k.read(act, 24))
            k.state.sigactions[signum] = SigAction(handler, flags & ~sig.SA_RESTORER, 0, mask)
        return 0
    if oact:
        k.write(oact, struct.pack("<QQQQ", current.handler, current.flags, current.restorer, current.mask))
    if act:
        handler, flags, restorer, mask = struct.unpack("<QQQQ", k.read(act, 32))
        k.state.sigactions[signum] = SigAction(handler, flags, restorer, mask)
    return 0


def sys_rt_sigprocmask(k: LinuxKernel, a: Args) -> int:
    how, new, old = a[0], a[1], a[2]
    if old:
        k.write(old, struct.pack("<Q", k.thread.sigmask))
    if new:
        (mask,) = struct.unpack("<Q", k.read(new, 8))
        mask &= ~sig.UNBLOCKABLE
        if how == SIG_BLOCK:
            k.thread.sigmask |= mask
        elif how == SIG_UNBLOCK:
            k.thread.sigmask &= ~mask
        elif how == SIG_SETMASK:
            k.thread.sigmask = mask
        else:
            return -errno.EINVAL
        return k.deliver_pending()
    return 0


def sys_rt_sigpending(k: LinuxKernel, a: Args) -> int:
    """The signals pending while blocked (the only ones that wait: kernel.deliver_self_signal)."""
    if a[1] != 8:
        return -errno.EINVAL
    if not k.can_write(a[0], 8):
        return -errno.EFAULT
    k.write(a[0], struct.pack("<Q", k.thread.pending & k.thread.sigmask))
    return 0


def sys_sigaltstack(k: LinuxKernel, a: Args) -> int:
    new, old = a[0], a[1]
    alt = k.thread.altstack
    on_it = alt.contains(k.machine.reg(k.machine.arch.sp))
    if old:
        k.write(old, struct.pack("<QiiQ", alt.sp, SS_ONSTACK if on_it else alt.flags & SS_DISABLE, 0, alt.size))
    if new:
        sp, flags, _pad, size = struct.unpack("<QiiQ", k.read(new, 24))
        if on_it:
            return -errno.EPERM
        if flags & ~SS_DISABLE:
            return -errno.EINVAL
        if not flags & SS_DISABLE and size < 2048:
            return -errno.ENOMEM
        k.thread.altstack = AltStack(0, 0, SS_DISABLE) if flags & SS_DISABLE else AltStack(sp, size, 0)
    return 0


def sys_rt_sigreturn(k: LinuxKernel, a: Args) -> int:
    k.sigreturn()
    return 0


def sys_kill(k: LinuxKernel, a: Args) -> int:
    pid, signum = s32(a[0]), s32(a[1])
    if pid == k.pid or k.family is None and pid in (0, -1):
        return k.deliver_self_signal(signum)
    if pid <= 0 and k.family is not None:
        members = _group_members(k, pid)
        if not members:
            return -errno.ESRCH
        if not 0 <= signum <= 64:
            return -errno.EINVAL
        for p in members:
            if p is k:
                continue
            if signum:
                p.receive(signum, SI_USER, k.pid)
        return k.deliver_self_signal(signum) if k in members else 0
    target = k.family.kernels.get(pid) if k.family is not None and pid > 0 else None
    if target is None:
        return -errno.ESRCH
    if not 0 <= signum <= 64:
        return -errno.EINVAL
    if signum and target.state.exited is None:
        target.receive(signum, SI_USER, k.pid)
    return 0


def _group_members(k: LinuxKernel, pid: int) -> list[LinuxKernel]:
    """The guest processes kill(pid) reaches for pid <= 0: 0, the caller's group; -1, every
    other process; -PGID, that group, made with setpgid/setsid or the recording's own
    (its number asked of the host, logged).  Never a host process: only the recording's."""
    assert k.family is not None
    live = k.family.live()
    if pid == -1:
        return [p for p in live if p is not k]
    pgid = k.state.pgid if pid == 0 else -pid
    members = [p for p in live if p.state.pgid == pgid]
    if pgid == 0 or not members and recording_pgid(k) == pgid:
        members = [p for p in live if p.state.pgid == 0]       # the recording's own group
    return members


def sys_tgkill(k: LinuxKernel, a: Args) -> int:
    tgid, tid, signum = s32(a[0]), s32(a[1]), s32(a[2])
    if tgid <= 0 or tid <= 0:
        return -errno.EINVAL
    if tgid != k.pid:
        return -errno.ESRCH
    return k.signal_thread(tid, signum)


def sys_tkill(k: LinuxKernel, a: Args) -> int:
    tid, signum = s32(a[0]), s32(a[1])
    if tid <= 0:
        return -errno.EINVAL
    return k.signal_thread(tid, signum)


def sys_pause(k: LinuxKernel, a: Args) -> int:
    """pause() waits for a signal.  While other threads or processes run, the
    thread waits for a signal from them or the interval timer's SIGALRM
    (kernel.check_timer).  Alone, the only one that can come is the interval
    timer's SIGALRM (sys_timers.sleep: EINTR once its handler runs); without
    one it waits forever, as Linux does for a process nobody signals.  While
    recording the wait is HostIO.sleep, which Ctrl-C ends (the recording ends
    there, cleanly, before pause returns); the replay of that recording stops
    at the same instruction."""
    if k.family is not None and k.family.task_count() > 1:
        k.block(Wait(WaitKind.SIGNAL))
    sys_timers.sleep(k, SYSCALL_NUMBERS["pause"], None)
    return -errno.EINTR


def sys_rt_sigsuspend(k: LinuxKernel, a: Args) -> int:
    """The mask is replaced by the given one and the thread waits, as pause() does, for
    a signal it lets through to run a handler; the handler's frame keeps the old mask,
    so the old mask is back when the call returns (-EINTR).  A signal already pending
    and unblocked by the new mask is delivered at once (with_wait_mask)."""
    if not a[0]:                           # (with_wait_mask takes no mask as "keep the mask")
        return -errno.EINVAL if a[1] != 8 else -errno.EFAULT

    def wait() -> int:
        if k.family is not None and k.family.task_count() > 1:
            k.block(Wait(WaitKind.SIGNAL))
        sys_timers.sleep(k, SYSCALL_NUMBERS["rt_sigsuspend"], None)
        return -errno.EINTR
    return with_wait_mask(k, a[0], a[1], wait)
