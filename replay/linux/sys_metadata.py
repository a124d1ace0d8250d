"""File metadata: the stat family, access, readlink, statfs, extended
attributes, and changes of metadata (chmod, chown, utimensat, setxattr...).

Every answer about a host file comes from the host through HostIO (logged
while recording); in-guest pipes and synthetic /proc files get a stat made
from guest state.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat as _stat
import struct
from typing import TYPE_CHECKING

from . import procfs
from .abi import (
    AT_EMPTY_PATH,
    AT_FDCWD,
    AT_SYMLINK_NOFOLLOW,
    Args,
    errno_of,
    host_libc,
    host_path_effect,
    host_status,
    s32,
)
from .files import OpenFile
from .structs import pack_stat, pack_statx, synthetic_stat, synthetic_statx
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

STATFS_SIZE = 120
XATTR_SIZE_MAX = 65536


def _fstat_file(k: LinuxKernel, f: OpenFile, sysno: int, pack) -> int:
    if f.pipe is not None:
        return -1   # caller packs a synthetic FIFO stat

    def call(hfd: int):
        try:
            return 0, pack(os.fstat(hfd))
        except OSError as exc:
            return errno_of(exc), ()
    return k.host_fd_syscall(sysno, f, call)


def sys_fstat(k: LinuxKernel, a: Args) -> int:
    fd, buf = s32(a[0]), a[1]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if not k.can_write(buf, 144):
        return -errno.EFAULT
    if f.pipe is not None:
        k.write(buf, synthetic_stat(0, _stat.S_IFIFO | 0o600, ino=f.handle, layout=k.machine.arch.stat_layout))
        return 0
    if f.anon is not None:
        k.write(buf, synthetic_stat(0, 0o600, ino=f.handle))   # an anonymous inode, as Linux's
        return 0
    if f.synthetic:
        mode, size = _synthetic_size(k, f)
        k.write(buf, synthetic_stat(size, mode, ino=f.handle,
                                    layout=k.machine.arch.stat_layout))   # /proc text files: size 0
        return 0
    return _fstat_file(k, f, N["fstat"], lambda st: ((buf, pack_stat(st, k.machine.arch.stat_layout)),))


def sys_newfstatat(k: LinuxKernel, a: Args) -> int:
    dirfd, path_ptr, buf, flags = a[0], a[1], a[2], a[3]
    path = k.cstring(path_ptr)
    if not path and flags & AT_EMPTY_PATH:
        return sys_fstat(k, (dirfd, buf, 0, 0, 0, 0))
    full = k.resolve(dirfd, path)
    if isinstance(full, int):
        return full
    if not k.can_write(buf, 144):
        return -errno.EFAULT
    follow = not flags & AT_SYMLINK_NOFOLLOW
    owner, tail = procfs.lookup(k, full)
    n = procfs.fd_number(tail, "fd") if tail is not None and follow and owner is k else None
    if n is not None:          # /proc/self/fd/N followed: the open file itself
        return sys_fstat(k, (n, buf, 0, 0, 0, 0)) if k.fds.get(n) is not None else -errno.ENOENT
    made = _proc_stat(owner, tail, follow) if tail is not None else None
    if made is not None:
        if isinstance(made, int):
            return made
        k.write(buf, synthetic_stat(made[1], made[0], ino=made[2], layout=k.machine.arch.stat_layout))
        return 0

    def call():
        try:
            return 0, ((buf, pack_stat(os.stat(full, follow_symlinks=follow), k.machine.arch.stat_layout)),)
        except OSError as exc:
            return errno_of(exc), ()
    return k.host_syscall(N["newfstatat"], call)


def sys_stat(k: LinuxKernel, a: Args) -> int:
    return sys_newfstatat(k, (AT_FDCWD, a[0], a[1], 0, 0, 0))


def sys_lstat(k: LinuxKernel, a: Args) -> int:
    return sys_newfstatat(k, (AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW, 0, 0))


def sys_statx(k: LinuxKernel, a: Args) -> int:
    dirfd, path_ptr, flags, mask, buf = a[0], a[1], a[2], a[3], a[4]
    if not k.can_write(buf, 256):
        return -errno.EFAULT
    path = k.cstring(path_ptr)
    if not path and flags & AT_EMPTY_PATH:
        return _statx_fd(k, s32(dirfd), mask, buf)
    full = k.resolve(dirfd, path)
    if isinstance(full, int):
        return full
    follow = not flags & AT_SYMLINK_NOFOLLOW
    owner, tail = procfs.lookup(k, full)
    n = procfs.fd_number(tail, "fd") if tail is not None and follow and owner is k else None
    if n is not None:          # /proc/self/fd/N followed: the open file itself
        return _statx_fd(k, n, mask, buf) if k.fds.get(n) is not None else -errno.ENOENT
    made = _proc_stat(owner, tail, follow) if tail is not None else None
    if made is not None:
        if isinstance(made, int):
            return made
        k.write(buf, synthetic_statx(made[0], made[2], mask, made[1]))
        return 0

    def call():
        try:
            return 0, ((buf, pack_statx(os.stat(full, follow_symlinks=follow), mask)),)
        except OSError as exc:
            return errno_of(exc), ()
    return k.host_syscall(N["statx"], call)


def _statx_fd(k: LinuxKernel, fd: int, mask: int, buf: int) -> int:
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if f.pipe is not None:
        k.write(buf, synthetic_statx(_stat.S_IFIFO | 0o600, f.handle, mask))
        return 0
    if f.synthetic:
        mode, size = _synthetic_size(k, f)
        k.write(buf, synthetic_statx(mode, f.handle, mask, size))
        return 0
    return _fstat_file(k, f, N["statx"], lambda st: ((buf, pack_statx(st, mask)),))


def sys_faccessat2(k: LinuxKernel, a: Args) -> int:
    dirfd, path_ptr, mode, flags = a[0], a[1], a[2] & 7, a[3]
    full = k.resolve(dirfd, k.cstring(path_ptr))
    if isinstance(full, int):
        return full
    owner, tail = procfs.lookup(k, full)
    made = _proc_stat(owner, tail, True) if tail is not None else None
    if made is not None:       # the guest's own /proc file: from its mode (ids as the owner's)
        if isinstance(made, int):
            return made
        allowed = (made[0] >> 6) & 7
        return 0 if mode & ~allowed == 0 else -errno.EACCES

    def call():
        try:
            os.stat(full, follow_symlinks=not flags & AT_SYMLINK_NOFOLLOW)
        except OSError as exc:
            return errno_of(exc), ()
        return (0 if os.access(full, mode) else -errno.EACCES), ()
    return k.host_syscall(N["faccessat2"], call)


def sys_faccessat(k: LinuxKernel, a: Args) -> int:
    return sys_faccessat2(k, (a[0], a[1], a[2], 0, 0, 0))


def sys_access(k: LinuxKernel, a: Args) -> int:
    return sys_faccessat2(k, (AT_FDCWD, a[0], a[1], 0, 0, 0))


def sys_readlinkat(k: LinuxKernel, a: Args) -> int:
    dirfd, path_ptr, buf, size = a[0], a[1], a[2], s32(a[3])
    if size <= 0:
        return -errno.EINVAL
    full = k.resolve(dirfd, k.cstring(path_ptr))
    if isinstance(full, int):
        return full
    owner, tail = procfs.lookup(k, full)
    n = procfs.fd_number(tail, "fd") if tail is not None else None
    f = owner.fds.get(n) if n is not None else None
    if f is not None and f.std_stream is not None:
        std = f.std_stream         # the inherited stdin/stdout/stderr: the host's (ttdbg's own are them)

        def host_link():
            try:
                target = os.fsencode(os.readlink(f"/proc/self/fd/{std}"))[:size]
            except OSError as exc:
                return errno_of(exc), ()
            return len(target), ((buf, target),)
        return k.host_syscall(N["readlinkat"], host_link)
    if tail == "exe":
        exe = owner.exe        # Linux's link names the file, its symbolic links resolved (read on the host)

        def real_exe():
            target = os.fsencode(os.path.realpath(exe))[:size]
            return len(target), ((buf, target),)
        return k.host_syscall(N["readlinkat"], real_exe)
    if tail is not None:
        link = _proc_link(owner, full, tail)
        if isinstance(link, int):
            return link
        target = link[:size]
        k.write(buf, target)
        return len(target)

    def call():
        try:
            target = os.fsencode(os.readlink(full))[:size]
        except OSError as exc:
            return errno_of(exc), ()
        return len(target), ((buf, target),)
    return k.host_syscall(N["readlinkat"], call)


def _proc_link(k: LinuxKernel, full: str, tail: str) -> bytes | int:
    """readlink in the guest's own /proc directory: exe is the program, the
    self links name the guest's pid; other files are not links (EINVAL)."""
    if tail == "exe":
        return k.exe.encode("utf-8", "surrogateescape")
    n = procfs.fd_number(tail, "fd")
    if n is not None:
        link = procfs.fd_link(k, n)
        return -errno.ENOENT if link is None else link
    if tail == "":
        links = {"/proc/self": f"{k.pid}", "/proc/thread-self": f"{k.pid}/task/{k.pid}"}
        return links[full].encode() if full in links else -errno.EINVAL
    return -errno.EINVAL if not isinstance(_proc_stat(k, tail, True), int) else -errno.ENOENT


