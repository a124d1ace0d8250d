"""Binding of the compiled instruction counter (_icount.c) through ctypes.

The counter is the engine's clock: `Counter.icount` is the exact number of
guest instructions retired.  See _icount.c for how blocks are counted and
how an exact stop at any count works.
"""

from __future__ import annotations

import ctypes
import enum
import importlib.util
from dataclasses import dataclass

from .errors import ReplayError


class StopCause(enum.IntEnum):
    NONE = 0
    LIMIT = 1      # the next block would cross the exact limit
    SOFT = 2       # a time slice ended at a block boundary
    REQUEST = 3    # stop_request was set (interrupt)
    EXACT = 4      # precise mode reached the limit
    SPECIAL = 5    # the next block holds an instruction the CPU must not run (see Special)


class Special(enum.IntEnum):
    """What stopped a block with StopCause.SPECIAL (the counter's pending_kind)."""

    ILLEGAL = 0      # a VEX/EVEX/XOP instruction the emulated CPU refuses
    TRAP = 1         # rdrand/rdseed: emulated by the OS layer
    UNDECODED = 2    # Capstone cannot decode it: the exact count would be lost


class InsnClass(enum.IntEnum):
    """The counter's class of each Capstone instruction id (TT_CLASS_* in C)."""

    PLAIN = 0
    TRAP = 1
    VEX_OK = 2
    UNPREFIXED = 2   # not x86-64: the counter's VEX check (an x86 byte test) is skipped too


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
        ("pending_index", ctypes.c_uint32),
        ("pending_kind", ctypes.c_uint32),
    ]


NO_LIMIT = (1 << 64) - 1


def _load_library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("replay._icount")
    if spec is None or not spec.origin:
        raise ReplayError("ttdbg's compiled counter (replay/_icount) is not built; "
                          "install the package with `pip install -e .`")
    lib = ctypes.CDLL(spec.origin)
    lib.tt_counter_new.restype = ctypes.c_void_p
    if not hasattr(lib, "tt_counter_layout"):
        raise ReplayError("ttdbg's compiled counter (replay/_icount) is out of date; rebuild it with "
                          "`python setup.py build_ext --inplace` or `pip install -e .`")
    lib.tt_counter_new.argtypes = [ctypes.c_void_p] * 5 + [ctypes.c_size_t]
    lib.tt_counter_free.argtypes = [ctypes.c_void_p]
    lib.tt_counter_clear_cache.argtypes = [ctypes.c_void_p]
    lib.tt_counter_set_decoder.restype = ctypes.c_int
    lib.tt_counter_set_decoder.argtypes = [ctypes.c_void_p] + [ctypes.c_uint32] * 4 + [ctypes.c_char_p,
                                                                                       ctypes.c_uint32]
    lib.tt_counter_layout.restype = ctypes.c_uint32
    lib.tt_counter_layout.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.tt_diff_pages.restype = ctypes.c_uint64
    lib.tt_diff_pages.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64,
                                  ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p]
    _check_layout(lib)
    return lib


# The fields tt_counter_layout() reports, in its order (after the size of the
# public part).
_C_FIELDS = ("icount", "limit", "soft_limit", "block_start_icount", "block_addr", "block_size", "block_count",
             "pending_addr", "pending_size", "stop_reason", "precise", "stop_request", "blocks_decoded",
             "fast_limit", "pending_index", "pending_kind")


def _check_layout(lib: ctypes.CDLL, state: type[ctypes.Structure] = CounterState) -> None:
    """`state` mirrors struct tt_counter's public part by hand: refuse to run on a
    mismatch (a stale build), which would otherwise corrupt the count silently."""
    out = (ctypes.c_uint64 * 64)()
    n = lib.tt_counter_layout(out, len(out))
    c_layout = list(out[1:min(n, len(out))])
    fields = {name: getattr(state, name).offset for name, _ in state._fields_}
    py_layout = [ctypes.sizeof(state)] + [fields.get(name) for name in _C_FIELDS]
    if c_layout != py_layout or set(fields) != set(_C_FIELDS):
        raise ReplayError("ttdbg's compiled counter (replay/_icount) does not match replay/icount.py "
                          f"(public size and field offsets in C {c_layout}, in Python {py_layout}); "
                          "rebuild it with `python setup.py build_ext --inplace` or `pip install -e .`")


_LIB: ctypes.CDLL | None = None


def library() -> ctypes.CDLL:
    global _LIB  # a loaded shared library, not state: loading twice is harmless
    if _LIB is None:
        _LIB = _load_library()
    return _LIB


@dataclass(frozen=True)
class DecoderLayout:
    """Where Capstone's cs_insn keeps an instruction's id, size and bytes, and
    the InsnClass of each instruction id (one byte per id)."""

    insn_size: int
    id_offset: int
    size_offset: int
    bytes_offset: int
    classes: bytes


class Counter:
    """One counter per Unicorn instance."""

    def __init__(self, uc_handle: int, emu_stop: int, mem_read: int,
                 cs_disasm: int, cs_free: int, cs_handle: int, decoder: DecoderLayout) -> None:
        self._lib = library()
        ptr = self._lib.tt_counter_new(uc_handle, emu_stop, mem_read, cs_disasm, cs_free, cs_handle)
        if not ptr:
            raise MemoryError("cannot allocate the instruction counter")
        if self._lib.tt_counter_set_decoder(ptr, decoder.insn_size, decoder.id_offset, decoder.size_offset,
                                            decoder.bytes_offset, decoder.classes, len(decoder.classes)):
            self._lib.tt_counter_free(ptr)
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
