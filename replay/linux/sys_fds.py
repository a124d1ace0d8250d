"""The descriptor table: dup, dup2, dup3, fcntl, pipes and ioctl.

All of it is kernel state except the terminal ioctls, which ask the host
through HostIO (logged while recording).
"""

from __future__ import annotations

import errno
import fcntl
import struct
from typing import TYPE_CHECKING

from ..events import FileKind
from .abi import Args, errno_of, s32
from .files import O_ACCMODE, O_APPEND, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY, OpenFile, Pipe
from .sys_open import release
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 4, 1030
F_GETLK, F_SETLK, F_SETLKW = 5, 6, 7
F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = 36, 37, 38
LOCK_COMMANDS = (F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW)
FLOCK_SIZE = 32          # struct flock: type, whence, start, len, pid
FD_CLOEXEC = 1

# ioctl requests answered by the host, with the size of the structure they fill.
IOCTL_READ = {0x5401: 36, 0x5413: 8, 0x540F: 4, 0x541B: 4}     # TCGETS TIOCGWINSZ TIOCGPGRP FIONREAD
IOCTL_WRITE = {0x5402: 36, 0x5403: 36, 0x5404: 36, 0x5414: 8}  # TCSETS* TIOCSWINSZ
FIONBIO = 0x5421
FIOCLEX, FIONCLEX = 0x5451, 0x5450
FICLONE, FICLONERANGE = 0x40049409, 0x4020940D   # arg: the source fd / struct file_clone_range (32 bytes)
HOST_KINDS = (FileKind.CHAR, FileKind.HOST)
_HOST_BACKED = (FileKind.CHAR, FileKind.HOST, FileKind.CAPTURED, FileKind.DIRECTORY)


def has_host_file(f: OpenFile) -> bool:
    """A host file is behind `f` while recording (in-guest pipes and the
    /proc files the kernel makes have none)."""
    return f.kind in _HOST_BACKED and f.pipe is None and not f.synthetic


def _dup_to(k: LinuxKernel, old: int, new: int, cloexec: bool) -> int:
    f = k.fds.get(old)
    if f is None:
        return -errno.EBADF
    if new < 0 or new >= (k.fds.limit if k.fds.limit is not None else 1 << 20):
        return -errno.EBADF
    dropped = k.fds.install(new, f, cloexec)
    if dropped is not None and dropped is not f:
        release(k, dropped)
    return new


def sys_dup(k: LinuxKernel, a: Args) -> int:
    old = s32(a[0])
    if k.fds.get(old) is None:
        return -errno.EBADF
    return _dup_to(k, old, k.fds.lowest_free(), False)


def sys_dup2(k: LinuxKernel, a: Args) -> int:
    old, new = s32(a[0]), s32(a[1])
    if k.fds.get(old) is None:
        return -errno.EBADF
    if old == new:
        return new
    return _dup_to(k, old, new, False)


def sys_dup3(k: LinuxKernel, a: Args) -> int:
    old, new, flags = s32(a[0]), s32(a[1]), a[2]
    if old == new or flags & ~O_CLOEXEC:
        return -errno.EINVAL
    return _dup_to(k, old, new, bool(flags & O_CLOEXEC))


def sys_fcntl(k: LinuxKernel, a: Args) -> int:
    fd, cmd, arg = s32(a[0]), a[1], a[2]
    entry = k.fds.entry(fd)
    if entry is None:
        return -errno.EBADF
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        if k.fds.limit is not None and s32(arg) >= k.fds.limit:
            return -errno.EINVAL
        return _dup_to(k, fd, k.fds.lowest_free(arg), cmd == F_DUPFD_CLOEXEC)
    if cmd == F_GETFD:
        return FD_CLOEXEC if entry.cloexec else 0
    if cmd == F_SETFD:
        entry.cloexec = bool(arg & FD_CLOEXEC)
        return 0
    if cmd == F_GETFL:
        return k.machine.arch.open_flags_out(entry.file.flags)
    if cmd == F_SETFL:
        entry.file.flags = (entry.file.flags & O_ACCMODE) | (arg & (O_APPEND | O_NONBLOCK))
        return 0
    if cmd in LOCK_COMMANDS:
        return _record_lock(k, entry.file, cmd, arg)
    k.warn_once(f"fcntl{cmd}", f"fcntl command {cmd} is not supported")
    return -errno.EINVAL


def _record_lock(k: LinuxKernel, f: OpenFile, cmd: int, arg: int) -> int:
    """A record lock, taken (or tested) on the host file while recording; the
    result and the struct flock the kernel wrote back are logged."""
    if not has_host_file(f):
        k.warn_once("fcntl-lock", f"file locks on {f.path} (not a host file) are not supported; returning -ENOSYS")
        return -errno.ENOSYS
    if not k.can_read(arg, FLOCK_SIZE) or not k.can_write(arg, FLOCK_SIZE):
        return -errno.EFAULT
    request = k.read(arg, FLOCK_SIZE)

    def call(hfd: int) -> tuple[int, tuple]:
        try:
            answer = fcntl.fcntl(hfd, cmd, request)
        except OSError as exc:
            return errno_of(exc), ()
        return 0, ((arg, answer),) if cmd in (F_GETLK, F_OFD_GETLK) else ()
    return k.host_fd_syscall(N["fcntl"], f, call)


