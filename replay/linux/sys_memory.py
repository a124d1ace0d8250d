"""Memory system calls: brk, mmap, munmap, mprotect, mremap, madvise, msync.

Address-space changes are deterministic (no events), except the bytes of a
file mapped from a host file that was not captured, which are read through
HostIO like any other read.  A MAP_SHARED mapping of a host file opened for
writing is written back to it (shared_files.py).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from ..events import FileKind
from ..memory import PAGE, page_up
from . import shared_files
from .abi import Args, s64
from .layout import MMAP_TOP

if TYPE_CHECKING:
    from .kernel import LinuxKernel

MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS = 0x01, 0x02, 0x10, 0x20
MAP_FIXED_NOREPLACE = 0x100000
MREMAP_MAYMOVE, MREMAP_FIXED = 1, 2
MADV_DONTNEED = 4
PROT_MASK = 7
TASK_SIZE = 0x7FFFFFFFF000


def sys_brk(k: LinuxKernel, a: Args) -> int:
    st = k.state
    want = a[0]
    if want < st.brk_start or want >= MMAP_TOP:
        return st.brk
    old_top, new_top = page_up(st.brk), page_up(want)
    if new_top > old_top:
        if k.mem.overlapping(old_top, new_top):
            return st.brk
        k.mem.map(old_top, new_top - old_top, 3, "[heap]")
    elif new_top < old_top:
        k.mem.unmap(new_top, old_top - new_top)
    st.brk = want
    return want


def _file_bytes(k: LinuxKernel, fd: int, offset: int, length: int) -> bytes | int:
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if f.kind == FileKind.CAPTURED and f.content is not None:
        return f.content[offset:offset + length]
    if f.kind == FileKind.HOST:
        shared_files.write_back_file(k, f)
        result, data = k.host.read(k.icount, fd, f, length, offset)
        return data if result >= 0 else result
    if f.kind == FileKind.DIRECTORY:
        return -errno.ENODEV
    return -errno.ENODEV if f.std_stream is not None or f.pipe else -errno.EACCES


def sys_mmap(k: LinuxKernel, a: Args) -> int:
    addr, length, prot, flags, fd, offset = a
    fd = s64(fd) & 0xFFFFFFFF
    if length == 0 or offset % PAGE:
        return -errno.EINVAL
    length = page_up(length)
    if length > TASK_SIZE:
        return -errno.ENOMEM
    data: bytes | int = b""
    name = ""
    f = None
    if not flags & MAP_ANONYMOUS:
        f = k.fds.get(fd)
        if f is not None and flags & MAP_SHARED and prot & 2 and not f.writable:
            return -errno.EACCES
        data = _file_bytes(k, fd, offset, length)
        if isinstance(data, int):
            return data
        name = f.path if f else ""
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
        if addr % PAGE or addr + length > TASK_SIZE:
            return -errno.EINVAL
        if flags & MAP_FIXED_NOREPLACE and not flags & MAP_FIXED and k.mem.overlapping(addr, addr + length):
            return -errno.EEXIST
        shared_files.write_back(k, addr, addr + length)
        k.mem.unmap(addr, length)
        start = addr
    else:
        start = None
        if addr and addr % PAGE == 0 and addr + length <= MMAP_TOP and not k.mem.overlapping(addr, addr + length):
            start = addr
        if start is None:
            start = k.mem.find_free(length, MMAP_TOP)
        if start is None:
            return -errno.ENOMEM
    region = k.mem.map(start, length, prot & PROT_MASK, name, data or None, offset if name else 0,
                       shared=bool(flags & MAP_SHARED))
    if flags & MAP_SHARED and f is not None and f.kind == FileKind.HOST and f.writable:
        shared_files.note(k, region, f, offset)
    return start


def sys_munmap(k: LinuxKernel, a: Args) -> int:
    addr, length = a[0], a[1]
    if addr % PAGE or length == 0:
        return -errno.EINVAL
    shared_files.write_back(k, addr, addr + page_up(length))
    k.mem.unmap(addr, page_up(length))
    return 0


MS_ASYNC, MS_INVALIDATE, MS_SYNC = 1, 2, 4


def sys_msync(k: LinuxKernel, a: Args) -> int:
    """Shared file mappings' changed pages reach their files (MS_ASYNC too: at once)."""
    addr, length, flags = a[0], page_up(a[1]), a[2]
    if addr % PAGE or flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) or flags & MS_ASYNC and flags & MS_SYNC:
        return -errno.EINVAL
    if not k.mem.is_mapped(addr, length):
        return -errno.ENOMEM
    shared_files.write_back(k, addr, addr + length)
    return 0


