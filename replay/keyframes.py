"""Keyframes: restorable replay states kept on disk in the trace directory.

`ttdbg index` replays a trace once and stores a full checkpoint every K
instructions (K chosen so that a trace has about 64-1024 of them), so that
a far seek, and every segment of a parallel query (scan.py), starts from
the nearest keyframe instead of from instruction 0.

    <trace>/keyframes/index   magic, format version, a BLAKE2 digest of the
                              rest, then the pickled table: the key the
                              index was built for, the keyframes' icounts,
                              each keyframe as its own pickle, where each
                              blob lies in `blobs`, the signal deliveries
    <trace>/keyframes/blobs   every large byte string of every keyframe
                              (guest pages above all), zlib-compressed,
                              stored once per content digest

Generic on purpose: a keyframe is the timeline's own `Checkpoint` pickled
(Unicorn's UcContext pickles as its bytes), with every `bytes` of 1 KiB or
more replaced by a reference to its blob.  Whatever a checkpoint comes to
hold, the format needs no surgery; a checkpoint of another shape is caught
as stale (the engine fingerprint in the key, the classes recorded at save
time compared with a fresh checkpoint's) and rebuilt.

Never trusted: the key names the event log's SHA-256, the emulated CPU,
Unicorn's version and this format's version; the table is checked against
its digest, each blob against its own digest, and the timeline compares the
state digest of each keyframe it restores with the one saved.  A trace is
data from a stranger, so the pickles are read by an unpickler that builds
only the engine's own classes (and Unicorn's context) and no other callable.
Anything wrong makes `open_keyframes` return None with a note, and the
caller rebuilds (`ensure_keyframes`) or replays from the start.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import logging
import os
import pickle
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as _package_version

from . import cpu
from .checkpoint import Checkpoint
from .errors import LogFormatError
from .process import GuestProcess
from .trace import TraceDir

log = logging.getLogger(__name__)

DIR_NAME = "keyframes"
INDEX_NAME = "index"
BLOBS_NAME = "blobs"
MAGIC = b"TTDBG-KEYFRAMES\n"
FORMAT_VERSION = 4                  # 4: checkpoints of several processes and threads
MIN_BLOB = 1024                     # bytes objects this long or longer go to the blob file
MAX_INDEX = 1 << 31                 # refuse bigger tables before reading them
MAX_BLOBS = 1 << 40
_DIGEST = 16
_MIN_RUN = 16                       # tuples of this many pages or more are stored as one run
_RUN_TAG = b"R"
_NO_PAGE = bytes(_DIGEST)           # a page of zeros (None) in a run
_CACHE_BYTES = 256 << 20            # blobs kept decompressed in memory at most

Note = Callable[[str], None]
Progress = Callable[[int, int], None]      # (icount, total)


def choose_interval(total: int) -> int:
    """K: about 256 keyframes, at most 1024, none closer than 2048 instructions."""
    return max(2048, -(-total // 256))


# -- the key an index is built for ---------------------------------------------------------
def _log_digest(trace: TraceDir) -> str:
    h = hashlib.sha256()
    with open(trace.log_path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _key(trace: TraceDir) -> dict:
    return {"format": FORMAT_VERSION, "log": _log_digest(trace), "cpu": cpu.SIGNATURE,
            "unicorn": _package_version("unicorn")}


# -- pickling with blobs ---------------------------------------------------------------------
class _BlobWriter:
    """Appends blobs to the blob file, once per content digest."""

    def __init__(self, f: io.BufferedWriter) -> None:
        self.f = f
        self.table: dict[bytes, tuple[int, int, bool]] = {}   # digest -> (offset, length, compressed)
        self.offset = 0

    def put(self, data: bytes) -> bytes:
        digest = hashlib.blake2b(data, digest_size=_DIGEST).digest()
        if digest not in self.table:
            packed = zlib.compress(data, 1)
            compressed = len(packed) < len(data)
            out = packed if compressed else data
            self.f.write(out)
            self.table[digest] = (self.offset, len(out), compressed)
            self.offset += len(out)
        return digest


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, blobs: _BlobWriter, shapes: dict[str, tuple[str, ...]]) -> None:
        super().__init__(file, protocol=5)
        self.blobs = blobs
        self.shapes = shapes

    def persistent_id(self, obj: object) -> object:
        if type(obj) is bytes and len(obj) >= MIN_BLOB:
            return self.blobs.put(obj)
        if type(obj) is tuple and len(obj) >= _MIN_RUN and all(
                p is None or (type(p) is bytes and len(p) >= MIN_BLOB) for p in obj):
            # A run of pages (an image's pages of one buffer): one blob of their
            # digests, itself stored once, so an unchanged buffer costs nothing.
            refs = b"".join(_NO_PAGE if p is None else self.blobs.put(p) for p in obj)
            return _RUN_TAG + self.blobs.put(refs)
        return None

    def reducer_override(self, obj: object) -> object:
        cls = type(obj)
        if cls.__module__.startswith("replay.") and hasattr(obj, "__dict__") and not isinstance(obj, type):
            self.shapes.setdefault(f"{cls.__module__}.{cls.__qualname__}", tuple(sorted(vars(obj))))
        return NotImplemented


class _ShapePickler(_Pickler):
    """Walks a value for its classes' shapes only: pages are not hashed or kept."""

    def persistent_id(self, obj: object) -> object:
        if type(obj) is bytes and len(obj) >= MIN_BLOB:
            return _NO_PAGE
        if type(obj) is tuple and len(obj) >= _MIN_RUN and all(
                p is None or (type(p) is bytes and len(p) >= MIN_BLOB) for p in obj):
            return _RUN_TAG + _NO_PAGE
        return None


