"""Opening and closing files: open, openat, creat, close, close_range.

An open that reaches the host goes through HostIO.open (logged while
recording, answered from the log on replay); /proc/self/* files are built
from guest state (procfs.py).
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from ..events import FileKind
from . import procfs
from .abi import AT_FDCWD, Args, s32
from .files import O_ACCMODE, O_CLOEXEC, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, OpenFile
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel


def _proc_self(k: LinuxKernel, path: str, flags: int, mode: int) -> int | None:
    """Open a file of the guest's own /proc directory from guest state, or
    refuse it; None: the path is not under it (procfs.py)."""
    owner, tail = procfs.lookup(k, path)
    if tail is None:
        content = procfs.SYS_FILES.get(path)
        if content is None and path == "/proc/cpuinfo" and k.machine.arch.name == "x86_64":
            content = procfs.cpuinfo_text()
        return None if content is None else _install_made(k, path, flags, content)
    if tail in procfs.HOST_FILES:
        return _open_host(k, path, f"/proc/self/{tail}", flags, mode)
    if tail in ("", "fd", "fdinfo"):
        if flags & O_ACCMODE != O_RDONLY:
            return -errno.EISDIR
        fd = k.fds.lowest_free()
        listing = procfs.DIR_LISTING if tail == "" else procfs.fd_listing(owner, tail, fd if owner is k else None)
        f = OpenFile(k.fds.new_handle(), FileKind.DIRECTORY, path, flags & ~O_CLOEXEC, synthetic=True,
                     listing=listing)
        k.fds.install(fd, f, cloexec=bool(flags & O_CLOEXEC))
        return fd
    n = procfs.fd_number(tail, "fd")
    if n is not None:
        return _reopen(k, n, flags, mode) if owner is k else -errno.EACCES
    n = procfs.fd_number(tail, "fdinfo")
    if n is not None:
        target = owner.fds.get(n)
        text = procfs.fdinfo_text(owner, n, _position(k, target)) if target is not None else None
        return -errno.ENOENT if text is None else _install_made(k, path, flags, text)
    entry = procfs.FILES.get(tail)
    if entry is None:
        if tail.split("/")[0] in procfs.LINUX_NAMES:
            k.warn_once(f"proc{tail}", f"/proc/self/{tail} is not emulated; opening it fails with ENOENT")
        return -errno.ENOENT
    return _install_made(k, path, flags, entry.build(owner))


def _position(k: LinuxKernel, f: OpenFile) -> int:
    """The file position of an open file (maybe another process's): the kernel's, or (a host
    file) the host's, asked by `k`, the process that runs, and logged."""
    if f.kind not in (FileKind.HOST, FileKind.CHAR) or f.pipe is not None or f.anon is not None:
        return f.pos

    def call(hfd: int) -> tuple[int, tuple]:
        try:
            return os.lseek(hfd, 0, os.SEEK_CUR), ()
        except OSError:
            return 0, ()
    return max(0, k.host_fd_syscall(N["lseek"], f, call))


def _reopen(k: LinuxKernel, n: int, flags: int, mode: int) -> int:
    """open("/proc/self/fd/N"): a new open of what fd N names (Linux follows the link):
    the same pipe, or the file's path again; sockets and kernel objects ENXIO."""
    f = k.fds.get(n)
    if f is None:
        return -errno.ENOENT
    if f.pipe is not None:
        end = "w" if flags & O_ACCMODE == O_WRONLY else "r"
        new = OpenFile(k.fds.new_handle(), FileKind.CHAR, "pipe:", flags & ~O_CLOEXEC, pipe=f.pipe, pipe_end=end)
        if end == "r":
            f.pipe.readers += 1
        else:
            f.pipe.writers += 1
        fd = k.fds.lowest_free()
        k.fds.install(fd, new, cloexec=bool(flags & O_CLOEXEC))
        return fd
    if f.socket is not None or f.anon is not None or f.std_stream is not None or not f.path.startswith("/"):
        return -errno.ENXIO
    return _open_host(k, f.path, f.path, flags, mode)


def _install_made(k: LinuxKernel, path: str, flags: int, content: bytes) -> int:
    if flags & O_ACCMODE != O_RDONLY:
        return -errno.EACCES
    fd = k.fds.lowest_free()
    f = OpenFile(k.fds.new_handle(), FileKind.CAPTURED, path, flags & ~O_CLOEXEC,
                 content=content, synthetic=True)
    k.fds.install(fd, f, cloexec=bool(flags & O_CLOEXEC))
    return fd


def _open_host(k: LinuxKernel, path: str, host_path: str, flags: int, mode: int) -> int:
    """Open `host_path` on the host (logged) as the guest's `path`."""
    fd = k.fds.lowest_free()
    f = OpenFile(k.fds.new_handle(), FileKind.NONE, path, flags & ~O_CLOEXEC)
    outcome = k.host.open(k.icount, host_path, flags, mode & ~k.state.umask, fd, f)
    if outcome.result < 0:
        return outcome.result
    f.kind = outcome.kind
    f.content = outcome.content
    k.fds.install(fd, f, cloexec=bool(flags & O_CLOEXEC))
    return fd


def sys_openat(k: LinuxKernel, a: Args) -> int:
    dirfd, path_ptr, flags, mode = a[0], a[1], k.machine.arch.open_flags_in(a[2] & 0xFFFFFFFF), a[3] & 0o7777
    path = k.resolve(dirfd, k.cstring(path_ptr))
    if isinstance(path, int):
        return path
    special = _proc_self(k, path, flags, mode)
    if special is not None:
        return special
    return _open_host(k, path, path, flags, mode)


def sys_open(k: LinuxKernel, a: Args) -> int:
    return sys_openat(k, (AT_FDCWD, a[0], a[1], a[2], 0, 0))


def sys_creat(k: LinuxKernel, a: Args) -> int:
    return sys_openat(k, (AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0, 0))


def release(k: LinuxKernel, f: OpenFile) -> None:
    """The last fd of `f` was closed."""
    if f.pipe is not None:
        if f.pipe_end == "r":
            f.pipe.readers -= 1
            f.pipe.room_wakes += 1
        else:
            f.pipe.writers -= 1
            f.pipe.data_wakes += 1
            if not f.pipe.writers and k.family is not None:
                k.family.wake_pipe_waiters()      # they read the end of the file
    elif f.std_stream is None and f.kind != FileKind.NONE:
        k.host.close(f)


def sys_close(k: LinuxKernel, a: Args) -> int:
    fd = s32(a[0])
    if k.fds.get(fd) is None:
        return -errno.EBADF
    dropped = k.fds.remove(fd)
    if dropped is not None:
        release(k, dropped)
    return 0


def sys_close_range(k: LinuxKernel, a: Args) -> int:
    first, last = a[0] & 0xFFFFFFFF, a[1] & 0xFFFFFFFF
    for fd, _f in k.fds.items():
        if first <= fd <= last:
            sys_close(k, (fd, 0, 0, 0, 0, 0))
    return 0
