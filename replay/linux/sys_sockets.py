"""Socket calls on descriptors that are not sockets.

ttdbg has no sockets yet (socket and socketpair are unsupported), so no fd
the guest opened is ever a socket, and a socket call on one gets the kernel's
answer: EBADF for a bad fd, ENOTSOCK for any other.  Programs rely on it:
bash calls getpeername(0) to learn whether stdin is a network connection.

Only the inherited stdin/stdout/stderr can be real sockets (a program started
by inetd or systemd): whether one is is asked of the host (logged); a socket
call on a real socket is refused with ENOSYS and the one-line warning.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
from typing import TYPE_CHECKING

from .abi import Args, Handler, errno_of, s32
from .sysnames import SYSCALL_NUMBERS

if TYPE_CHECKING:
    from .kernel import LinuxKernel

# The calls whose first argument is a socket fd.
ON_SOCKET_FD = ("connect", "accept", "accept4", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
                "recvmmsg", "shutdown", "bind", "listen", "getsockname", "getpeername", "setsockopt",
                "getsockopt")


def _not_a_socket(name: str) -> Handler:
    sysno = SYSCALL_NUMBERS[name]

    def handler(k: LinuxKernel, a: Args) -> int:
        f = k.fds.get(s32(a[0]))
        if f is None:
            return -errno.EBADF
        if f.std_stream is None:
            return -errno.ENOTSOCK

        def call(hfd: int) -> tuple[int, tuple]:
            try:
                mode = os.fstat(hfd).st_mode
            except OSError as exc:
                return errno_of(exc), ()
            return (-errno.ENOSYS if _stat.S_ISSOCK(mode) else -errno.ENOTSOCK), ()
        result = k.host_fd_syscall(sysno, f, call)
        if result == -errno.ENOSYS:
            k.warn_once(f"sock{name}", f"{name} on a socket is not supported; returning -ENOSYS")
        return result
    return handler


HANDLERS: dict[str, Handler] = {name: _not_a_socket(name) for name in ON_SOCKET_FD}