def _proc_stat(k: LinuxKernel, tail: str, follow: bool) -> tuple[int, int, int] | int | None:
    """(mode, size, ino) of a file in the guest's own /proc directory, -ENOENT
    for one that is not emulated."""
    if tail == "":
        return _stat.S_IFDIR | 0o555, 0, 1
    if tail in ("fd", "fdinfo"):
        return _stat.S_IFDIR | 0o500, 0, 0x100 + (tail == "fdinfo")
    if tail in procfs.HOST_FILES:
        return _stat.S_IFREG | 0o444, 0, 0x102 + sorted(procfs.HOST_FILES).index(tail)
    for folder, mode in (("fd", _stat.S_IFLNK | 0o700), ("fdinfo", _stat.S_IFREG | 0o444)):
        n = procfs.fd_number(tail, folder)
        if n is not None:
            return -errno.ENOENT if k.fds.get(n) is None else (mode, 64 if folder == "fd" else 0, 0x1000 + n)
    entry = procfs.FILES.get(tail)
    if entry is None:
        return -errno.ENOENT
    if tail == "exe" and not follow:
        return _stat.S_IFLNK | 0o777, 0, 2
    return entry.mode, len(entry.build(k)) if entry.sized else 0, 2 + list(procfs.FILES).index(tail)


