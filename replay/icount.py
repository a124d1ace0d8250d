"""Binding of the compiled instruction counter (_icount.c) through ctypes.

The counter is the engine's clock: `Counter.icount` is the exact number of
guest instructions retired.  See _icount.c for how blocks are counted and
how an exact stop at any count works.
"""

from __future__ import annotations

import ctypes
import enum
import importlib.util

from .errors import ReplayError


class StopCause(enum.IntEnum):
    NONE = 0
    LIMIT = 1      # the next block would cross the exact limit
    SOFT = 2       # a time slice ended at a block boundary
    REQUEST = 3    # stop_request was set (interrupt)
    EXACT = 4      # precise mode reached the limit


class CounterState(ctypes.Structure):
    _fields_ = [
        ("icount", ctypes.c_uint64),
        ("limit", ctypes.c_uint64),
        ("soft_limit", ctypes.c_uint64),
        ("block_start_icount", ctypes.c_uint64),
        ("block_addr", ctypes.c_uint64),
        ("block_size", ctypes.c_uint32),
        ("block_count", ctypes.c_uint32),
        ("pending_addr", ctypes.c_uint64),
        ("pending_size", ctypes.c_uint32),
        ("stop_reason", ctypes.c_uint32),
        ("precise", ctypes.c_uint32),
        ("stop_request", ctypes.c_uint32),
        ("blocks_decoded", ctypes.c_uint64),
        ("fast_limit", ctypes.c_uint64),
    ]


NO_LIMIT = (1 << 64) - 1


def _load_library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("replay._icount")
    if spec is None or not spec.origin:
        raise ReplayError("ttdbg's compiled counter (replay/_icount) is not built; "
                          "install the package with `pip install -e .`")
    lib = ctypes.CDLL(spec.origin)
    lib.tt_counter_new.restype = ctypes.c_void_p
    lib.tt_counter_new.argtypes = [ctypes.c_void_p] * 5 + [ctypes.c_size_t]
    lib.tt_counter_free.argtypes = [ctypes.c_void_p]
    lib.tt_counter_clear_cache.argtypes = [ctypes.c_void_p]
    lib.tt_diff_pages.restype = ctypes.c_uint64
    lib.tt_diff_pages.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64,
                                  ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p]
    return lib


_LIB: ctypes.CDLL | None = None


def library() -> ctypes.CDLL:
    global _LIB  # a loaded shared library, not state: loading twice is harmless
    if _LIB is None:
        _LIB = _load_library()
    return _LIB


class Counter:
    """One counter per Unicorn instance."""

    def __init__(self, uc_handle: int, emu_stop: int, mem_read: int,
                 cs_disasm: int, cs_free: int, cs_handle: int) -> None:
        self._lib = library()
        ptr = self._lib.tt_counter_new(uc_handle, emu_stop, mem_read, cs_disasm, cs_free, cs_handle)
        if not ptr:
            raise MemoryError("cannot allocate the instruction counter")
        self.address = ptr
        self.state = CounterState.from_address(ptr)
        self.block_hook = ctypes.cast(self._lib.tt_block_hook, ctypes.c_void_p).value
        self.code_hook = ctypes.cast(self._lib.tt_code_hook, ctypes.c_void_p).value

    @property
    def icount(self) -> int:
        return self.state.icount

    def clear_cache(self) -> None:
        self._lib.tt_counter_clear_cache(self.address)

    def close(self) -> None:
        if self.address:
            self._lib.tt_counter_free(self.address)
            self.address = 0
