"""Signal system calls: sigaction, the signal mask, the alternate stack,
sigreturn, and signals sent to the process itself (kill, tgkill, tkill).

All of it is kernel state; delivery itself lives in the kernel
(deliver_self_signal, enter_handler) and the frame in sigframe.py.
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from . import signals as sig
from . import sys_timers
from .abi import Args, s32
from .sigframe import SS_DISABLE, SS_ONSTACK, AltStack
from .signals import SI_TKILL, SigAction
from .sysnames import SYSCALL_NUMBERS

if TYPE_CHECKING:
    from .kernel import LinuxKernel

SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2


def sys_rt_sigaction(k: LinuxKernel, a: Args) -> int:
    signum, act, oact = s32(a[0]), a[1], a[2]
    if not 1 <= signum <= 64 or (act and signum in (sig.SIGKILL, sig.SIGSTOP)):
        return -errno.EINVAL
    current = k.state.sigactions.get(signum, SigAction())
    if oact:
        k.write(oact, struct.pack("<QQQQ", current.handler, current.flags, current.restorer, current.mask))
    if act:
        handler, flags, restorer, mask = struct.unpack("<QQQQ", k.read(act, 32))
        k.state.sigactions[signum] = SigAction(handler, flags, restorer, mask)
    return 0


def sys_rt_sigprocmask(k: LinuxKernel, a: Args) -> int:
    how, new, old = a[0], a[1], a[2]
    if old:
        k.write(old, struct.pack("<Q", k.state.sigmask))
    if new:
        (mask,) = struct.unpack("<Q", k.read(new, 8))
        mask &= ~sig.UNBLOCKABLE
        if how == SIG_BLOCK:
            k.state.sigmask |= mask
        elif how == SIG_UNBLOCK:
            k.state.sigmask &= ~mask
        elif how == SIG_SETMASK:
            k.state.sigmask = mask
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
    k.write(a[0], struct.pack("<Q", k.state.pending & k.state.sigmask))
    return 0


def sys_sigaltstack(k: LinuxKernel, a: Args) -> int:
    new, old = a[0], a[1]
    alt = k.state.altstack
    on_it = alt.contains(k.machine.reg("rsp"))
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
        k.state.altstack = AltStack(0, 0, SS_DISABLE) if flags & SS_DISABLE else AltStack(sp, size, 0)
    return 0


def sys_rt_sigreturn(k: LinuxKernel, a: Args) -> int:
    k.sigreturn()
    return 0


def sys_kill(k: LinuxKernel, a: Args) -> int:
    pid, signum = s32(a[0]), s32(a[1])
    if pid in (k.pid, 0, -1):
        return k.deliver_self_signal(signum)
    k.warn_once("killother", "signals to other processes are not supported")
    return -errno.EPERM


def sys_tgkill(k: LinuxKernel, a: Args) -> int:
    tgid, tid, signum = s32(a[0]), s32(a[1]), s32(a[2])
    if tgid == k.pid and tid == k.pid:
        return k.deliver_self_signal(signum, SI_TKILL)
    return -errno.ESRCH


def sys_tkill(k: LinuxKernel, a: Args) -> int:
    tid, signum = s32(a[0]), s32(a[1])
    if tid == k.pid:
        return k.deliver_self_signal(signum, SI_TKILL)
    return -errno.ESRCH


def sys_pause(k: LinuxKernel, a: Args) -> int:
    """pause() waits for a signal.  The only one that can come from outside is
    the interval timer's SIGALRM (sys_timers.sleep: EINTR once its handler
    runs); without one it waits forever, as Linux does for a process nobody
    signals.  While recording the wait is HostIO.sleep, which Ctrl-C ends (the
    recording ends there, cleanly, before pause returns); the replay of that
    recording stops at the same instruction."""
    sys_timers.sleep(k, SYSCALL_NUMBERS["pause"], None)
    return -errno.EINTR