def _synthetic_size(k: LinuxKernel, f: OpenFile) -> tuple[int, int]:
    """(mode, size) that fstat shows for a file the kernel made (a /proc file)."""
    if f.listing is not None:
        return _stat.S_IFDIR | 0o500, 0
    _owner, tail = procfs.lookup(k, f.path)
    entry = procfs.FILES.get(tail) if tail else None
    if entry is None:
        return _stat.S_IFREG | 0o444, 0
    return entry.mode, len(f.content or b"") if entry.sized else 0


def sys_readlink(k: LinuxKernel, a: Args) -> int:
    return sys_readlinkat(k, (AT_FDCWD, a[0], a[1], a[2], 0, 0))


sys_fchmodat = host_path_effect("fchmodat", 1, lambda p, a: os.chmod(p[0], a[2] & 0o7777))


def sys_chmod(k: LinuxKernel, a: Args) -> int:
    return sys_fchmodat(k, (AT_FDCWD, a[0], a[1], 0, 0, 0))


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


def sys_statfs(k: LinuxKernel, a: Args) -> int:
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


def sys_fstatfs(k: LinuxKernel, a: Args) -> int:
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


def _pipe_statfs(k: LinuxKernel, buf: int) -> int:
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
    def handler(k: LinuxKernel, a: Args) -> int:
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
    def handler(k: LinuxKernel, a: Args) -> int:
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


def sys_fgetxattr(k: LinuxKernel, a: Args) -> int:
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


sys_getxattr = _getxattr("getxattr", True)
sys_lgetxattr = _getxattr("lgetxattr", False)
sys_listxattr = _listxattr("listxattr", True)
sys_llistxattr = _listxattr("llistxattr", False)


# -- changes of metadata: done on the host while recording, the result logged -------------

UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2
_AT_FLAGS = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH


def _on_fd(k: LinuxKernel, name: str, fd: int, action, no_host: int) -> int:
    """`action(hfd)` on the host file behind guest `fd` (0, or an OSError);
    `no_host` answers for a file with none (an in-guest pipe, a kernel object)."""
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if f.pipe is not None or f.anon is not None or f.synthetic:
        return no_host
    return k.host_fd_syscall(N[name], f, lambda hfd: host_status(action, hfd))


