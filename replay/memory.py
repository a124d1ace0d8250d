"""Guest memory: the address-space layout, backed by host buffers.

Every guest mapping is a Unicorn region mapped with mem_map_ptr onto a slice
of a host buffer (an anonymous mmap), so the engine can read, hash and
checkpoint guest RAM directly and cheaply.  The layout (which ranges are
mapped, with which permissions) is kept here; partial munmap/mprotect are
done by remapping the surviving slices of the same buffer, so no data is
ever copied.  Permissions use the PROT_* bit values, which equal Unicorn's.
"""

from __future__ import annotations

import bisect
import ctypes
import mmap
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

PAGE = 4096
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4


def page_down(x: int) -> int:
    return x & ~(PAGE - 1)


def page_up(x: int) -> int:
    return (x + PAGE - 1) & ~(PAGE - 1)


SHARED_KEY = 1 << 48        # buffer keys from here up: MAP_SHARED memory, which fork shares
_next_shared_key = SHARED_KEY
_shared_buffers: weakref.WeakValueDictionary[int, HostBuffer] = weakref.WeakValueDictionary()


def shared_buffer(size: int, key: int | None = None) -> HostBuffer:
    """The buffer of MAP_SHARED memory `key` (a new one without a key): every process
    that maps it (after fork), and every checkpoint restoring it, sees the same bytes.
    A key given (a checkpoint's, maybe one loaded from disk: keyframes.py) is never
    handed out again to new memory."""
    global _next_shared_key
    buf = _shared_buffers.get(key) if key is not None else None
    if buf is None or buf.size != size:
        if key is None:
            key = _next_shared_key
        _next_shared_key = max(_next_shared_key, key + 1)
        buf = HostBuffer(size, key)
        _shared_buffers[buf.key] = buf
    return buf


class HostBuffer:
    """An anonymous host mapping that backs one or more guest regions."""

    def __init__(self, size: int, key: int = 0) -> None:
        self.key = key          # stable identity across checkpoints
        self.size = size
        self.mm = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._anchor = ctypes.c_char.from_buffer(self.mm)
        self.address = ctypes.addressof(self._anchor)


@dataclass
class Region:
    start: int
    end: int            # exclusive
    prot: int
    buf: HostBuffer
    offset: int         # of `start` within buf
    name: str = ""
    file_offset: int = 0   # of `start` within the mapped file (0 for anonymous memory), as /proc/PID/maps shows

    @property
    def size(self) -> int:
        return self.end - self.start

    def slice(self, start: int, end: int, prot: int | None = None) -> Region:
        """The part [start, end) of this region (with protection `prot`, if given)."""
        return Region(start, end, self.prot if prot is None else prot, self.buf,
                      self.offset + (start - self.start), self.name, self.file_offset_at(start))

    def file_offset_at(self, address: int) -> int:
        """Where `address` (inside or just past this region) is in the mapped file; 0 if anonymous."""
        return self.file_offset + (address - self.start) if self.file_backed else 0

    @property
    def file_backed(self) -> bool:
        return self.name.startswith("/")

    def view(self) -> memoryview:
        return memoryview(self.buf.mm)[self.offset:self.offset + self.size]

    @property
    def shared(self) -> bool:
        """MAP_SHARED memory: a forked child maps the same bytes."""
        return self.buf.key >= SHARED_KEY


class UnicornMemoryApi(Protocol):
    def mem_map_ptr(self, address: int, size: int, perms: int, ptr: int) -> None: ...
    def mem_unmap(self, address: int, size: int) -> None: ...
    def ctl_remove_cache(self, lbound: int, ubound: int) -> None: ...


