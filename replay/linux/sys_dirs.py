"""Directories and names: getdents64, the current directory, and the calls
that create, remove or rename names (mkdir, rmdir, unlink, rename).

Listings come from the host through HostIO; the current directory is
kernel state; name changes are done on the host while recording only.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import struct
from typing import TYPE_CHECKING

from .abi import AT_FDCWD, AT_REMOVEDIR, Args, errno_of, host_path_effect, s32
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
    start = f.pos

    def call(hfd: int):
        try:
            here = os.stat(hfd)
            entries = [(here.st_ino, 4, b"."), (here.st_ino, 4, b"..")]
            with os.scandir(hfd) as it:
                for e in it:
                    st = e.stat(follow_symlinks=False)
                    entries.append((e.inode(), dtype_of(st.st_mode), os.fsencode(e.name)))
        except OSError as exc:
            return errno_of(exc), ()
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
sys_linkat = host_path_effect("linkat", 2,
                              lambda p, a: os.link(p[0], p[1], follow_symlinks=bool(a[4] & AT_SYMLINK_FOLLOW)))


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