def _shapes_of(value: object) -> dict[str, tuple[str, ...]]:
    shapes: dict[str, tuple[str, ...]] = {}
    _ShapePickler(io.BytesIO(), None, shapes).dump(value)     # type: ignore[arg-type]
    return shapes


_SAFE_BUILTINS = frozenset({"set", "frozenset", "bytearray", "complex", "slice", "range"})
_UC_CONTEXT = ("unicorn.unicorn_py3.unicorn", "UcContext")
_SAFE_OTHERS = frozenset({("copyreg", "_reconstructor"),
                          ("collections", "OrderedDict"), ("collections", "deque"),
                          ("collections", "defaultdict"), ("builtins", "object")})


_DISK_CONTEXTS: dict[type, type] = {}      # a cache of derived classes, not state


def _disk_context(cls: type) -> type:
    """Unicorn's UcContext as unpickled: owns no Unicorn allocation even when a
    damaged pickle never reaches __setstate__ (its __del__ would fail)."""
    derived = _DISK_CONTEXTS.get(cls)
    if derived is None:
        derived = _DISK_CONTEXTS[cls] = type("UcContextFromDisk", (cls,), {"_to_free": False})
    return derived


class _Unpickler(pickle.Unpickler):
    """Builds the engine's classes only: a trace's pickles come from strangers."""

    def __init__(self, data: bytes, load_blob: Callable[[bytes], bytes]) -> None:
        super().__init__(io.BytesIO(data))
        self._load_blob = load_blob

    def persistent_load(self, pid: object) -> object:
        if isinstance(pid, bytes) and len(pid) == _DIGEST + 1 and pid[:1] == _RUN_TAG:
            refs = self._load_blob(pid[1:])
            if len(refs) % _DIGEST:
                raise pickle.UnpicklingError("bad run of pages")
            return tuple(None if refs[i:i + _DIGEST] == _NO_PAGE else self._load_blob(refs[i:i + _DIGEST])
                         for i in range(0, len(refs), _DIGEST))
        if not isinstance(pid, bytes) or len(pid) != _DIGEST:
            raise pickle.UnpicklingError("bad blob reference")
        return self._load_blob(pid)

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == _UC_CONTEXT:
            return _disk_context(super().find_class(module, name))
        if (module == "builtins" and name in _SAFE_BUILTINS) or (module, name) in _SAFE_OTHERS:
            return super().find_class(module, name)
        if module.startswith("replay.") and "." not in name and not name.startswith("_"):
            obj = super().find_class(module, name)
            if isinstance(obj, type):
                return obj
        raise pickle.UnpicklingError(f"keyframes may not name {module}.{name}")


# -- the store ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyframeStats:
    count: int
    interval: int
    bytes_on_disk: int
    seconds: float
    blobs: int


class KeyframeStore:
    """Keyframes of one trace, loaded on demand."""

    def __init__(self, trace: TraceDir, table: dict) -> None:
        self.trace = trace
        self.interval: int = table["interval"]
        self.icounts: list[int] = list(table["icounts"])
        self.digests: list[bytes] = list(table["digests"])
        self._frames: list[bytes] = table["frames"]
        self._blob_table: dict[bytes, tuple[int, int, bool]] = table["blobs"]
        self.deliveries: dict[int, tuple] = {pid: tuple(ds) for pid, ds in table["deliveries"].items()}
        self.shapes: dict[str, tuple[str, ...]] = table["shapes"]
        self.end: int = table["end"]
        self._cache: dict[bytes, bytes] = {}
        self._cached = 0
        self._fd: int | None = None

    def __len__(self) -> int:
        return len(self.icounts)

    def at_or_before(self, icount: int) -> int | None:
        """The index of the last keyframe at or before `icount` (None: before the first)."""
        i = bisect.bisect_right(self.icounts, icount) - 1
        return i if i >= 0 else None

    def checkpoint(self, i: int) -> Checkpoint:
        """Keyframe i as a Checkpoint (identical pages are one object)."""
        try:
            cp = _Unpickler(self._frames[i], self._blob).load()
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError, IndexError,
                KeyError, ImportError) as exc:
            raise LogFormatError(f"{self.trace.path}: keyframe {i} is corrupt ({exc})") from None
        if not isinstance(cp, Checkpoint) or cp.icount != self.icounts[i]:
            raise LogFormatError(f"{self.trace.path}: keyframe {i} is corrupt")
        return cp

    def _blob(self, digest: bytes) -> bytes:
        data = self._cache.get(digest)
        if data is not None:
            return data
        where = self._blob_table.get(digest)
        if where is None:
            raise pickle.UnpicklingError("a blob is missing")
        offset, length, compressed = where
        if self._fd is None:
            self._fd = self.trace.open_member(DIR_NAME, BLOBS_NAME, f"{self.trace.path}: keyframes/{BLOBS_NAME}")
        raw = os.pread(self._fd, length, offset)
        if len(raw) != length:
            raise pickle.UnpicklingError("the blob file is short")
        try:
            data = zlib.decompress(raw) if compressed else raw
        except zlib.error:
            raise pickle.UnpicklingError("a blob does not decompress") from None
        if hashlib.blake2b(data, digest_size=_DIGEST).digest() != digest:
            raise pickle.UnpicklingError("a blob does not match its digest")
        if self._cached + len(data) > _CACHE_BYTES:
            self._cache.clear()               # a bound, not a policy: identical pages stay shared within a keyframe
            self._cached = 0
        self._cache[digest] = data
        self._cached += len(data)
        return data

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def bytes_on_disk(self) -> int:
        return _dir_size(self.trace)


