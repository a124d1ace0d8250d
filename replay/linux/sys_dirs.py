"""Directories and names: getdents64, the current directory, and the calls
that create, remove or rename names (mkdir, rmdir, unlink, rename with its
renameat2 flags, link, symlink, mknod).

Listings come from the host through HostIO; the current directory is
kernel state; name changes are done on the host while recording only.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat as _stat
import struct
from typing import TYPE_CHECKING

from . import procfs
from .abi import AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, Args, errno_of, host_libc, host_path_effect, s32
from .files import OpenFile
from .structs import dirent64, dtype_of
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel


def sys_getdents64(k: LinuxKernel, a: Args) -> int:
    fd, dirp, count = s32(a[0]), a[1], a[2]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if not f.is_directory:
        return -errno.ENOTDIR
    if not k.can_write(dirp, count):
        return -errno.EFAULT
    if f.listing is not None:
        return _made_dirents(k, f, dirp, count)
    start = f.pos
    # /proc lists the recording's processes, not the host's (ttdbg's own among them).
    pids = procfs.guest_pids(k) if f.path == "/proc" else None

    def call(hfd: int):
        try:
            here = os.stat(hfd)
            entries = [(here.st_ino, 4, b"."), (here.st_ino, 4, b"..")]
            with os.scandir(hfd) as it:
                for e in it:
                    if pids is not None and e.name.isdigit():
                        continue
                    st = e.stat(follow_symlinks=False)
                    entries.append((e.inode(), dtype_of(st.st_mode), os.fsencode(e.name)))
        except OSError as exc:
            return errno_of(exc), ()
        if pids is not None:
            entries += [(0x2000 + pid, 4, str(pid).encode()) for pid in pids]
        out = bytearray()
        index = start
        for ino, dtype, name in entries[start:]:
            rec = dirent64(ino, index + 1, dtype, name)
            if len(out) + len(rec) > count:
                break
            out += rec
            index += 1
        if not out and start < len(entries):
            return -errno.EINVAL, ()
        return len(out), ((dirp, bytes(out)),) if out else ()
    result = k.host_fd_syscall(N["getdents64"], f, call)
    if result > 0:
        # The new position is the d_off of the last record returned.
        data = k.read(dirp, result)
        pos = 0
        while pos < len(data):
            _ino, off, reclen = struct.unpack_from("<QqH", data, pos)
            f.pos = off
            pos += reclen
    return result


def _made_dirents(k: LinuxKernel, f: OpenFile, dirp: int, count: int) -> int:
    """getdents64 of a directory the kernel made (/proc/self/fd): from its listing."""
    out = bytearray()
    index = f.pos
    for name, dtype in (f.listing or ())[f.pos:]:
        rec = dirent64(0x1000 + index, index + 1, dtype, name)
        if len(out) + len(rec) > count:
            break
        out += rec
        index += 1
    if not out and f.pos < len(f.listing or ()):
        return -errno.EINVAL
    f.pos = index
    k.write(dirp, bytes(out))
    return len(out)


def sys_getcwd(k: LinuxKernel, a: Args) -> int:
    buf, size = a[0], a[1]
    cwd = k.state.cwd.encode() + b"\0"
    if size < len(cwd):
        return -errno.ERANGE
    k.write(buf, cwd)
    return len(cwd)


def sys_chdir(k: LinuxKernel, a: Args) -> int:
    full = k.resolve(AT_FDCWD, k.cstring(a[0]))
    if isinstance(full, int):
        return full

    def call():
        try:
            st = os.stat(full)
        except OSError as exc:
            return errno_of(exc), ()
        return (0 if _stat.S_ISDIR(st.st_mode) else -errno.ENOTDIR), ()
    result = k.host_syscall(N["chdir"], call)
    if result == 0:
        k.state.cwd = full
    return result


def sys_fchdir(k: LinuxKernel, a: Args) -> int:
    f = k.fds.get(s32(a[0]))
    if f is None:
        return -errno.EBADF
    if not f.is_directory:
        return -errno.ENOTDIR
    k.state.cwd = f.path
    return 0


def _unlinkat(paths, a):
    if a[2] & AT_REMOVEDIR:
        os.rmdir(paths[0])
    else:
        os.unlink(paths[0])


sys_unlinkat = host_path_effect("unlinkat", 1, _unlinkat)
sys_mkdirat = host_path_effect("mkdirat", 1, lambda p, a: os.mkdir(p[0], a[2] & 0o7777))
sys_renameat = host_path_effect("renameat", 2, lambda p, a: os.rename(p[0], p[1]))
AT_SYMLINK_FOLLOW = 0x400
# (libc's linkat: Python's os.link never follows a symbolic link on Linux, whatever it is told)
_linkat = host_path_effect("linkat", 2, lambda p, a: host_libc(
    "linkat", AT_FDCWD, os.fsencode(p[0]), AT_FDCWD, os.fsencode(p[1]), a[4] & AT_SYMLINK_FOLLOW))


def sys_linkat(k: LinuxKernel, a: Args) -> int:
    if a[4] & 0xFFFFFFFF & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    return _linkat(k, a)


def sys_link(k: LinuxKernel, a: Args) -> int:
    return sys_linkat(k, (AT_FDCWD, a[0], AT_FDCWD, a[1], 0, 0))


def sys_unlink(k: LinuxKernel, a: Args) -> int:
    return sys_unlinkat(k, (AT_FDCWD, a[0], 0, 0, 0, 0))


def sys_rmdir(k: LinuxKernel, a: Args) -> int:
    return sys_unlinkat(k, (AT_FDCWD, a[0], AT_REMOVEDIR, 0, 0, 0))


def sys_mkdir(k: LinuxKernel, a: Args) -> int:
    return sys_mkdirat(k, (AT_FDCWD, a[0], a[1], 0, 0, 0))


def sys_rename(k: LinuxKernel, a: Args) -> int:
    return sys_renameat(k, (AT_FDCWD, a[0], AT_FDCWD, a[1], 0, 0))


def sys_symlinkat(k: LinuxKernel, a: Args) -> int:
    """The target is stored as given (relative to the link's directory when relative)."""
    target = k.cstring(a[0])
    if not target:
        return -errno.ENOENT
    full = k.resolve(a[1], k.cstring(a[2]))
    if isinstance(full, int):
        return full

    def call() -> tuple[int, tuple]:
        try:
            os.symlink(target, full)
        except OSError as exc:
            return errno_of(exc), ()
        return 0, ()
    return k.host_syscall(N["symlinkat"], call)


def sys_symlink(k: LinuxKernel, a: Args) -> int:
    return sys_symlinkat(k, (a[0], AT_FDCWD, a[1], 0, 0, 0))


RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4
sys_renameat2 = host_path_effect("renameat2", 2, lambda p, a: host_libc(
    "renameat2", AT_FDCWD, os.fsencode(p[0]), AT_FDCWD, os.fsencode(p[1]), ctypes.c_uint(a[4] & 0xFFFFFFFF)))


def sys_mknodat(k: LinuxKernel, a: Args) -> int:
    """FIFOs, regular files and sockets (devices: the host's answer, EPERM unprivileged);
    the guest's umask applies."""
    mode, dev = a[2] & 0xFFFFFFFF, a[3] & 0xFFFFFFFF
    if _stat.S_IFMT(mode) == _stat.S_IFDIR:
        return -errno.EPERM
    if _stat.S_IFMT(mode) not in (0, _stat.S_IFREG, _stat.S_IFCHR, _stat.S_IFBLK, _stat.S_IFIFO, _stat.S_IFSOCK):
        return -errno.EINVAL
    mode = mode & ~0o7777 | (mode & 0o7777 & ~k.state.umask)
    return _mknod(k, (a[0], a[1], mode, dev, 0, 0))


_mknod = host_path_effect("mknodat", 1, lambda p, a: os.mknod(
    p[0], a[2], os.makedev((a[3] >> 8) & 0xFFF, (a[3] & 0xFF) | ((a[3] >> 12) & 0xFFF00))))


def sys_mknod(k: LinuxKernel, a: Args) -> int:
    return sys_mknodat(k, (AT_FDCWD, a[0], a[1], a[2], 0, 0))