def _on_path(k: LinuxKernel, name: str, full: str, action) -> int:
    return k.host_syscall(N[name], lambda: host_status(action, full))


def _path_or_fd(k: LinuxKernel, name: str, dirfd: int, path_ptr: int, flags: int,
                on_path, on_fd, no_host: int = 0) -> int:
    """The *at convention: a path relative to dirfd, or (empty with
    AT_EMPTY_PATH, or NULL where the call allows it) the file of dirfd itself."""
    if flags & ~_AT_FLAGS:
        return -errno.EINVAL
    if path_ptr == 0 and s32(dirfd) != AT_FDCWD:
        path = None
    else:
        path = k.cstring(path_ptr)      # NULL with AT_FDCWD: unmapped, EFAULT
        if not path and flags & AT_EMPTY_PATH:
            path = None
    if path is None:
        return _on_fd(k, name, s32(dirfd), on_fd, no_host)
    full = k.resolve(dirfd, path)
    if isinstance(full, int):
        return full
    return _on_path(k, name, full, on_path)


def _timespecs(k: LinuxKernel, ptr: int, micro: bool) -> ctypes.Array | int:
    """Two guest timespecs (timevals if `micro`) as a host struct timespec[2]; NULL: now."""
    times = (ctypes.c_long * 4)()
    if ptr == 0:
        times[1] = times[3] = UTIME_NOW
        return times
    if not k.can_read(ptr, 32):
        return -errno.EFAULT
    values = struct.unpack("<qqqq", k.read(ptr, 32))
    for i in (1, 3):
        frac = values[i]
        if micro:
            if not 0 <= frac < 1_000_000:
                return -errno.EINVAL
            frac *= 1000
        elif frac not in (UTIME_NOW, UTIME_OMIT) and not 0 <= frac < 1_000_000_000:
            return -errno.EINVAL
        times[i - 1], times[i] = values[i - 1], frac
    return times


def _utimens(k: LinuxKernel, name: str, dirfd: int, path_ptr: int, times, flags: int) -> int:
    if isinstance(times, int):
        return times
    if path_ptr == 0 and s32(dirfd) != AT_FDCWD and flags & AT_SYMLINK_NOFOLLOW:
        return -errno.EINVAL
    nofollow = flags & AT_SYMLINK_NOFOLLOW
    return _path_or_fd(
        k, name, dirfd, path_ptr, flags,
        lambda full: host_libc("utimensat", AT_FDCWD, os.fsencode(full), times, nofollow),
        lambda hfd: host_libc("futimens", hfd, times))


def sys_utimensat(k: LinuxKernel, a: Args) -> int:
    return _utimens(k, "utimensat", a[0], a[1], _timespecs(k, a[2], False), a[3] & 0xFFFFFFFF)


def sys_futimesat(k: LinuxKernel, a: Args) -> int:
    return _utimens(k, "futimesat", a[0], a[1], _timespecs(k, a[2], True), 0)


def sys_utimes(k: LinuxKernel, a: Args) -> int:
    return _utimens(k, "utimes", AT_FDCWD, a[0], _timespecs(k, a[1], True), 0)


def sys_utime(k: LinuxKernel, a: Args) -> int:
    times: ctypes.Array | int = _timespecs(k, 0, False)
    if a[1]:
        if not k.can_read(a[1], 16):
            return -errno.EFAULT
        atime, mtime = struct.unpack("<qq", k.read(a[1], 16))
        times = (ctypes.c_long * 4)(atime, 0, mtime, 0)
    return _utimens(k, "utime", AT_FDCWD, a[0], times, 0)


def sys_fchmod(k: LinuxKernel, a: Args) -> int:
    mode = a[1] & 0o7777
    return _on_fd(k, "fchmod", s32(a[0]), lambda hfd: os.fchmod(hfd, mode), 0)


def sys_fchownat(k: LinuxKernel, a: Args) -> int:
    uid, gid, flags = s32(a[2]), s32(a[3]), a[4] & 0xFFFFFFFF
    follow = not flags & AT_SYMLINK_NOFOLLOW
    return _path_or_fd(k, "fchownat", a[0], a[1], flags,
                       lambda full: os.chown(full, uid, gid, follow_symlinks=follow),
                       lambda hfd: os.fchown(hfd, uid, gid))


