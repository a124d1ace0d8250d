"""Building keyframes: replay a trace once and store a checkpoint every K instructions.

The format, its checks and the loading side are keyframes.py; this module
drives the timeline to each keyframe's instruction count and writes them.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
import time
from collections.abc import Callable

from .errors import ReplayError
from .events import EventKind
from .keyframes import (
    BLOBS_NAME,
    DIR_NAME,
    FORMAT_VERSION,
    INDEX_NAME,
    MAGIC,
    KeyframeStats,
    KeyframeStore,
    Note,
    Progress,
    _BlobWriter,
    _dir_size,
    _key,
    _Pickler,
    choose_interval,
    fingerprint,
    open_keyframes,
)
from .replayer import OutputSink, Replay
from .timeline import Delivery, Timeline
from .trace import DIR_MODE, FILE_MODE, TraceDir


def build_keyframes(trace: TraceDir, *, interval: int | None = None, progress: Progress | None = None,
                    should_stop: Callable[[], bool] | None = None) -> KeyframeStats:
    """Replay the whole trace once and store its keyframes (replacing any)."""
    started = time.monotonic()
    replay = Replay(trace, OutputSink.quiet())
    try:
        tl = Timeline(replay, interval=1 << 62, near=1 << 62, budget=0)
        deliveries = _watch_deliveries(tl)
        assert tl._kernel.signal_gate is not None       # the first process's deliveries: the timeline's own
        total = _trace_end(tl)
        every = interval or choose_interval(total)
        final = os.path.join(trace.path, DIR_NAME)
        tmp = f"{final}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        os.mkdir(tmp, DIR_MODE)
        try:
            icounts: list[int] = []
            digests: list[bytes] = []
            frames: list[bytes] = []
            shapes: dict[str, tuple[str, ...]] = {}
            fd = os.open(os.path.join(tmp, BLOBS_NAME), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                         FILE_MODE)
            with os.fdopen(fd, "wb") as bf:
                blobs = _BlobWriter(bf)
                # The whole trace, every process (the first one may end before the others).
                for n in range(every, total, every):
                    replay.run(n, should_stop)
                    if should_stop is not None and should_stop():
                        raise KeyboardInterrupt
                    if tl.position != n or tl.process.exited:
                        break
                    cp = tl._capture()
                    buf = io.BytesIO()
                    _Pickler(buf, blobs, shapes).dump(cp)
                    icounts.append(n)
                    digests.append(fingerprint(tl.process))
                    frames.append(buf.getvalue())
                    tl.index.thin(n)
                    if progress is not None:
                        progress(n, total)
                replay.run(total, should_stop)
                deliveries[tl.pid] = list(tl.deliveries.values())
                table = {"key": _key(trace), "interval": every, "icounts": icounts, "digests": digests,
                         "frames": frames, "blobs": blobs.table, "deliveries": deliveries,
                         "shapes": shapes, "end": total}
            body = pickle.dumps(table, protocol=5)
            head = MAGIC + FORMAT_VERSION.to_bytes(4, "little") + hashlib.blake2b(body).digest()[:32]
            fd = os.open(os.path.join(tmp, INDEX_NAME), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                         FILE_MODE)
            with os.fdopen(fd, "wb") as f:
                f.write(head)
                f.write(body)
            if os.path.lexists(final):
                if os.path.islink(final) or not os.path.isdir(final):
                    os.unlink(final)
                else:
                    shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    except OSError as exc:
        raise ReplayError(f"cannot write the keyframes of {trace.path}: {exc.strerror}") from None
    finally:
        replay.close()
    return KeyframeStats(len(icounts), every, _dir_size(trace), time.monotonic() - started, len(blobs.table))


def _trace_end(tl: Timeline) -> int:
    """Where the whole recording ends (the first process may end earlier)."""
    for ev in reversed(tl.hostio.events):
        if ev.kind == EventKind.SHUTDOWN:
            return min(ev.icount, tl.replay.end_limit)
    return tl.end.icount


def _watch_deliveries(tl: Timeline) -> dict[int, list[Delivery]]:
    """Signal deliveries to handlers, by pid, in every process the replay makes
    but the timeline's own (the timeline notes those): a Timeline debugging
    another process adopts its process's list, as the ones keyframes skip over."""
    found: dict[int, list[Delivery]] = {}
    family = tl.process.family
    make = family._make_kernel

    def make_kernel(machine, pid):
        k = make(machine, pid)

        def gate(icount: int, infos: tuple) -> bool:
            found.setdefault(pid, []).append(
                Delivery(icount, tuple(i.signo for i in infos), infos[0].address is not None, k.machine.pc))
            return False                          # never held: the index replays straight on
        k.signal_gate = gate
        return k
    family._make_kernel = make_kernel
    return found


def ensure_keyframes(trace: TraceDir, note: Note | None = None, progress: Progress | None = None,
                     should_stop: Callable[[], bool] | None = None) -> KeyframeStore:
    """The trace's keyframes, building (or rebuilding) them first if needed."""
    store = open_keyframes(trace, note)
    if store is None:
        if note is not None and os.path.lexists(os.path.join(trace.path, DIR_NAME)):
            note(f"rebuilding the keyframes of {trace.path}")
        build_keyframes(trace, progress=progress, should_stop=should_stop)
        store = open_keyframes(trace, note)
        if store is None:
            raise ReplayError(f"cannot use the keyframes just built for {trace.path}")
    return store