def sys_mprotect(k: LinuxKernel, a: Args) -> int:
    addr, length, prot = a[0], page_up(a[1]), a[2]
    if addr % PAGE:
        return -errno.EINVAL
    if length == 0:
        return 0
    if not k.mem.is_mapped(addr, length):
        return -errno.ENOMEM
    k.mem.protect(addr, length, prot & PROT_MASK)
    return 0


def sys_mremap(k: LinuxKernel, a: Args) -> int:
    old, old_size, new_size, flags = a[0], page_up(a[1]), page_up(a[2]), a[3]
    if old % PAGE or new_size == 0:
        return -errno.EINVAL
    region = k.mem.find(old)
    if region is None or not k.mem.is_mapped(old, old_size):
        return -errno.EFAULT
    if flags & MREMAP_FIXED:
        k.warn_once("mremapfixed", "mremap with MREMAP_FIXED is not supported")
        return -errno.EINVAL
    mapping = shared_files.mapping_of(region)
    if mapping is not None or region.shared:
        return _mremap_shared(k, region, old, old_size, new_size, flags)
    if new_size <= old_size:
        if new_size < old_size:
            k.mem.unmap(old + new_size, old_size - new_size)
        return old
    grow = new_size - old_size
    if not k.mem.overlapping(old + old_size, old + new_size) and old + new_size <= MMAP_TOP:
        if region.end == old + old_size:     # one mapping, grown in place (as /proc/PID/maps shows it)
            data = k.mem.read(old, old_size)
            k.mem.unmap(old, old_size)
            k.mem.map(old, new_size, region.prot, region.name, data, region.file_offset_at(old))
        else:
            k.mem.map(old + old_size, grow, region.prot, region.name,
                      file_offset=region.file_offset_at(old + old_size))
        return old
    if not flags & MREMAP_MAYMOVE:
        return -errno.ENOMEM
    start = k.mem.find_free(new_size, MMAP_TOP)
    if start is None:
        return -errno.ENOMEM
    data = k.mem.read(old, old_size)
    k.mem.map(start, new_size, region.prot, region.name, data, region.file_offset_at(old))
    k.mem.unmap(old, old_size)
    return start


def _mremap_shared(k: LinuxKernel, region, old: int, old_size: int, new_size: int, flags: int) -> int:
    """mremap of MAP_SHARED memory: the bytes stay shared (a forked process's and the
    file's); grown or moved, it becomes a new shared mapping of the same bytes."""
    mapping = shared_files.mapping_of(region)
    shared_files.write_back(k, old, old + old_size)
    if new_size <= old_size:
        if new_size < old_size:
            k.mem.unmap(old + new_size, old_size - new_size)
        return old
    in_place = (region.end == old + old_size and not k.mem.overlapping(old + old_size, old + new_size)
                and old + new_size <= MMAP_TOP)
    if not in_place and not flags & MREMAP_MAYMOVE:
        return -errno.ENOMEM
    start = old if in_place else k.mem.find_free(new_size, MMAP_TOP)
    if start is None:
        return -errno.ENOMEM
    data = k.mem.read(old, old_size)
    k.mem.unmap(old, old_size)
    new = k.mem.map(start, new_size, region.prot, region.name, data, region.file_offset_at(old), shared=True)
    if mapping is not None:
        shared_files.note(k, new, mapping.file, region.file_offset_at(old))
    return start


def sys_madvise(k: LinuxKernel, a: Args) -> int:
    addr, length, advice = a[0], page_up(a[1]), a[2]
    if addr % PAGE:
        return -errno.EINVAL
    if advice == MADV_DONTNEED and length:
        # Private anonymous memory reads back as zeros afterwards.
        pos = addr
        while pos < addr + length:
            r = k.mem.find(pos)
            if r is None:
                return -errno.ENOMEM
            end = min(r.end, addr + length)
            k.mem.write(pos, bytes(end - pos))
            pos = end
    return 0


def sys_mlock(k: LinuxKernel, a: Args) -> int:
    return 0


def sys_mincore(k: LinuxKernel, a: Args) -> int:
    """Every mapped page is resident (the emulator has no swap)."""
    addr, length, vec = a[0], page_up(a[1]), a[2]
    if addr % PAGE:
        return -errno.EINVAL
    if not k.mem.is_mapped(addr, length):
        return -errno.ENOMEM
    pages = length // PAGE
    if not k.can_write(vec, pages):
        return -errno.EFAULT
    k.write(vec, b"\x01" * pages)
    return 0
