"""The contract between the kernel and its system call handlers.

Handler modules (sys_*.py) import their vocabulary from here: the argument
tuple, the handler type, the exceptions that end a call early, the signed
views of raw register values and the errno helpers.  They never import the
kernel at run time (only for type hints), so the kernel can import them all
through the syscall table without an import cycle.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from .sysnames import SYSCALL_NUMBERS

if TYPE_CHECKING:
    from .kernel import LinuxKernel

MASK64 = (1 << 64) - 1
AT_FDCWD = -100                   # dirfd: relative to the current directory
AT_SYMLINK_NOFOLLOW = 0x100       # the *at flags
AT_REMOVEDIR = 0x200
AT_EMPTY_PATH = 0x1000

Args = tuple[int, int, int, int, int, int]
# A handler's answer for a wait a signal interrupted: restarted after the signal's
# handler if it has SA_RESTART, else -EINTR (as Linux's -ERESTARTSYS).
ERESTARTSYS = 512
# A host wait's logged result when the call must wait while other threads run: the
# thread blocks and the call is made again when its fds are ready (Linux's
# ERESTARTNOINTR, never seen by the guest; HostIO.wait_syscall's `block`).
EWAIT = 513
Handler = Callable[["LinuxKernel", Args], int]


class GuestExit(Exception):
    """Raised inside a handler to end the process (exit or fatal signal)."""


class Blocked(Exception):
    """Raised by LinuxKernel.block: the calling thread waits; its result comes when it wakes."""


class NoReturnValue(Exception):
    """Raised by rt_sigreturn: the registers were restored, do not set rax."""


def s64(v: int) -> int:
    """A register value as a signed 64-bit integer."""
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def s32(v: int) -> int:
    """The low 32 bits of a register value as a signed int (fds, pids, signals)."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def errno_of(exc: OSError) -> int:
    """The negative errno a system call returns for a host OSError."""
    return -(exc.errno or errno.EIO)


def host_status(action: Callable[..., object], *args: object) -> tuple[int, tuple]:
    """Run a host call for its effect: (0, ()) or (the negative errno, ()), the
    shape host_syscall and host_fd_syscall log."""
    try:
        action(*args)
    except OSError as exc:
        return errno_of(exc), ()
    return 0, ()


def zero(k: LinuxKernel, a: Args) -> int:
    """A call whose Linux answer here is plain success with no effect."""
    return 0


def enosys_quiet(k: LinuxKernel, a: Args) -> int:
    """Features a kernel may lack (rseq, ...): ENOSYS is a valid Linux answer, no warning."""
    return -errno.ENOSYS


def host_path_effect(name: str, nargs_path: int, action: Callable[[list[str], Args], None]) -> Handler:
    """A handler for a call whose only effect is on the host file system.

    The first `nargs_path` (dirfd, path) argument pairs are resolved against
    the guest's current directory; `action` runs on the host while recording
    and its result (0 or -errno) is logged under the call's number.
    """
    sysno = SYSCALL_NUMBERS[name]

    def handler(k: LinuxKernel, a: Args) -> int:
        paths = []
        for i in range(nargs_path):
            dirfd, ptr = a[2 * i], a[2 * i + 1]
            full = k.resolve(dirfd, k.cstring(ptr))
            if isinstance(full, int):
                return full
            paths.append(full)

        def call() -> tuple[int, tuple]:
            try:
                action(paths, a)
            except OSError as exc:
                return errno_of(exc), ()
            return 0, ()
        return k.host_syscall(sysno, call)
    return handler


_LIBC: list[ctypes.CDLL] = []


def host_libc(name: str, *args: object) -> int:
    """Call the host libc's `name` (only inside a HostIO call: recording); its
    result, or an OSError with its errno when it returns -1.  Integer arguments
    wider than an int must be given as ctypes values (c_long)."""
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    result = getattr(_LIBC[0], name)(*args)
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def host_value(name: str, fn: Callable[[], int]) -> Handler:
    """A handler for a call whose answer is one value read on the host (logged)."""
    sysno = SYSCALL_NUMBERS[name]

    def handler(k: LinuxKernel, a: Args) -> int:
        return k.host_syscall(sysno, lambda: (fn(), ()))
    return handler


def wait_forever(k: LinuxKernel, sysno: int) -> int:
    """A wait nothing in this guest can end (one thread): it waits as Linux does,
    until a signal sent from outside (kill from another host process) runs a
    handler (-EINTR; the wait's result and the signal are logged).  While
    recording the wait is HostIO.sleep, which Ctrl-C ends (the recording ends
    there, cleanly); the replay of that recording stops at the same instruction."""
    def wait() -> tuple[int, tuple]:
        while not k.host.sleep(3600.0, wake_on_signal=k.takes_external()):
            pass
        return -errno.EINTR, ()
    while True:     # a signal from outside ends it (EINTR) when its handler runs
        result = k.host_syscall(sysno, wait)
        if k.external_in_syscall():
            return result
