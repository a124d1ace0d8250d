"""signalfd and signalfd4: signals read as data.

The signals that can become readable are those the program keeps pending by
blocking them: the ones it sends itself and its interval timer's SIGALRM.
A blocking read with none pending sleeps until the interval timer expires
(when SIGALRM is in the set and blocked), else waits forever, as Linux does
with one thread.
"""

from __future__ import annotations

import errno
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..events import ClockSource, FileKind
from . import signals as sig
from .abi import Args, s32, wait_forever
from .files import O_CLOEXEC, O_NONBLOCK, O_RDONLY, OpenFile
from .itimer import CLOCK_MONOTONIC, NS
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

SIGINFO_SIZE = 128          # struct signalfd_siginfo
POLLIN = 0x1
ALRM = 1 << (sig.SIGALRM - 1)


@dataclass
class SignalFd:
    mask: int

    def read(self, k: LinuxKernel, f: OpenFile, count: int) -> tuple[int, bytes]:
        if count < SIGINFO_SIZE:
            return -errno.EINVAL, b""
        while not k.thread.pending & self.mask:
            if f.flags & O_NONBLOCK:
                return -errno.EAGAIN, b""
            if not self.waits_for_timer(k):
                return wait_forever(k, N["read"]), b""
            t = k.state.itimer
            assert t is not None
            now = k.clock(ClockSource.CLOCK_GETTIME, CLOCK_MONOTONIC)
            k.host.sleep(max(0, t.expiry - now) / NS)
            k.timer_fires_in_syscall()          # blocked: it becomes pending
        out = b""
        while len(out) + SIGINFO_SIZE <= count and (ready := k.thread.pending & self.mask):
            signo = (ready & -ready).bit_length()
            k.thread.pending &= ~(1 << (signo - 1))
            code = k.thread.pending_codes.pop(signo, sig.SI_USER)
            pid = k.pid if code != sig.SI_KERNEL else 0
            uid = k.creds.user.real if k.creds is not None and code != sig.SI_KERNEL else 0
            out += struct.pack("<IiiII", signo, 0, code, pid, uid).ljust(SIGINFO_SIZE, b"\0")
        return len(out), out

    def waits_for_timer(self, k: LinuxKernel) -> bool:
        """Its set includes the interval timer's SIGALRM, armed and blocked."""
        return bool(k.state.itimer is not None and self.mask & ALRM and k.thread.sigmask & ALRM)

    def write(self, k: LinuxKernel, f: OpenFile, data: bytes) -> int:
        return -errno.EINVAL

    def poll(self, k: LinuxKernel) -> int:
        return POLLIN if k.thread.pending & self.mask else 0


def sys_signalfd4(k: LinuxKernel, a: Args) -> int:
    fd, mask_ptr, size, flags = s32(a[0]), a[1], a[2], s32(a[3])
    if flags & ~(O_NONBLOCK | O_CLOEXEC) or size != 8:
        return -errno.EINVAL
    if not k.can_read(mask_ptr, 8):
        return -errno.EFAULT
    (mask,) = struct.unpack("<Q", k.read(mask_ptr, 8))
    mask &= ~sig.UNBLOCKABLE
    if fd != -1:
        f = k.fds.get(fd)
        if f is None:
            return -errno.EBADF
        if not isinstance(f.anon, SignalFd):
            return -errno.EINVAL
        f.anon.mask = mask
        return fd
    f = OpenFile(k.fds.new_handle(), FileKind.CHAR, "anon_inode:[signalfd]", O_RDONLY | (flags & O_NONBLOCK),
                 anon=SignalFd(mask))
    new = k.fds.lowest_free()
    k.fds.install(new, f, bool(flags & O_CLOEXEC))
    return new


def sys_signalfd(k: LinuxKernel, a: Args) -> int:
    return sys_signalfd4(k, (a[0], a[1], a[2], 0, 0, 0))