def _dir_size(trace: TraceDir) -> int:
    path = os.path.join(trace.path, DIR_NAME)
    total = 0
    for name in (INDEX_NAME, BLOBS_NAME):
        try:
            total += os.lstat(os.path.join(path, name)).st_size
        except OSError:
            pass
    return total


def open_keyframes(trace: TraceDir, note: Note | None = None) -> KeyframeStore | None:
    """The trace's keyframes if they are present, intact and current; else None
    (with a note saying why, unless there are none at all)."""
    say = note or (lambda m: log.info("%s", m))
    if not os.path.lexists(os.path.join(trace.path, DIR_NAME)):
        return None
    try:
        data = trace.read_member(DIR_NAME, INDEX_NAME, f"{trace.path}: keyframes index", MAX_INDEX)
    except (OSError, LogFormatError) as exc:
        say(f"the keyframes of {trace.path} are unusable ({exc}); not used")
        return None
    head = len(MAGIC) + 4 + 32
    if len(data) < head or not data.startswith(MAGIC):
        say(f"the keyframes of {trace.path} are corrupt; not used")
        return None
    version = int.from_bytes(data[len(MAGIC):len(MAGIC) + 4], "little")
    if version != FORMAT_VERSION:
        say(f"the keyframes of {trace.path} are of another format ({version}); not used")
        return None
    body = data[head:]
    if hashlib.blake2b(body).digest()[:32] != data[len(MAGIC) + 4:head]:
        say(f"the keyframes of {trace.path} are corrupt (digest); not used")
        return None
    store_ref: list[KeyframeStore] = []
    try:
        table = _Unpickler(body, lambda d: store_ref[0]._blob(d)).load()
        if not isinstance(table, dict) or table.get("key") != _key(trace):
            say(f"the keyframes of {trace.path} are stale (another log, CPU or Unicorn); not used")
            return None
        store = KeyframeStore(trace, table)
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError, KeyError,
            ImportError, OSError) as exc:
        say(f"the keyframes of {trace.path} are corrupt ({exc}); not used")
        return None
    return store


def fingerprint(process: GuestProcess) -> bytes:
    """A cheap digest of a replay's state as restored: the count, then for every
    process (whichever one a timeline debugs) its machine's registers and memory
    map and each thread's saved registers.  (Memory bytes are checked blob by
    blob when loaded; a restore that lands in another CPU state, e.g. a Unicorn
    context of another layout, shows here.)"""
    h = hashlib.blake2b(digest_size=16)
    family = process.family
    h.update(process.icount.to_bytes(8, "little"))
    h.update(family.current.to_bytes(8, "little"))
    for pid in sorted(family.kernels):
        k = family.kernels[pid]
        m = k.machine
        h.update(f"pid {pid} tid {k.tid};".encode())
        for name in m.arch.hashed:          # the registers a state hash covers
            h.update(m.reg(name).to_bytes(16, "little"))
        for tid in sorted(k.state.threads):
            context = k.state.threads[tid].context
            if context is not None:
                h.update(f"thread {tid};".encode())
                for name in m.arch.hashed:
                    h.update(m.context_reg(context, name).to_bytes(16, "little"))
        for r in m.mem.regions():
            h.update(f"{r.start:x}-{r.end:x}:{r.prot}:{r.name};".encode())
    return h.digest()


def check_shapes(store: KeyframeStore, fresh: Checkpoint) -> bool:
    """Does every class of `fresh` (a checkpoint this engine takes now) have the
    attributes it had when the keyframes were saved?"""
    live = _shapes_of(fresh)
    return all(store.shapes.get(name, shape) == shape for name, shape in live.items())