class AddressSpace:
    """The guest's mappings, kept sorted by start address."""

    def __init__(self, uc: UnicornMemoryApi, on_code_changed=None, on_region_change=None) -> None:
        self._uc = uc
        self._regions: list[Region] = []
        self._starts: list[int] = []
        self._on_code_changed = on_code_changed        # code mapped, unmapped or remapped
        self._on_region_change = on_region_change      # (region, installed: bool)
        self._next_key = 0

    # -- queries -----------------------------------------------------------
    def regions(self) -> Iterator[Region]:
        return iter(list(self._regions))

    def find(self, addr: int) -> Region | None:
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0 and self._regions[i].start <= addr < self._regions[i].end:
            return self._regions[i]
        return None

    def overlapping(self, start: int, end: int) -> list[Region]:
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        out = []
        for r in self._regions[i:]:
            if r.start >= end:
                break
            if r.end > start:
                out.append(r)
        return out

    def is_mapped(self, start: int, length: int, prot: int = 0) -> bool:
        """True when every byte of [start, start+length) is mapped with prot."""
        addr, end = start, start + length
        while addr < end:
            r = self.find(addr)
            if r is None or (r.prot & prot) != prot:
                return False
            addr = r.end
        return True

    def find_free(self, length: int, top: int, bottom: int = 0x10000) -> int | None:
        """Highest page-aligned gap of `length` bytes below `top`."""
        end = top
        for r in reversed(self._regions):
            if r.start >= end:
                continue
            if r.end <= end - length and end - length >= bottom:
                return end - length
            end = min(end, r.start)
        return end - length if end - length >= bottom else None

    # -- changes -----------------------------------------------------------
    def map(self, start: int, length: int, prot: int, name: str = "",
            data: bytes | None = None, file_offset: int = 0, shared: bool = False) -> Region:
        """Map fresh zeroed memory at [start, start+length); must be free.
        `shared`: MAP_SHARED memory, which a forked child shares (see share)."""
        assert start % PAGE == 0 and length % PAGE == 0 and length > 0
        if self.overlapping(start, start + length):
            raise ValueError(f"mapping {start:#x}+{length:#x} overlaps")
        if shared:
            buf = shared_buffer(length)
        else:
            self._next_key += 1
            buf = HostBuffer(length, self._next_key)
        if data:
            buf.mm[:len(data)] = data
        region = Region(start, start + length, prot, buf, 0, name, file_offset)
        self._install(region)
        return region

    def share(self, region: Region) -> None:
        """Map another address space's shared `region` here, on the same bytes (fork)."""
        if self.overlapping(region.start, region.end):
            raise ValueError(f"mapping {region.start:#x}+{region.size:#x} overlaps")
        self._install(Region(region.start, region.end, region.prot, region.buf, region.offset, region.name,
                            region.file_offset))

    def unmap(self, start: int, length: int) -> None:
        end = start + length
        for r in self.overlapping(start, end):
            self._remove(r)
            if r.start < start:
                self._install(r.slice(r.start, start))
            if r.end > end:
                self._install(r.slice(end, r.end))

    def protect(self, start: int, length: int, prot: int) -> None:
        end = start + length
        for r in self.overlapping(start, end):
            if r.prot == prot:
                continue
            self._remove(r)
            lo, hi = max(r.start, start), min(r.end, end)
            if r.start < lo:
                self._install(r.slice(r.start, lo))
            self._install(r.slice(lo, hi, prot))
            if hi < r.end:
                self._install(r.slice(hi, r.end))

    def rename(self, start: int, length: int, name: str) -> None:
        for r in self.overlapping(start, start + length):
            r.name = name

    # -- checkpoint support ----------------------------------------------------
    def layout(self) -> tuple[tuple[int, int, int, str, int, int, int], ...]:
        """(start, end, prot, name, buffer key, offset, file offset) of every region."""
        return tuple((r.start, r.end, r.prot, r.name, r.buf.key, r.offset, r.file_offset) for r in self._regions)

    def buffers(self) -> dict[int, HostBuffer]:
        return {r.buf.key: r.buf for r in self._regions}

    @property
    def next_key(self) -> int:
        return self._next_key

    def set_layout(self, layout: tuple[tuple[int, int, int, str, int, int, int], ...],
                   buffers: dict[int, HostBuffer], next_key: int) -> None:
        """Make the mappings exactly `layout`, on `buffers` (by key)."""
        wanted = set(layout)
        current = {(r.start, r.end, r.prot, r.name, r.buf.key, r.offset, r.file_offset): r for r in self._regions}
        for key, region in current.items():
            if key not in wanted:
                self._remove(region)
        for item in layout:
            if item not in current:
                start, end, prot, name, bkey, offset, file_offset = item
                self._install(Region(start, end, prot, buffers[bkey], offset, name, file_offset))
        self._next_key = next_key

    def _install(self, region: Region) -> None:
        self._uc.mem_map_ptr(region.start, region.size, region.prot,
                             region.buf.address + region.offset)
        i = bisect.bisect_left(self._starts, region.start)
        self._regions.insert(i, region)
        self._starts.insert(i, region.start)
        if region.prot & PROT_EXEC and self._on_code_changed:
            self._on_code_changed()
        if self._on_region_change:
            self._on_region_change(region, True)

    def _remove(self, region: Region) -> None:
        i = self._regions.index(region)
        del self._regions[i]
        del self._starts[i]
        if region.prot & PROT_EXEC:
            self._uc.ctl_remove_cache(region.start, region.end)
            if self._on_code_changed:
                self._on_code_changed()
        if self._on_region_change:
            self._on_region_change(region, False)
        self._uc.mem_unmap(region.start, region.size)

    # -- content -----------------------------------------------------------
    def read(self, addr: int, length: int) -> bytes:
        """Guest bytes regardless of protection; ValueError if unmapped."""
        out = bytearray()
        end = addr + length
        while addr < end:
            r = self.find(addr)
            if r is None:
                raise ValueError(f"unmapped guest address {addr:#x}")
            n = min(end, r.end) - addr
            o = r.offset + addr - r.start
            out += r.buf.mm[o:o + n]
            addr += n
        return bytes(out)

    def write(self, addr: int, data: bytes) -> None:
        """Store guest bytes regardless of protection; ValueError if unmapped."""
        end = addr + len(data)
        pos = 0
        while addr < end:
            r = self.find(addr)
            if r is None:
                raise ValueError(f"unmapped guest address {addr:#x}")
            n = min(end, r.end) - addr
            o = r.offset + addr - r.start
            r.buf.mm[o:o + n] = data[pos:pos + n]
            if r.prot & PROT_EXEC:
                self._uc.ctl_remove_cache(addr, addr + n)
            addr += n
            pos += n

    def read_cstring(self, addr: int, limit: int = 4096) -> bytes:
        out = bytearray()
        while len(out) < limit:
            r = self.find(addr)
            if r is None:
                raise ValueError(f"unmapped guest address {addr:#x}")
            o = r.offset + addr - r.start
            chunk = r.buf.mm[o:o + min(r.end - addr, 256)]
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                return bytes(out)
            out += chunk
            addr += len(chunk)
        raise ValueError("string too long")
