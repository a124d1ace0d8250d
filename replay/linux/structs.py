"""Binary layouts of the Linux structures the emulated syscalls fill (x86-64's;
struct stat also in the generic layout aarch64 uses)."""

from __future__ import annotations

import os
import stat as _stat
import struct

STAT = struct.Struct("<QQQIIIIQqqqqqqqqq24x")      # struct stat, 144 bytes
STAT_GENERIC = struct.Struct("<QQIIIIQ8xqi4xqqQqQqQ8x")  # asm-generic struct stat (aarch64), 128 bytes
TIMESPEC = struct.Struct("<qq")
TIMEVAL = struct.Struct("<qq")
RLIMIT = struct.Struct("<QQ")
WINSIZE_SIZE = 8
TERMIOS_SIZE = 36
RLIM_INFINITY = (1 << 64) - 1
assert STAT.size == 144 and STAT_GENERIC.size == 128


def _stat_bytes(layout: str, dev: int, ino: int, nlink: int, mode: int, uid: int, gid: int, rdev: int, size: int,
          blksize: int, blocks: int, times: tuple[int, ...]) -> bytes:
    """struct stat in `layout` ("x86_64" or "generic", replay/arch/'s stat_layout)."""
    if layout == "generic":
        return STAT_GENERIC.pack(dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, *times)
    return STAT.pack(dev, ino, nlink, mode, uid, gid, 0, rdev, size, blksize, blocks, *times)


def pack_stat(st: os.stat_result, layout: str = "x86_64") -> bytes:
    return _stat_bytes(layout, st.st_dev, st.st_ino, st.st_nlink, st.st_mode, st.st_uid, st.st_gid,
                 getattr(st, "st_rdev", 0), st.st_size, st.st_blksize, st.st_blocks,
                 (int(st.st_atime), st.st_atime_ns % 1_000_000_000,
                  int(st.st_mtime), st.st_mtime_ns % 1_000_000_000,
                  int(st.st_ctime), st.st_ctime_ns % 1_000_000_000))


def _statx(mode: int, ino: int, nlink: int, uid: int, gid: int, size: int, blksize: int, blocks: int,
           times_ns: tuple[int, int, int, int], rdev: int, dev: int) -> bytes:
    def ts(sec_ns: int) -> bytes:
        return struct.pack("<qI4x", sec_ns // 1_000_000_000, sec_ns % 1_000_000_000)
    head = struct.pack("<IIQIIIHHQQQQ", 0x7FF, blksize, 0, nlink, uid, gid, mode, 0, ino, size, blocks, 0)
    body = (b"".join(ts(t) for t in times_ns)
            + struct.pack("<IIII", os.major(rdev), os.minor(rdev), os.major(dev), os.minor(dev)))
    out = head + body
    return out + bytes(256 - len(out))


def pack_statx(st: os.stat_result, mask: int) -> bytes:
    """struct statx (256 bytes) from a host stat result."""
    return _statx(st.st_mode, st.st_ino, st.st_nlink, st.st_uid, st.st_gid, st.st_size, st.st_blksize,
                  st.st_blocks, (st.st_atime_ns, getattr(st, "st_birthtime_ns", st.st_ctime_ns),
                                 st.st_ctime_ns, st.st_mtime_ns), getattr(st, "st_rdev", 0), st.st_dev)


def synthetic_statx(mode: int, ino: int, mask: int, size: int = 0) -> bytes:
    """struct statx for a file made by the kernel (a pipe, a /proc file), like
    synthetic_stat: no device, owner 0, size 0, block size 4096, one link."""
    return _statx(mode, ino, 1, 0, 0, size, 4096, (size + 511) // 512, (0, 0, 0, 0), 0, 0)


def synthetic_stat(size: int, mode: int = _stat.S_IFREG | 0o644, ino: int = 1, layout: str = "x86_64") -> bytes:
    return _stat_bytes(layout, 0, ino, 1, mode, 0, 0, 0, size, 4096, (size + 511) // 512, (0, 0, 0, 0, 0, 0))


def pack_utsname(u: os.uname_result) -> bytes:
    def field(s: str) -> bytes:
        b = s.encode()[:64]
        return b + bytes(65 - len(b))
    return (field(u.sysname) + field(u.nodename) + field(u.release) + field(u.version)
            + field(u.machine) + field("(none)"))


def dirent64(ino: int, off: int, dtype: int, name: bytes) -> bytes:
    reclen = (19 + len(name) + 1 + 7) & ~7
    return struct.pack("<QqHB", ino, off, reclen, dtype) + name + bytes(reclen - 19 - len(name))


def dtype_of(mode: int) -> int:
    if _stat.S_ISDIR(mode):
        return 4
    if _stat.S_ISREG(mode):
        return 8
    if _stat.S_ISLNK(mode):
        return 10
    if _stat.S_ISCHR(mode):
        return 2
    if _stat.S_ISFIFO(mode):
        return 1
    if _stat.S_ISSOCK(mode):
        return 12
    if _stat.S_ISBLK(mode):
        return 6
    return 0
