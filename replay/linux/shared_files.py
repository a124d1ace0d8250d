"""MAP_SHARED mappings of host files: the guest's writes reach the file.

A shared writable mapping of a host file (FileKind.HOST, opened for writing)
is MAP_SHARED memory (memory.py's shared buffers, which fork shares) with a
note here of which file and where in it.  Its changed pages are written
back to the file through HostIO.write_back -- for real while recording,
never on replay -- when the guest calls msync, unmaps or moves the memory
(munmap, mremap, a MAP_FIXED mapping over it), execs or exits, and before
it reads the file through a descriptor (read/pread see them, as they would
through the kernel's page cache).  Writing back returns nothing to the
guest, so it needs no event and replay is exact without it.

What counts as changed: a page that differs from the file's bytes as last
read or written back (`clean`); the pages the guest never wrote are never
written, so writes made through a descriptor meanwhile are kept.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..memory import PAGE, HostBuffer, Region

if TYPE_CHECKING:
    from .files import OpenFile
    from .kernel import LinuxKernel


@dataclass(eq=False)
class FileMapping:
    file: OpenFile
    base: int             # the file offset of the buffer's first byte
    clean: bytearray      # the buffer's bytes as the file has them


# The shared buffers that map host files (a buffer gone is a mapping gone everywhere).
_mappings: weakref.WeakKeyDictionary[HostBuffer, FileMapping] = weakref.WeakKeyDictionary()


def note(k: LinuxKernel, region: Region, file: OpenFile, offset: int) -> None:
    """`region` (fresh MAP_SHARED memory holding the file's bytes from `offset`) maps `file`."""
    k.host.map_shared(file)
    _mappings[region.buf] = FileMapping(file, offset - region.offset, bytearray(region.buf.mm[:]))


def mapping_of(region: Region) -> FileMapping | None:
    return _mappings.get(region.buf)


def write_back(k: LinuxKernel, start: int, end: int) -> None:
    """Write the changed pages of the shared file mappings in [start, end) to their files."""
    for r in k.mem.overlapping(start, end):
        m = _mappings.get(r.buf)
        if m is not None:
            lo = r.offset + max(start, r.start) - r.start
            hi = r.offset + min(end, r.end) - r.start
            _write_pages(k, r.buf, m, lo, hi)


def write_back_all(k: LinuxKernel) -> None:
    """Every shared file mapping of this process (exit, exec)."""
    write_back(k, 0, 1 << 64)


def write_back_file(k: LinuxKernel, file: OpenFile) -> None:
    """Before a read of `file` through a descriptor: every mapping of the same file, whoever maps it."""
    for buf, m in list(_mappings.items()):
        if m.file is file or (m.file.path == file.path and file.path):
            _write_pages(k, buf, m, 0, buf.size)


def any_mapped() -> bool:
    return bool(_mappings)


def _write_pages(k: LinuxKernel, buf: HostBuffer, m: FileMapping, lo: int, hi: int) -> None:
    """Write buffer bytes [lo, hi) that changed, in runs of changed pages."""
    view = memoryview(buf.mm)
    pos = lo - lo % PAGE
    run = -1
    while pos <= hi:
        end = min(pos + PAGE, hi)
        changed = pos < hi and view[pos:end] != memoryview(m.clean)[pos:end]
        if changed and run < 0:
            run = pos
        elif not changed and run >= 0:
            data = bytes(view[run:pos])
            k.host.write_back(m.file, m.base + run, data)
            m.clean[run:pos] = data
            run = -1
        pos += PAGE
    view.release()
