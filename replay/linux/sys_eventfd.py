"""eventfd and eventfd2: a 64-bit counter in the kernel, written and read by
the guest alone, so deterministic (no events).

A read of a zero counter (or a write that would overflow it) on a blocking
eventfd waits as on Linux; with one thread and no signal from outside nothing
can end that wait (abi.wait_forever: Ctrl-C ends the recording there).
"""

from __future__ import annotations

import errno
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..events import FileKind
from .abi import Args, s32, wait_forever
from .files import O_CLOEXEC, O_NONBLOCK, O_RDWR, OpenFile
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

EFD_SEMAPHORE = 1
MAX_COUNT = (1 << 64) - 2
POLLIN, POLLOUT = 0x1, 0x4


@dataclass
class EventFd:
    count: int
    semaphore: bool

    def read(self, k: LinuxKernel, f: OpenFile, count: int) -> tuple[int, bytes]:
        if count < 8:
            return -errno.EINVAL, b""
        if self.count == 0:
            if f.flags & O_NONBLOCK:
                return -errno.EAGAIN, b""
            return wait_forever(k, N["read"]), b""
        value = 1 if self.semaphore else self.count
        self.count -= value
        return 8, struct.pack("<Q", value)

    def write(self, k: LinuxKernel, f: OpenFile, data: bytes) -> int:
        if len(data) < 8:
            return -errno.EINVAL
        (value,) = struct.unpack_from("<Q", data)
        if value > MAX_COUNT:
            return -errno.EINVAL
        if self.count + value > MAX_COUNT:
            if f.flags & O_NONBLOCK:
                return -errno.EAGAIN
            return wait_forever(k, N["write"])
        self.count += value
        return 8

    def poll(self, k: LinuxKernel) -> int:
        return (POLLIN if self.count else 0) | (POLLOUT if self.count < MAX_COUNT else 0)


def sys_eventfd2(k: LinuxKernel, a: Args) -> int:
    initval, flags = a[0] & 0xFFFFFFFF, s32(a[1])
    if flags & ~(EFD_SEMAPHORE | O_NONBLOCK | O_CLOEXEC):
        return -errno.EINVAL
    f = OpenFile(k.fds.new_handle(), FileKind.CHAR, "anon_inode:[eventfd]", O_RDWR | (flags & O_NONBLOCK),
                 anon=EventFd(initval, bool(flags & EFD_SEMAPHORE)))
    fd = k.fds.lowest_free()
    k.fds.install(fd, f, bool(flags & O_CLOEXEC))
    return fd


def sys_eventfd(k: LinuxKernel, a: Args) -> int:
    return sys_eventfd2(k, (a[0], 0, 0, 0, 0, 0))