def sys_fchown(k: LinuxKernel, a: Args) -> int:
    uid, gid = s32(a[1]), s32(a[2])
    return _on_fd(k, "fchown", s32(a[0]), lambda hfd: os.fchown(hfd, uid, gid), 0)


def _chown(name: str, follow: bool):
    def handler(k: LinuxKernel, a: Args) -> int:
        full = k.resolve(AT_FDCWD, k.cstring(a[0]))
        if isinstance(full, int):
            return full
        uid, gid = s32(a[1]), s32(a[2])
        return _on_path(k, name, full, lambda p: os.chown(p, uid, gid, follow_symlinks=follow))
    return handler


sys_chown = _chown("chown", True)
sys_lchown = _chown("lchown", False)

XATTR_CREATE, XATTR_REPLACE = 1, 2


def _xattr_args(k: LinuxKernel, name_ptr: int) -> str | int:
    name = k.cstring(name_ptr)
    if not name or len(name) > 255:
        return -errno.ERANGE
    return name


def _setxattr(name: str, follow: bool | None):
    """setxattr/lsetxattr (a path, following links or not) or fsetxattr (follow None: an fd)."""
    def handler(k: LinuxKernel, a: Args) -> int:
        flags, size = a[4] & 0xFFFFFFFF, a[3]
        if flags & ~(XATTR_CREATE | XATTR_REPLACE):
            return -errno.EINVAL
        attr = _xattr_args(k, a[1])
        if isinstance(attr, int):
            return attr
        if size > XATTR_SIZE_MAX:
            return -errno.E2BIG
        if size and not k.can_read(a[2], size):
            return -errno.EFAULT
        value = k.read(a[2], size) if size else b""
        if follow is None:
            return _on_fd(k, name, s32(a[0]), lambda hfd: os.setxattr(hfd, attr, value, flags), -errno.EOPNOTSUPP)
        full = k.resolve(AT_FDCWD, k.cstring(a[0]))
        if isinstance(full, int):
            return full
        return _on_path(k, name, full, lambda p: os.setxattr(p, attr, value, flags, follow_symlinks=follow))
    return handler


def _removexattr(name: str, follow: bool | None):
    def handler(k: LinuxKernel, a: Args) -> int:
        attr = _xattr_args(k, a[1])
        if isinstance(attr, int):
            return attr
        if follow is None:
            return _on_fd(k, name, s32(a[0]), lambda hfd: os.removexattr(hfd, attr), -errno.EOPNOTSUPP)
        full = k.resolve(AT_FDCWD, k.cstring(a[0]))
        if isinstance(full, int):
            return full
        return _on_path(k, name, full, lambda p: os.removexattr(p, attr, follow_symlinks=follow))
    return handler


def sys_flistxattr(k: LinuxKernel, a: Args) -> int:
    f = k.fds.get(s32(a[0]))
    if f is None:
        return -errno.EBADF
    out, size = a[1], min(a[2], XATTR_SIZE_MAX)
    if size and not k.can_write(out, size):
        return -errno.EFAULT
    if f.pipe is not None or f.anon is not None or f.synthetic:
        return 0
    return k.host_fd_syscall(N["flistxattr"], f, lambda hfd: _xattr_result(
        lambda: b"".join(n.encode("utf-8", "surrogateescape") + b"\0" for n in os.listxattr(hfd)), size, out))


sys_setxattr = _setxattr("setxattr", True)
sys_lsetxattr = _setxattr("lsetxattr", False)
sys_fsetxattr = _setxattr("fsetxattr", None)
sys_removexattr = _removexattr("removexattr", True)
sys_lremovexattr = _removexattr("lremovexattr", False)
sys_fremovexattr = _removexattr("fremovexattr", None)


def sys_fchmodat2(k: LinuxKernel, a: Args) -> int:
    mode, flags = a[2] & 0o7777, a[3] & 0xFFFFFFFF
    follow = not flags & AT_SYMLINK_NOFOLLOW
    return _path_or_fd(k, "fchmodat2", a[0], a[1], flags,
                       lambda full: os.chmod(full, mode, follow_symlinks=follow),
                       lambda hfd: os.fchmod(hfd, mode))
