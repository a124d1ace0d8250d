"""Page images: guest memory saved and restored a page at a time, incrementally.

A `MemoryImage` is the memory part of a machine's saved state: the layout
of the address space and, for every host buffer behind it, its pages.  The
`PageImager` of one address space takes and restores them.  Memory is
stored incrementally: a page that did not change since the image the
address space was last saved to or restored from is the very same `bytes`
object, so it costs nothing again.  Changes are found by comparing each
buffer with a *shadow* copy of that image, in C (tt_diff_pages), at memcmp
speed.

Unicorn's own memory snapshots are not used: they are a stack, not random
access (see ../shared/UNICORN-FACTS.md).  Restoring a page of executable
memory through the host pointer leaves stale translated code behind, so
the owner is told which guest code ranges were rewritten.
"""

from __future__ import annotations

import ctypes
import mmap
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .icount import library
from .memory import PAGE, PROT_EXEC, SHARED_KEY, AddressSpace, HostBuffer, shared_buffer

Page = bytes | None                # None is a page of zeros
Pages = tuple[Page, ...]
Layout = tuple[tuple[int, int, int, str, int, int, int], ...]
_ZERO_PAGE = bytes(PAGE)


@dataclass(frozen=True)
class MemoryImage:
    """An address space's layout and every page of its buffers."""

    layout: Layout
    sizes: Mapping[int, int]        # buffer key -> size in bytes
    pages: Mapping[int, Pages]      # buffer key -> page contents
    next_key: int
    new_bytes: int = 0              # bytes of pages this image stored that the one before it did not

    def resident_bytes(self) -> int:
        """Bytes of the pages that are not all zeros."""
        return sum(len(p) for pages in self.pages.values() for p in pages if p is not None)

    def page_count(self) -> int:
        return sum(len(p) for p in self.pages.values())


class _Shadow:
    """The content of one host buffer as of the base image."""

    def __init__(self, owner: HostBuffer) -> None:
        self.owner = owner
        self.mm = mmap.mmap(-1, owner.size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._anchor = ctypes.c_char.from_buffer(self.mm)
        self.address = ctypes.addressof(self._anchor)

    def close(self) -> None:
        del self._anchor
        self.mm.close()


class PageImager:
    """Takes and restores MemoryImages of one address space.

    `code_rewritten(start, end)` is called for each guest page of executable
    memory a restore rewrote (the owner drops its translations).
    """

    def __init__(self, mem: AddressSpace, code_rewritten: Callable[[int, int], None]) -> None:
        self.mem = mem
        self._code_rewritten = code_rewritten
        self._lib = library()
        self._shadows: dict[int, _Shadow] = {}
        self._base: MemoryImage | None = None
        self._idx = (ctypes.c_uint64 * 256)()

    def _shadow_for(self, buf: HostBuffer) -> tuple[_Shadow, bool]:
        """The shadow of `buf`, and whether it is new (then it is all zeros
        and the base image says nothing about this buffer)."""
        shadow = self._shadows.get(buf.key)
        if shadow is not None and shadow.owner is buf:
            return shadow, False
        if shadow is not None:
            shadow.close()
        shadow = _Shadow(buf)
        self._shadows[buf.key] = shadow
        return shadow, True

    def _changed_pages(self, buf: HostBuffer, shadow: _Shadow) -> list[int]:
        """Indexes of pages of `buf` that differ from its shadow."""
        npages = buf.size // PAGE
        changed: list[int] = []
        chunk = len(self._idx)
        for first in range(0, npages, chunk):
            count = min(chunk, npages - first)
            n = self._lib.tt_diff_pages(buf.address + first * PAGE, shadow.address + first * PAGE,
                                        count, PAGE, None, self._idx)
            changed.extend(first + self._idx[i] for i in range(n))
        return changed

    def take(self) -> MemoryImage:
        """Snapshot memory (the image says how many bytes it newly holds)."""
        buffers = self.mem.buffers()
        base = self._base
        pages: dict[int, Pages] = {}
        new_bytes = 0
        for key, buf in buffers.items():
            shadow, fresh = self._shadow_for(buf)
            npages = buf.size // PAGE
            old = base.pages.get(key) if base is not None and not fresh else None
            plist: list[Page] = list(old) if old is not None and len(old) == npages else [None] * npages
            view = buf.mm
            for i in self._changed_pages(buf, shadow):
                o = i * PAGE
                data = view[o:o + PAGE]
                plist[i] = data
                shadow.mm[o:o + PAGE] = data
                new_bytes += PAGE
            pages[key] = tuple(plist)
        self._drop_stale_shadows(buffers)
        image = MemoryImage(self.mem.layout(), {k: b.size for k, b in buffers.items()}, pages,
                            self.mem.next_key, new_bytes)
        self._base = image
        return image

    def restore(self, image: MemoryImage) -> bool:
        """Make guest memory exactly `image`; True if executable memory was rewritten."""
        live = self.mem.buffers()
        buffers: dict[int, HostBuffer] = {}
        for key, size in image.sizes.items():
            buf = live.get(key)
            if key >= SHARED_KEY:
                buf = shared_buffer(size, key)      # the one every process maps
            elif buf is None or buf.size != size:
                buf = HostBuffer(size, key)
            buffers[key] = buf
        self.mem.set_layout(image.layout, buffers, image.next_key)
        base = self._base
        code = self._code_ranges(image.layout)
        rewrote_code = False
        for key, buf in buffers.items():
            shadow, fresh = self._shadow_for(buf)
            target = image.pages[key]
            current_base = base.pages.get(key) if base is not None and not fresh else None
            dirty = set(self._changed_pages(buf, shadow))
            if current_base is None or len(current_base) != len(target):
                dirty.update(i for i, p in enumerate(target) if p is not None)
                if current_base is not None:
                    dirty.update(i for i, p in enumerate(current_base) if p is not None)
            else:
                dirty.update(i for i, (a, b) in enumerate(zip(target, current_base)) if a is not b)
            for i in dirty:
                o = i * PAGE
                page = target[i]
                data = page if page is not None else _ZERO_PAGE
                buf.mm[o:o + PAGE] = data
                shadow.mm[o:o + PAGE] = data
                for first, last, guest_start in code.get(key, ()):
                    if first <= o < last:
                        guest = guest_start + o - first
                        self._code_rewritten(guest, guest + PAGE)
                        rewrote_code = True
        self._drop_stale_shadows(buffers)
        self._base = image
        return rewrote_code

    @staticmethod
    def _code_ranges(layout: Layout) -> dict[int, list[tuple[int, int, int]]]:
        """Executable regions by buffer: (first, last) byte offsets in the
        buffer and the guest address of the first."""
        out: dict[int, list[tuple[int, int, int]]] = {}
        for start, end, prot, _name, key, offset, _file_offset in layout:
            if prot & PROT_EXEC:
                out.setdefault(key, []).append((offset, offset + end - start, start))
        return out

    def _drop_stale_shadows(self, live: dict[int, HostBuffer]) -> None:
        for key in [k for k in self._shadows if k not in live]:
            self._shadows.pop(key).close()

    def shadow_bytes(self) -> int:
        return sum(s.owner.size for s in self._shadows.values())