def sys_flock(k: LinuxKernel, a: Args) -> int:
    """flock, taken on the host file while recording (the result logged)."""
    f = k.fds.get(s32(a[0]))
    if f is None:
        return -errno.EBADF
    if not has_host_file(f):
        k.warn_once("flock", f"flock on {f.path} (not a host file) is not supported; returning -ENOSYS")
        return -errno.ENOSYS
    operation = a[1] & 0xFFFFFFFF

    def call(hfd: int) -> tuple[int, tuple]:
        try:
            fcntl.flock(hfd, operation)
        except OSError as exc:
            return errno_of(exc), ()
        return 0, ()
    return k.host_fd_syscall(N["flock"], f, call)


def sys_pipe2(k: LinuxKernel, a: Args) -> int:
    fds_ptr, flags = a[0], a[1]
    if not k.can_write(fds_ptr, 8):
        return -errno.EFAULT
    pipe = Pipe(readers=1, writers=1)
    r = OpenFile(k.fds.new_handle(), FileKind.CHAR, "pipe:", O_RDONLY | flags & O_NONBLOCK, pipe=pipe,
                 pipe_end="r")
    w = OpenFile(k.fds.new_handle(), FileKind.CHAR, "pipe:", O_WRONLY | flags & O_NONBLOCK, pipe=pipe,
                 pipe_end="w")
    cloexec = bool(flags & O_CLOEXEC)
    rfd = k.fds.lowest_free()
    k.fds.install(rfd, r, cloexec)
    wfd = k.fds.lowest_free()
    k.fds.install(wfd, w, cloexec)
    k.write(fds_ptr, struct.pack("<ii", rfd, wfd))
    return 0


def sys_pipe(k: LinuxKernel, a: Args) -> int:
    return sys_pipe2(k, (a[0], 0, 0, 0, 0, 0))


def _clone(k: LinuxKernel, dst: OpenFile, request: int, arg: int) -> int:
    """FICLONE / FICLONERANGE (cp --reflink, mv, sed -i): made on the host while
    recording, its result logged (most file systems say EOPNOTSUPP, EXDEV or EINVAL)."""
    if request == FICLONE:
        src_fd, data = s32(arg), b""
    else:
        data = k.read(arg, 32)
        src_fd = struct.unpack_from("<q", data)[0]
    src = k.fds.get(src_fd)
    if src is None:
        return -errno.EBADF

    def call(hfds: list):
        if None in hfds:                   # a file of the trace, not of the host
            return -errno.EXDEV, ()
        try:
            fcntl.ioctl(hfds[1], request, hfds[0] if request == FICLONE else struct.pack("<q", hfds[0]) + data[8:])
        except OSError as exc:
            return errno_of(exc), ()
        return 0, ()
    return k.host_files_syscall(N["ioctl"], [src, dst], call)


def sys_ioctl(k: LinuxKernel, a: Args) -> int:
    fd, request, arg = s32(a[0]), a[1] & 0xFFFFFFFF, a[2]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if request in (FIOCLEX, FIONCLEX):
        entry = k.fds.entry(fd)
        if entry is not None:
            entry.cloexec = request == FIOCLEX
        return 0
    if request == FIONBIO:
        if not k.can_read(arg, 4):
            return -errno.EFAULT
        on = int.from_bytes(k.read(arg, 4), "little") != 0
        f.flags = (f.flags | O_NONBLOCK) if on else (f.flags & ~O_NONBLOCK)
        return 0
    if f.pipe is not None:
        if request == 0x541B:
            k.write(arg, struct.pack("<i", len(f.pipe.buffer)))
            return 0
        return -errno.ENOTTY
    if f.kind not in HOST_KINDS:
        return -errno.ENOTTY
    if request in (FICLONE, FICLONERANGE):
        return _clone(k, f, request, arg)
    if request in IOCTL_READ:
        size = IOCTL_READ[request]
        if not k.can_write(arg, size):
            return -errno.EFAULT

        def call(hfd: int):
            try:
                out = fcntl.ioctl(hfd, request, bytes(size))
            except OSError as exc:
                return errno_of(exc), ()
            return 0, ((arg, bytes(out)),)
        return k.host_fd_syscall(N["ioctl"], f, call)
    if request in IOCTL_WRITE:
        data = k.read(arg, IOCTL_WRITE[request])

        def call_w(hfd: int):
            try:
                fcntl.ioctl(hfd, request, data)
            except OSError as exc:
                return errno_of(exc), ()
            return 0, ()
        return k.host_fd_syscall(N["ioctl"], f, call_w)
    k.warn_once(f"ioctl{request:x}", f"ioctl request {request:#x} is not supported; returning -ENOTTY")
    return -errno.ENOTTY
