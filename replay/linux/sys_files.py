"""File system calls: open/read/write/stat/dirs/pipes/ioctl and friends.

Reads of captured files and of in-guest pipes are deterministic and need no
events.  Everything that reaches the host (terminals, pipes from outside,
files opened for writing, directory listings, stat results, side effects
such as unlink) goes through HostIO, which logs it while recording and
answers it from the log while replaying.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat as _stat
import struct
from typing import TYPE_CHECKING

from ..events import FileKind
from . import signals as sig
from .files import (
    O_ACCMODE,
    O_APPEND,
    O_CLOEXEC,
    O_CREAT,
    O_NONBLOCK,
    O_RDONLY,
    O_TRUNC,
    O_WRONLY,
    OpenFile,
    Pipe,
)
from .kernel import AT_FDCWD, Args, Handler, s32, s64
from .procfs import SYNTHETIC
from .structs import dirent64, dtype_of, pack_stat, pack_statx, synthetic_stat
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_EMPTY_PATH = 0x1000
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 4, 1030
F_GETLK, F_SETLK, F_SETLKW = 5, 6, 7
FD_CLOEXEC = 1
MAX_RW = 0x7FFFF000

# ioctl requests answered by the host, with the size of the structure they fill.
IOCTL_READ = {0x5401: 36, 0x5413: 8, 0x540F: 4, 0x541B: 4}     # TCGETS TIOCGWINSZ TIOCGPGRP FIONREAD
IOCTL_WRITE = {0x5402: 36, 0x5403: 36, 0x5404: 36, 0x5414: 8}  # TCSETS* TIOCSWINSZ
FIONBIO = 0x5421
FIOCLEX, FIONCLEX = 0x5451, 0x5450
HOST_KINDS = (FileKind.CHAR, FileKind.HOST)


def _errno_of(exc: OSError) -> int:
    return -(exc.errno or errno.EIO)


# -- open / close -------------------------------------------------------------
def _proc_self(k: "LinuxKernel", path: str, flags: int) -> int | None:
    """Open /proc/self/* from guest state (maps), or refuse; None: not /proc/self."""
    if not (path.startswith("/proc/self/") or path.startswith(f"/proc/{k.pid}/")):
        return None
    tail = path.split("/", 3)[3]
    if tail == "exe":
        return None
    make = SYNTHETIC.get(tail)
    if make is None:
        k.warn_once(f"proc{tail}", f"/proc/self/{tail} is not emulated; opening it fails with ENOENT")
        return -errno.ENOENT
    if flags & O_ACCMODE != O_RDONLY:
        return -errno.EACCES
    fd = k.fds.lowest_free()
    f = OpenFile(k.fds.new_handle(), FileKind.CAPTURED, path, flags & ~O_CLOEXEC,
                 content=make(k.mem), synthetic=True)
    k.fds.install(fd, f, cloexec=bool(flags & O_CLOEXEC))
    return fd


def sys_openat(k: "LinuxKernel", a: Args) -> int:
    dirfd, path_ptr, flags, mode = a[0], a[1], a[2] & 0xFFFFFFFF, a[3] & 0o7777
    path = k.resolve(dirfd, k.cstring(path_ptr))
    if isinstance(path, int):
        return path
    special = _proc_self(k, path, flags)
    if special is not None:
        return special
    fd = k.fds.lowest_free()
    f = OpenFile(k.fds.new_handle(), FileKind.NONE, path, flags & ~O_CLOEXEC)
    outcome = k.host.open(k.icount, path, flags, mode & ~k.state.umask, fd, f)
    if outcome.result < 0:
        return outcome.result
    f.kind = outcome.kind
    f.content = outcome.content
    k.fds.install(fd, f, cloexec=bool(flags & O_CLOEXEC))
    return fd


def sys_open(k: "LinuxKernel", a: Args) -> int:
    return sys_openat(k, (AT_FDCWD, a[0], a[1], a[2], 0, 0))


def sys_creat(k: "LinuxKernel", a: Args) -> int:
    return sys_openat(k, (AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0, 0))


def release(k: "LinuxKernel", f: OpenFile) -> None:
    """The last fd of `f` was closed."""
    if f.pipe is not None:
        if f.pipe_end == "r":
            f.pipe.readers -= 1
        else:
            f.pipe.writers -= 1
    elif f.std_stream is None and f.kind != FileKind.NONE:
        k.host.close(f)


def sys_close(k: "LinuxKernel", a: Args) -> int:
    fd = s32(a[0])
    if k.fds.get(fd) is None:
        return -errno.EBADF
    dropped = k.fds.remove(fd)
    if dropped is not None:
        release(k, dropped)
    return 0


def sys_close_range(k: "LinuxKernel", a: Args) -> int:
    first, last = a[0] & 0xFFFFFFFF, a[1] & 0xFFFFFFFF
    for fd, _f in k.fds.items():
        if first <= fd <= last:
            sys_close(k, (fd, 0, 0, 0, 0, 0))
    return 0


# -- read / write ---------------------------------------------------------------
def _read_file(k: "LinuxKernel", fd: int, f: OpenFile, count: int, offset: int | None) -> tuple[int, bytes]:
    if not f.readable or f.kind == FileKind.NONE:
        return -errno.EBADF, b""
    if f.is_directory:
        return -errno.EISDIR, b""
    if f.kind == FileKind.CAPTURED and f.content is not None:
        pos = f.pos if offset is None else offset
        data = f.content[pos:pos + count]
        if offset is None:
            f.pos += len(data)
        return len(data), data
    if f.pipe is not None:
        if offset is not None:
            return -errno.ESPIPE, b""
        if not f.pipe.buffer:
            if f.pipe.writers == 0:
                return 0, b""
            k.warn_once("pipeblock", "read from an empty pipe would block forever (single-threaded guest)")
            return -errno.EAGAIN, b""
        data = bytes(f.pipe.buffer[:count])
        del f.pipe.buffer[:count]
        return len(data), data
    return k.host.read(k.icount, fd, f, count, offset)


def _write_file(k: "LinuxKernel", fd: int, f: OpenFile, data: bytes, offset: int | None) -> int:
    if not f.writable or f.kind in (FileKind.NONE, FileKind.CAPTURED, FileKind.DIRECTORY):
        return -errno.EBADF
    if f.pipe is not None:
        if offset is not None:
            return -errno.ESPIPE
        if f.pipe.readers == 0:
            return _broken_pipe(k)
        f.pipe.buffer += data
        return len(data)
    result = k.host.write(k.icount, fd, f, data, offset)
    if result == -errno.EPIPE:
        return _broken_pipe(k)
    return result


def _broken_pipe(k: "LinuxKernel") -> int:
    k.deliver_self_signal(sig.SIGPIPE)   # ends the program unless SIGPIPE is ignored
    return -errno.EPIPE


def sys_read(k: "LinuxKernel", a: Args) -> int:
    fd, buf, count = s32(a[0]), a[1], min(a[2], MAX_RW)
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if not k.can_write(buf, count):
        return -errno.EFAULT
    result, data = _read_file(k, fd, f, count, None)
    if result > 0:
        k.write(buf, data[:result])
    return result


def sys_pread64(k: "LinuxKernel", a: Args) -> int:
    fd, buf, count, offset = s32(a[0]), a[1], min(a[2], MAX_RW), s64(a[3])
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if offset < 0:
        return -errno.EINVAL
    if not k.can_write(buf, count):
        return -errno.EFAULT
    result, data = _read_file(k, fd, f, count, offset)
    if result > 0:
        k.write(buf, data[:result])
    return result


def sys_write(k: "LinuxKernel", a: Args) -> int:
    fd, buf, count = s32(a[0]), a[1], min(a[2], MAX_RW)
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if not k.can_read(buf, count):
        return -errno.EFAULT
    return _write_file(k, fd, f, k.read(buf, count), None)


def sys_pwrite64(k: "LinuxKernel", a: Args) -> int:
    fd, buf, count, offset = s32(a[0]), a[1], min(a[2], MAX_RW), s64(a[3])
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if not k.can_read(buf, count):
        return -errno.EFAULT
    return _write_file(k, fd, f, k.read(buf, count), offset)


def _iovecs(k: "LinuxKernel", iov: int, iovcnt: int) -> list[tuple[int, int]] | int:
    if iovcnt > 1024:
        return -errno.EINVAL
    if not k.can_read(iov, 16 * iovcnt):
        return -errno.EFAULT
    raw = k.read(iov, 16 * iovcnt)
    return [struct.unpack_from("<QQ", raw, 16 * i) for i in range(iovcnt)]


def sys_writev(k: "LinuxKernel", a: Args) -> int:
    fd, iov, iovcnt = s32(a[0]), a[1], a[2]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    vecs = _iovecs(k, iov, iovcnt)
    if isinstance(vecs, int):
        return vecs
    parts = []
    for base, length in vecs:
        if not k.can_read(base, length):
            return -errno.EFAULT
        parts.append(k.read(base, length))
    return _write_file(k, fd, f, b"".join(parts), None)


def sys_readv(k: "LinuxKernel", a: Args) -> int:
    fd, iov, iovcnt = s32(a[0]), a[1], a[2]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    vecs = _iovecs(k, iov, iovcnt)
    if isinstance(vecs, int):
        return vecs
    for base, length in vecs:
        if not k.can_write(base, length):
            return -errno.EFAULT
    total = sum(length for _, length in vecs)
    result, data = _read_file(k, fd, f, total, None)
    if result <= 0:
        return result
    pos = 0
    for base, length in vecs:
        chunk = data[pos:pos + length]
        if not chunk:
            break
        k.write(base, chunk)
        pos += len(chunk)
    return result


def sys_lseek(k: "LinuxKernel", a: Args) -> int:
    fd, offset, whence = s32(a[0]), s64(a[1]), a[2]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if f.pipe is not None:
        return -errno.ESPIPE
    if f.kind == FileKind.CAPTURED and f.content is not None:
        base = {0: 0, 1: f.pos, 2: len(f.content)}.get(whence)
        if base is None or base + offset < 0:
            return -errno.EINVAL
        f.pos = base + offset
        return f.pos
    if f.is_directory:
        if whence != 0 or offset < 0:
            return -errno.EINVAL
        f.pos = offset
        return offset

    def call(hfd: int):
        try:
            return os.lseek(hfd, offset, whence), ()
        except OSError as exc:
            return _errno_of(exc), ()
    return k.host_fd_syscall(N["lseek"], f, call)


# -- metadata -------------------------------------------------------------------
def _fstat_file(k: "LinuxKernel", f: OpenFile, sysno: int, pack) -> int:
    if f.pipe is not None:
        return -1   # caller packs a synthetic FIFO stat

    def call(hfd: int):
        try:
            return 0, pack(os.fstat(hfd))
        except OSError as exc:
            return _errno_of(exc), ()
    return k.host_fd_syscall(sysno, f, call)


def sys_fstat(k: "LinuxKernel", a: Args) -> int:
    fd, buf = s32(a[0]), a[1]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if not k.can_write(buf, 144):
        return -errno.EFAULT
    if f.pipe is not None:
        k.write(buf, synthetic_stat(0, _stat.S_IFIFO | 0o600, ino=f.handle))
        return 0
    if f.synthetic:
        k.write(buf, synthetic_stat(0, _stat.S_IFREG | 0o444, ino=f.handle))   # /proc: size 0
        return 0
    return _fstat_file(k, f, N["fstat"], lambda st: ((buf, pack_stat(st)),))


def sys_newfstatat(k: "LinuxKernel", a: Args) -> int:
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

    def call():
        try:
            return 0, ((buf, pack_stat(os.stat(full, follow_symlinks=follow))),)
        except OSError as exc:
            return _errno_of(exc), ()
    return k.host_syscall(N["newfstatat"], call)


def sys_stat(k: "LinuxKernel", a: Args) -> int:
    return sys_newfstatat(k, (AT_FDCWD, a[0], a[1], 0, 0, 0))


def sys_lstat(k: "LinuxKernel", a: Args) -> int:
    return sys_newfstatat(k, (AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW, 0, 0))


def sys_statx(k: "LinuxKernel", a: Args) -> int:
    dirfd, path_ptr, flags, mask, buf = a[0], a[1], a[2], a[3], a[4]
    if not k.can_write(buf, 256):
        return -errno.EFAULT
    path = k.cstring(path_ptr)
    if not path and flags & AT_EMPTY_PATH:
        f = k.fds.get(s32(dirfd))
        if f is None:
            return -errno.EBADF
        if f.pipe is not None or f.synthetic:
            mode = _stat.S_IFIFO | 0o600 if f.pipe is not None else _stat.S_IFREG | 0o444
            st = os.stat_result((mode, f.handle, 0, 1, 0, 0, 0, 0, 0, 0))
            k.write(buf, pack_statx(st, mask))
            return 0
        return _fstat_file(k, f, N["statx"], lambda st: ((buf, pack_statx(st, mask)),))
    full = k.resolve(dirfd, path)
    if isinstance(full, int):
        return full
    follow = not flags & AT_SYMLINK_NOFOLLOW

    def call():
        try:
            return 0, ((buf, pack_statx(os.stat(full, follow_symlinks=follow), mask)),)
        except OSError as exc:
            return _errno_of(exc), ()
    return k.host_syscall(N["statx"], call)


def sys_faccessat2(k: "LinuxKernel", a: Args) -> int:
    dirfd, path_ptr, mode, flags = a[0], a[1], a[2] & 7, a[3]
    full = k.resolve(dirfd, k.cstring(path_ptr))
    if isinstance(full, int):
        return full

    def call():
        try:
            os.stat(full, follow_symlinks=not flags & AT_SYMLINK_NOFOLLOW)
        except OSError as exc:
            return _errno_of(exc), ()
        return (0 if os.access(full, mode) else -errno.EACCES), ()
    return k.host_syscall(N["faccessat2"], call)


def sys_faccessat(k: "LinuxKernel", a: Args) -> int:
    return sys_faccessat2(k, (a[0], a[1], a[2], 0, 0, 0))


def sys_access(k: "LinuxKernel", a: Args) -> int:
    return sys_faccessat2(k, (AT_FDCWD, a[0], a[1], 0, 0, 0))


def sys_readlinkat(k: "LinuxKernel", a: Args) -> int:
    dirfd, path_ptr, buf, size = a[0], a[1], a[2], s32(a[3])
    if size <= 0:
        return -errno.EINVAL
    full = k.resolve(dirfd, k.cstring(path_ptr))
    if isinstance(full, int):
        return full
    if full in ("/proc/self/exe", f"/proc/{k.pid}/exe"):
        target = k.exe.encode()[:size]
        k.write(buf, target)
        return len(target)

    def call():
        try:
            target = os.fsencode(os.readlink(full))[:size]
        except OSError as exc:
            return _errno_of(exc), ()
        return len(target), ((buf, target),)
    return k.host_syscall(N["readlinkat"], call)


def sys_readlink(k: "LinuxKernel", a: Args) -> int:
    return sys_readlinkat(k, (AT_FDCWD, a[0], a[1], a[2], 0, 0))


def sys_getdents64(k: "LinuxKernel", a: Args) -> int:
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
            return _errno_of(exc), ()
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


def sys_getcwd(k: "LinuxKernel", a: Args) -> int:
    buf, size = a[0], a[1]
    cwd = k.state.cwd.encode() + b"\0"
    if size < len(cwd):
        return -errno.ERANGE
    k.write(buf, cwd)
    return len(cwd)


def sys_chdir(k: "LinuxKernel", a: Args) -> int:
    full = k.resolve(AT_FDCWD, k.cstring(a[0]))
    if isinstance(full, int):
        return full

    def call():
        try:
            st = os.stat(full)
        except OSError as exc:
            return _errno_of(exc), ()
        return (0 if _stat.S_ISDIR(st.st_mode) else -errno.ENOTDIR), ()
    result = k.host_syscall(N["chdir"], call)
    if result == 0:
        k.state.cwd = full
    return result


def sys_fchdir(k: "LinuxKernel", a: Args) -> int:
    f = k.fds.get(s32(a[0]))
    if f is None:
        return -errno.EBADF
    if not f.is_directory:
        return -errno.ENOTDIR
    k.state.cwd = f.path
    return 0


# -- host side effects ------------------------------------------------------------
def _path_effect(name: str, nargs_path: int, action):
    """A syscall whose only effect is on the host file system (done when recording)."""
    def handler(k: "LinuxKernel", a: Args) -> int:
        paths = []
        for i in range(nargs_path):
            dirfd, ptr = a[2 * i], a[2 * i + 1]
            full = k.resolve(dirfd, k.cstring(ptr))
            if isinstance(full, int):
                return full
            paths.append(full)

        def call():
            try:
                action(paths, a)
            except OSError as exc:
                return _errno_of(exc), ()
            return 0, ()
        return k.host_syscall(N[name], call)
    return handler


def _at(handler):
    """Adapt a non-*at syscall (path first) to the *at handler's argument layout."""
    def wrapper(k: "LinuxKernel", a: Args) -> int:
        cwd = AT_FDCWD
        return handler(k, (cwd, a[0], cwd, a[1], a[2], a[3]))
    return wrapper


def _unlinkat(paths, a):
    if a[2] & AT_REMOVEDIR:
        os.rmdir(paths[0])
    else:
        os.unlink(paths[0])


sys_unlinkat = _path_effect("unlinkat", 1, _unlinkat)
sys_mkdirat = _path_effect("mkdirat", 1, lambda p, a: os.mkdir(p[0], a[2] & 0o7777))
sys_renameat = _path_effect("renameat", 2, lambda p, a: os.rename(p[0], p[1]))
sys_fchmodat = _path_effect("fchmodat", 1, lambda p, a: os.chmod(p[0], a[2] & 0o7777))


def sys_unlink(k: "LinuxKernel", a: Args) -> int:
    return sys_unlinkat(k, (AT_FDCWD, a[0], 0, 0, 0, 0))


def sys_rmdir(k: "LinuxKernel", a: Args) -> int:
    return sys_unlinkat(k, (AT_FDCWD, a[0], AT_REMOVEDIR, 0, 0, 0))


def sys_mkdir(k: "LinuxKernel", a: Args) -> int:
    return sys_mkdirat(k, (AT_FDCWD, a[0], a[1], 0, 0, 0))


def sys_chmod(k: "LinuxKernel", a: Args) -> int:
    return sys_fchmodat(k, (AT_FDCWD, a[0], a[1], 0, 0, 0))


def sys_ftruncate(k: "LinuxKernel", a: Args) -> int:
    f = k.fds.get(s32(a[0]))
    if f is None:
        return -errno.EBADF
    if f.kind != FileKind.HOST or not f.writable:
        return -errno.EINVAL
    length = s64(a[1])

    def call(hfd: int):
        try:
            os.ftruncate(hfd, length)
        except OSError as exc:
            return _errno_of(exc), ()
        return 0, ()
    return k.host_fd_syscall(N["ftruncate"], f, call)


def sys_fsync(k: "LinuxKernel", a: Args) -> int:
    return 0 if k.fds.get(s32(a[0])) is not None else -errno.EBADF


# -- descriptors ----------------------------------------------------------------------
def _dup_to(k: "LinuxKernel", old: int, new: int, cloexec: bool) -> int:
    f = k.fds.get(old)
    if f is None:
        return -errno.EBADF
    if new < 0 or new >= 1 << 20:
        return -errno.EBADF
    dropped = k.fds.install(new, f, cloexec)
    if dropped is not None and dropped is not f:
        release(k, dropped)
    return new


def sys_dup(k: "LinuxKernel", a: Args) -> int:
    old = s32(a[0])
    if k.fds.get(old) is None:
        return -errno.EBADF
    return _dup_to(k, old, k.fds.lowest_free(), False)


def sys_dup2(k: "LinuxKernel", a: Args) -> int:
    old, new = s32(a[0]), s32(a[1])
    if k.fds.get(old) is None:
        return -errno.EBADF
    if old == new:
        return new
    return _dup_to(k, old, new, False)


def sys_dup3(k: "LinuxKernel", a: Args) -> int:
    old, new, flags = s32(a[0]), s32(a[1]), a[2]
    if old == new or flags & ~O_CLOEXEC:
        return -errno.EINVAL
    return _dup_to(k, old, new, bool(flags & O_CLOEXEC))


def sys_fcntl(k: "LinuxKernel", a: Args) -> int:
    fd, cmd, arg = s32(a[0]), a[1], a[2]
    entry = k.fds.entry(fd)
    if entry is None:
        return -errno.EBADF
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        return _dup_to(k, fd, k.fds.lowest_free(arg), cmd == F_DUPFD_CLOEXEC)
    if cmd == F_GETFD:
        return FD_CLOEXEC if entry.cloexec else 0
    if cmd == F_SETFD:
        entry.cloexec = bool(arg & FD_CLOEXEC)
        return 0
    if cmd == F_GETFL:
        return entry.file.flags
    if cmd == F_SETFL:
        entry.file.flags = (entry.file.flags & O_ACCMODE) | (arg & (O_APPEND | O_NONBLOCK))
        return 0
    if cmd in (F_GETLK, F_SETLK, F_SETLKW):
        return 0   # one process: every lock is granted
    k.warn_once(f"fcntl{cmd}", f"fcntl command {cmd} is not supported")
    return -errno.EINVAL


def sys_pipe2(k: "LinuxKernel", a: Args) -> int:
    fds_ptr, flags = a[0], a[1]
    if not k.can_write(fds_ptr, 8):
        return -errno.EFAULT
    pipe = Pipe(readers=1, writers=1)
    r = OpenFile(k.fds.new_handle(), FileKind.CHAR, "pipe:", O_RDONLY, pipe=pipe, pipe_end="r")
    w = OpenFile(k.fds.new_handle(), FileKind.CHAR, "pipe:", O_WRONLY, pipe=pipe, pipe_end="w")
    cloexec = bool(flags & O_CLOEXEC)
    rfd = k.fds.lowest_free()
    k.fds.install(rfd, r, cloexec)
    wfd = k.fds.lowest_free()
    k.fds.install(wfd, w, cloexec)
    k.write(fds_ptr, struct.pack("<ii", rfd, wfd))
    return 0


def sys_pipe(k: "LinuxKernel", a: Args) -> int:
    return sys_pipe2(k, (a[0], 0, 0, 0, 0, 0))


def sys_ioctl(k: "LinuxKernel", a: Args) -> int:
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
        return 0
    if f.pipe is not None:
        if request == 0x541B:
            k.write(arg, struct.pack("<i", len(f.pipe.buffer)))
            return 0
        return -errno.ENOTTY
    if f.kind not in HOST_KINDS:
        return -errno.ENOTTY
    if request in IOCTL_READ:
        size = IOCTL_READ[request]
        if not k.can_write(arg, size):
            return -errno.EFAULT

        def call(hfd: int):
            try:
                out = fcntl.ioctl(hfd, request, bytes(size))
            except OSError as exc:
                return _errno_of(exc), ()
            return 0, ((arg, bytes(out)),)
        return k.host_fd_syscall(N["ioctl"], f, call)
    if request in IOCTL_WRITE:
        data = k.read(arg, IOCTL_WRITE[request])

        def call_w(hfd: int):
            try:
                fcntl.ioctl(hfd, request, data)
            except OSError as exc:
                return _errno_of(exc), ()
            return 0, ()
        return k.host_fd_syscall(N["ioctl"], f, call_w)
    k.warn_once(f"ioctl{request:x}", f"ioctl request {request:#x} is not supported; returning -ENOTTY")
    return -errno.ENOTTY


def sys_fadvise(k: "LinuxKernel", a: Args) -> int:
    return 0 if k.fds.get(s32(a[0])) is not None else -errno.EBADF


HANDLERS: dict[int, Handler] = {
    N["read"]: sys_read, N["write"]: sys_write, N["open"]: sys_open, N["close"]: sys_close,
    N["stat"]: sys_stat, N["fstat"]: sys_fstat, N["lstat"]: sys_lstat, N["lseek"]: sys_lseek,
    N["ioctl"]: sys_ioctl, N["pread64"]: sys_pread64, N["pwrite64"]: sys_pwrite64,
    N["readv"]: sys_readv, N["writev"]: sys_writev, N["access"]: sys_access,
    N["pipe"]: sys_pipe, N["pipe2"]: sys_pipe2, N["dup"]: sys_dup, N["dup2"]: sys_dup2,
    N["dup3"]: sys_dup3, N["fcntl"]: sys_fcntl, N["fsync"]: sys_fsync, N["fdatasync"]: sys_fsync,
    N["ftruncate"]: sys_ftruncate, N["getcwd"]: sys_getcwd, N["chdir"]: sys_chdir,
    N["fchdir"]: sys_fchdir, N["readlink"]: sys_readlink, N["readlinkat"]: sys_readlinkat,
    N["creat"]: sys_creat, N["openat"]: sys_openat, N["newfstatat"]: sys_newfstatat,
    N["statx"]: sys_statx, N["faccessat"]: sys_faccessat, N["faccessat2"]: sys_faccessat2,
    N["getdents64"]: sys_getdents64, N["unlink"]: sys_unlink, N["unlinkat"]: sys_unlinkat,
    N["rmdir"]: sys_rmdir, N["mkdir"]: sys_mkdir, N["mkdirat"]: sys_mkdirat,
    N["rename"]: _at(sys_renameat), N["renameat"]: sys_renameat, N["chmod"]: sys_chmod,
    N["fchmodat"]: sys_fchmodat, N["fadvise64"]: sys_fadvise, N["flock"]: sys_fadvise,
    N["close_range"]: sys_close_range,
}
