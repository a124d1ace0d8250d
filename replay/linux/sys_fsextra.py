"""Less common file calls: statfs, extended attributes, in-kernel copies.

statfs and the xattr calls ask the host (through HostIO, so they are
logged); copy_file_range and sendfile are done as the guest's own read
followed by its own write, so each half is recorded like any other.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from typing import TYPE_CHECKING

from .kernel import AT_FDCWD, Args, Handler, s32
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

STATFS_SIZE = 120
XATTR_SIZE_MAX = 65536


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.statfs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    libc.fstatfs.argtypes = [ctypes.c_int, ctypes.c_void_p]
    return libc


def _host_statfs(target: str | int) -> tuple[int, bytes]:
    """The host's struct statfs for a path or host fd: (0 or -errno, bytes)."""
    libc = _libc()
    buf = ctypes.create_string_buffer(STATFS_SIZE)
    if isinstance(target, int):
        rc = libc.fstatfs(target, buf)
    else:
        rc = libc.statfs(os.fsencode(target), buf)
    if rc != 0:
        return -ctypes.get_errno(), b""
    return 0, buf.raw


def sys_statfs(k: "LinuxKernel", a: Args) -> int:
    full = k.resolve(AT_FDCWD, k.cstring(a[0]))
    if isinstance(full, int):
        return full
    buf = a[1]
    if not k.can_write(buf, STATFS_SIZE):
        return -errno.EFAULT

    def call():
        rc, data = _host_statfs(full)
        return rc, ((buf, data),) if rc == 0 else ()
    return k.host_syscall(N["statfs"], call)


def sys_fstatfs(k: "LinuxKernel", a: Args) -> int:
    f = k.fds.get(s32(a[0]))
    if f is None:
        return -errno.EBADF
    buf = a[1]
    if not k.can_write(buf, STATFS_SIZE):
        return -errno.EFAULT

    def call(hfd: int):
        rc, data = _host_statfs(hfd)
        return rc, ((buf, data),) if rc == 0 else ()
    if f.pipe is not None:
        return _pipe_statfs(k, buf)
    return k.host_fd_syscall(N["fstatfs"], f, call)


def _pipe_statfs(k: "LinuxKernel", buf: int) -> int:
    # pipefs: PIPEFS_MAGIC, 4 KiB blocks, nothing else of interest.
    k.write(buf, struct.pack("<qq", 0x50495045, 4096) + bytes(STATFS_SIZE - 16))
    return 0


def _xattr_result(fn, size: int, out: int) -> tuple[int, tuple]:
    try:
        value = fn()
    except OSError as exc:
        return -(exc.errno or errno.EIO), ()
    if size == 0:
        return len(value), ()
    if len(value) > size:
        return -errno.ERANGE, ()
    return len(value), ((out, value),) if value else ()


def _getxattr(name: str, follow: bool):
    def handler(k: "LinuxKernel", a: Args) -> int:
        full = k.resolve(AT_FDCWD, k.cstring(a[0]))
        if isinstance(full, int):
            return full
        attr, out, size = k.cstring(a[1]), a[2], min(a[3], XATTR_SIZE_MAX)
        if size and not k.can_write(out, size):
            return -errno.EFAULT
        return k.host_syscall(N[name], lambda: _xattr_result(
            lambda: os.getxattr(full, attr, follow_symlinks=follow), size, out))
    return handler


def _listxattr(name: str, follow: bool):
    def handler(k: "LinuxKernel", a: Args) -> int:
        full = k.resolve(AT_FDCWD, k.cstring(a[0]))
        if isinstance(full, int):
            return full
        out, size = a[1], min(a[2], XATTR_SIZE_MAX)
        if size and not k.can_write(out, size):
            return -errno.EFAULT
        return k.host_syscall(N[name], lambda: _xattr_result(
            lambda: b"".join(n.encode() + b"\0" for n in os.listxattr(full, follow_symlinks=follow)),
            size, out))
    return handler


def sys_fgetxattr(k: "LinuxKernel", a: Args) -> int:
    f = k.fds.get(s32(a[0]))
    if f is None:
        return -errno.EBADF
    attr, out, size = k.cstring(a[1]), a[2], min(a[3], XATTR_SIZE_MAX)
    if size and not k.can_write(out, size):
        return -errno.EFAULT
    if f.pipe is not None:
        return -errno.ENODATA
    return k.host_fd_syscall(N["fgetxattr"], f, lambda hfd: _xattr_result(
        lambda: os.getxattr(hfd, attr), size, out))


def _copy(k: "LinuxKernel", in_fd: int, out_fd: int, count: int, in_off_ptr: int) -> int:
    from .sys_files import _read_file, _write_file

    src, dst = k.fds.get(in_fd), k.fds.get(out_fd)
    if src is None or dst is None:
        return -errno.EBADF
    offset = None
    if in_off_ptr:
        (offset,) = struct.unpack("<q", k.read(in_off_ptr, 8))
    result, data = _read_file(k, in_fd, src, min(count, 1 << 20), offset)
    if result <= 0:
        return result
    written = _write_file(k, out_fd, dst, data[:result], None)
    if in_off_ptr and written > 0:
        k.write(in_off_ptr, struct.pack("<q", offset + written))
    return written


def sys_copy_file_range(k: "LinuxKernel", a: Args) -> int:
    if a[3]:
        return -errno.EINVAL   # an output offset: let the caller fall back to read/write
    return _copy(k, s32(a[0]), s32(a[2]), a[4], a[1])


def sys_sendfile(k: "LinuxKernel", a: Args) -> int:
    return _copy(k, s32(a[1]), s32(a[0]), a[3], a[2])



HANDLERS: dict[int, Handler] = {
    N["statfs"]: sys_statfs, N["fstatfs"]: sys_fstatfs,
    N["getxattr"]: _getxattr("getxattr", True), N["lgetxattr"]: _getxattr("lgetxattr", False),
    N["fgetxattr"]: sys_fgetxattr,
    N["listxattr"]: _listxattr("listxattr", True), N["llistxattr"]: _listxattr("llistxattr", False),
    N["copy_file_range"]: sys_copy_file_range, N["sendfile"]: sys_sendfile,
}
