"""Reading and writing through descriptors: read/write and their vector and
positioned forms, lseek, truncate, fsync and the other syncs, fallocate,
sendfile, copy_file_range.

Reads of captured files and of in-guest pipes are deterministic and need no
events; terminals, outside pipes and host files go through HostIO, which
logs them while recording and answers them from the log on replay.
copy_file_range and sendfile are the guest's own read followed by its own
write, so each half is recorded like any other.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..events import FileKind
from . import shared_files
from . import signals as sig
from .abi import AT_FDCWD, Args, errno_of, host_libc, host_status, s32, s64
from .files import O_NONBLOCK, PIPE_CAPACITY, OpenFile, woke
from .sysnames import SYSCALL_NUMBERS as N
from .tasks import Wait, WaitKind

if TYPE_CHECKING:
    from .kernel import LinuxKernel

MAX_RW = 0x7FFFF000


def _read_file(k: LinuxKernel, fd: int, f: OpenFile, count: int, offset: int | None) -> tuple[int, bytes]:
    if not f.readable or f.kind == FileKind.NONE:
        return -errno.EBADF, b""
    if f.is_directory:
        return -errno.EISDIR, b""
    if f.anon is not None:
        woke(f)
        return f.anon.read(k, f, count) if offset is None else (-errno.ESPIPE, b"")
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
            if f.flags & O_NONBLOCK:
                return -errno.EAGAIN, b""
            if k.family is None or k.family.task_count() < 2:
                k.warn_once("pipeblock", "read from an empty pipe would block forever (no other thread "
                            "or process can write it): returning EAGAIN")
                return -errno.EAGAIN, b""
            k.block(Wait(WaitKind.PIPE))
        was_full = len(f.pipe.buffer) >= PIPE_CAPACITY
        data = bytes(f.pipe.buffer[:count])
        del f.pipe.buffer[:count]
        if was_full and len(f.pipe.buffer) < PIPE_CAPACITY:
            f.pipe.room_wakes += 1              # as Linux, writers are woken only when it was full
            if k.family is not None:
                k.family.wake_pipe_waiters()    # a writer waiting for room writes
        return len(data), data
    if (offset is None and f.kind == FileKind.CHAR and not f.flags & O_NONBLOCK and k.family is not None
            and k.family.task_count() > 1 and k.host.would_block(k.icount, f)):
        # No input yet, and other threads can run: this one waits (the read is made again when input comes).
        k.block(Wait(WaitKind.HOST, address=fd))
    if f.kind == FileKind.HOST:
        shared_files.write_back_file(k, f)      # the page cache's view: mapped writes are read
    woke(f)
    return k.host.read(k.icount, fd, f, count, offset)


def _write_file(k: LinuxKernel, fd: int, f: OpenFile, data: bytes, offset: int | None) -> int:
    if not f.writable or f.kind in (FileKind.NONE, FileKind.CAPTURED, FileKind.DIRECTORY):
        return -errno.EBADF
    if f.anon is not None:
        woke(f)
        return f.anon.write(k, f, data) if offset is None else -errno.ESPIPE
    if f.pipe is not None:
        if offset is not None:
            return -errno.ESPIPE
        if f.pipe.readers == 0:
            return _broken_pipe(k)
        if len(f.pipe.buffer) >= PIPE_CAPACITY:
            # Full: wait for a reader to make room (a write that starts with room is taken whole,
            # so the pipe may hold up to one write more than its capacity; never a short write).
            if f.flags & O_NONBLOCK:
                return -errno.EAGAIN
            if k.family is not None and k.family.task_count() > 1:
                k.block(Wait(WaitKind.PIPE))
        f.pipe.buffer += data
        f.pipe.data_wakes += 1
        if k.family is not None:
            k.family.wake_pipe_waiters()
        return len(data)
    woke(f)
    result = k.host.write(k.icount, fd, f, data, offset)
    if result == -errno.EPIPE:
        return _broken_pipe(k)
    return result


def _broken_pipe(k: LinuxKernel) -> int:
    k.deliver_self_signal(sig.SIGPIPE)   # ends the program unless SIGPIPE is ignored
    return -errno.EPIPE


def sys_read(k: LinuxKernel, a: Args) -> int:
    fd, buf, count = s32(a[0]), a[1], min(a[2], MAX_RW)
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    return _read_into(k, fd, f, buf, count, None)


def _read_into(k: LinuxKernel, fd: int, f: OpenFile, buf: int, count: int, offset: int | None) -> int:
    """read/pread64 once the fd (and offset) are checked: into guest memory at `buf`."""
    if not k.can_write(buf, count):
        return -errno.EFAULT
    result, data = _read_file(k, fd, f, count, offset)
    if result > 0:
        k.write(buf, data[:result])
    return result


def sys_pread64(k: LinuxKernel, a: Args) -> int:
    fd, buf, count, offset = s32(a[0]), a[1], min(a[2], MAX_RW), s64(a[3])
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if offset < 0:
        return -errno.EINVAL
    return _read_into(k, fd, f, buf, count, offset)


def sys_write(k: LinuxKernel, a: Args) -> int:
    fd, buf, count = s32(a[0]), a[1], min(a[2], MAX_RW)
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if not k.can_read(buf, count):
        return -errno.EFAULT
    return _write_file(k, fd, f, k.read(buf, count), None)


def sys_pwrite64(k: LinuxKernel, a: Args) -> int:
    fd, buf, count, offset = s32(a[0]), a[1], min(a[2], MAX_RW), s64(a[3])
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if not k.can_read(buf, count):
        return -errno.EFAULT
    return _write_file(k, fd, f, k.read(buf, count), offset)


def iovecs(k: LinuxKernel, iov: int, iovcnt: int, too_many: int = errno.EINVAL) -> list[tuple[int, int]] | int:
    """The (base, length) pairs of a guest iovec array, or -errno (`too_many` past UIO_MAXIOV:
    EINVAL for readv/writev, EMSGSIZE for the socket calls)."""
    if iovcnt > 1024:
        return -too_many
    if not k.can_read(iov, 16 * iovcnt):
        return -errno.EFAULT
    raw = k.read(iov, 16 * iovcnt)
    return [struct.unpack_from("<QQ", raw, 16 * i) for i in range(iovcnt)]


def gather(k: LinuxKernel, vecs: list[tuple[int, int]]) -> bytes | int:
    """The bytes the iovecs point at, in order, or -EFAULT."""
    parts = []
    for base, length in vecs:
        if not k.can_read(base, length):
            return -errno.EFAULT
        parts.append(k.read(base, length))
    return b"".join(parts)


def sys_writev(k: LinuxKernel, a: Args) -> int:
    fd, iov, iovcnt = s32(a[0]), a[1], a[2]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    vecs = iovecs(k, iov, iovcnt)
    if isinstance(vecs, int):
        return vecs
    data = gather(k, vecs)
    if isinstance(data, int):
        return data
    return _write_file(k, fd, f, data, None)


def sys_readv(k: LinuxKernel, a: Args) -> int:
    fd, iov, iovcnt = s32(a[0]), a[1], a[2]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    vecs = iovecs(k, iov, iovcnt)
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


def sys_lseek(k: LinuxKernel, a: Args) -> int:
    fd, offset, whence = s32(a[0]), s64(a[1]), a[2]
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if f.pipe is not None:
        return -errno.ESPIPE
    if f.anon is not None:
        return 0                        # eventfd, timerfd, epoll: noop_llseek, as Linux
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
            return errno_of(exc), ()
    return k.host_fd_syscall(N["lseek"], f, call)


def sys_ftruncate(k: LinuxKernel, a: Args) -> int:
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
            return errno_of(exc), ()
        return 0, ()
    return k.host_fd_syscall(N["ftruncate"], f, call)


def _sync(name: str, sync: Callable[[int], None]):
    def handler(k: LinuxKernel, a: Args) -> int:
        """fsync/fdatasync: done on the host file while recording (the result
        logged); a pipe or a /proc file cannot be synced (EINVAL, as Linux)."""
        f = k.fds.get(s32(a[0]))
        if f is None:
            return -errno.EBADF
        if f.pipe is not None or f.synthetic:
            return -errno.EINVAL

        def call(hfd: int) -> tuple[int, tuple]:
            try:
                sync(hfd)
            except OSError as exc:
                return errno_of(exc), ()
            return 0, ()
        return k.host_fd_syscall(N[name], f, call)
    return handler


sys_fsync = _sync("fsync", os.fsync)
sys_fdatasync = _sync("fdatasync", os.fdatasync)


def sys_fadvise(k: LinuxKernel, a: Args) -> int:
    return 0 if k.fds.get(s32(a[0])) is not None else -errno.EBADF


def _copy(k: LinuxKernel, in_fd: int, out_fd: int, count: int, in_off_ptr: int) -> int:
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


def sys_copy_file_range(k: LinuxKernel, a: Args) -> int:
    if a[3]:
        return -errno.EINVAL   # an output offset: let the caller fall back to read/write
    return _copy(k, s32(a[0]), s32(a[2]), a[4], a[1])


def sys_sendfile(k: LinuxKernel, a: Args) -> int:
    return _copy(k, s32(a[1]), s32(a[0]), a[3], a[2])


def _on_host_fd(k: LinuxKernel, name: str, fd: int, action) -> int:
    """`action(hfd)` on the host file behind `fd` while recording (its result
    logged); ESPIPE for a pipe, ENODEV for a kernel object or /proc file."""
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if f.pipe is not None:
        return -errno.ESPIPE
    if f.anon is not None or f.synthetic:
        return -errno.ENODEV
    return k.host_fd_syscall(N[name], f, lambda hfd: host_status(action, hfd))


def sys_fallocate(k: LinuxKernel, a: Args) -> int:
    mode, offset, length = s32(a[1]), ctypes.c_long(s64(a[2])), ctypes.c_long(s64(a[3]))
    return _on_host_fd(k, "fallocate", s32(a[0]), lambda hfd: host_libc("fallocate", hfd, mode, offset, length))


def sys_sync_file_range(k: LinuxKernel, a: Args) -> int:
    offset, count, flags = ctypes.c_long(s64(a[1])), ctypes.c_long(s64(a[2])), ctypes.c_uint(a[3] & 0xFFFFFFFF)
    return _on_host_fd(k, "sync_file_range", s32(a[0]),
                       lambda hfd: host_libc("sync_file_range", hfd, offset, count, flags))


def sys_syncfs(k: LinuxKernel, a: Args) -> int:
    return _on_host_fd(k, "syncfs", s32(a[0]), lambda hfd: host_libc("syncfs", hfd))


def sys_sync(k: LinuxKernel, a: Args) -> int:
    def call() -> tuple[int, tuple]:
        os.sync()
        return 0, ()
    return k.host_syscall(N["sync"], call)


def sys_truncate(k: LinuxKernel, a: Args) -> int:
    full = k.resolve(AT_FDCWD, k.cstring(a[0]))
    if isinstance(full, int):
        return full
    length = s64(a[1])

    def call() -> tuple[int, tuple]:
        try:
            os.truncate(full, length)
        except OSError as exc:
            return errno_of(exc), ()
        return 0, ()
    return k.host_syscall(N["truncate"], call)
