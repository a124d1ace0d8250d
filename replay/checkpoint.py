"""Checkpoints: the whole machine state at one instruction count.

A checkpoint holds the CPU context, the memory layout, guest memory as
per-page snapshots, the guest kernel's state and the log cursor.  Memory is
stored incrementally: every checkpoint has a list of pages per host buffer,
and a page that did not change since the previous checkpoint is the very
same `bytes` object, so it costs nothing again.  Changes are found by
comparing each buffer with a *shadow* copy of the last checkpoint taken or
restored, in C (tt_diff_pages), at memcmp speed.

Unicorn's own memory snapshots are not used: they are a stack, not random
access (see ../shared/UNICORN-FACTS.md).  Restoring a page of executable
memory through the host pointer leaves stale translated code behind, so
those pages have their translation cache removed.
"""

from __future__ import annotations

import ctypes
import mmap
from dataclasses import dataclass, field
from typing import Any

from .icount import library
from .machine import Machine
from .memory import PAGE, PROT_EXEC, HostBuffer

Pages = list  # list[bytes | None]; None is a page of zeros
_ZERO_PAGE = bytes(PAGE)
Layout = tuple[tuple[int, int, int, str, int, int], ...]


@dataclass
class MemoryImage:
    layout: Layout
    sizes: dict[int, int]          # buffer key -> size in bytes
    pages: dict[int, Pages]        # buffer key -> page contents
    next_key: int


@dataclass
class Checkpoint:
    icount: int
    cpu: Any                       # a Unicorn context
    memory: MemoryImage
    guest: Any                     # the kernel's state, copied
    cursor: Any                    # the replay log position
    name: str | None = None        # a user bookmark (never thinned)
    new_bytes: int = 0             # memory this checkpoint added
    meta: dict[str, Any] = field(default_factory=dict)


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


class MemorySnapshotter:
    """Takes and restores MemoryImages of one machine's address space."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.mem = machine.mem
        self._lib = library()
        self._shadows: dict[int, _Shadow] = {}
        self._base: MemoryImage | None = None
        self._scratch = bytearray(PAGE * 256)
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

    def take(self) -> tuple[MemoryImage, int]:
        """Snapshot memory; returns the image and the bytes it newly holds."""
        buffers = self.mem.buffers()
        base = self._base
        pages: dict[int, Pages] = {}
        new_bytes = 0
        for key, buf in buffers.items():
            shadow, fresh = self._shadow_for(buf)
            npages = buf.size // PAGE
            old = base.pages.get(key) if base is not None and not fresh else None
            plist: Pages = list(old) if old is not None and len(old) == npages else [None] * npages
            view = buf.mm
            for i in self._changed_pages(buf, shadow):
                o = i * PAGE
                data = view[o:o + PAGE]
                plist[i] = data
                shadow.mm[o:o + PAGE] = data
                new_bytes += PAGE
            pages[key] = plist
        self._drop_stale_shadows(buffers)
        image = MemoryImage(self.mem.layout(), {k: b.size for k, b in buffers.items()}, pages,
                            self.mem.next_key)
        self._base = image
        return image, new_bytes

    def restore(self, image: MemoryImage) -> None:
        """Make guest memory exactly `image`."""
        live = self.mem.buffers()
        buffers: dict[int, HostBuffer] = {}
        for key, size in image.sizes.items():
            buf = live.get(key)
            if buf is None or buf.size != size:
                buf = HostBuffer(size, key)
            buffers[key] = buf
        self.mem.set_layout(image.layout, buffers, image.next_key)
        base = self._base
        code = self._code_ranges(image.layout)
        removed_code = False
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
                data = target[i] if target[i] is not None else _ZERO_PAGE
                buf.mm[o:o + PAGE] = data
                shadow.mm[o:o + PAGE] = data
                for first, last, guest_start in code.get(key, ()):
                    if first <= o < last:
                        guest = guest_start + o - first
                        self.machine.uc.ctl_remove_cache(guest, guest + PAGE)
                        removed_code = True
        if removed_code:
            self.machine.forget_code()
        self._drop_stale_shadows(buffers)
        self._base = image

    @staticmethod
    def _code_ranges(layout: Layout) -> dict[int, list[tuple[int, int, int]]]:
        """Executable regions by buffer: (first, last) byte offsets in the
        buffer and the guest address of the first."""
        out: dict[int, list[tuple[int, int, int]]] = {}
        for start, end, prot, _name, key, offset in layout:
            if prot & PROT_EXEC:
                out.setdefault(key, []).append((offset, offset + end - start, start))
        return out

    def _drop_stale_shadows(self, live: dict[int, HostBuffer]) -> None:
        for key in [k for k in self._shadows if k not in live]:
            self._shadows.pop(key).close()

    def shadow_bytes(self) -> int:
        return sum(s.owner.size for s in self._shadows.values())
