"""Scans: run a range of the recorded history with traps armed, and collect every hit.

The engine half of omniscient queries (the front end's query.py turns a
question into a `ScanSpec` and the hits into answers).  A scan of
[start, end) is split at keyframes (keyframes.py) into segments; each
segment restores its first keyframe and replays to its end with the traps
armed, in a process pool (`jobs`), and the hits are merged in
instruction-count order.  Segments are exact and independent, so the
answer does not depend on how many workers ran it.

Traps:
  - `collect`: addresses whose every execution is noted (icount, pc), with
    the machine never stopping (exec, lines);
  - `stops`: addresses where the replay stops, and `probe(timeline, hit)`
    looks at registers and memory there and returns what to keep (calls,
    values); the probe must be picklable (it runs in the workers);
  - `watches`: memory ranges whose writes and/or reads are noted.  Unicorn
    calls the hook for accesses *starting* in its range, so the hook range
    begins 15 bytes early and accesses are kept if they overlap.  Only
    accesses in those ranges reach Python: other code runs at replay speed
    (measured: a bounded write hook costs nothing visible off its range,
    where write-protecting the page costs a Python fault per store to the
    page; see README "In parallel").
    For writes, the watched range's bytes before and after each write come
    from a shadow copy read at the segment's start and updated write by write.

Finishing in the workers: with `ScanSpec.finish`, each segment's hits (in
order, threads named) go to `finish(timeline, hits)` in the worker that found
them, and the list it returns takes their place: `on_part` gets it and the
result's `hits` is the concatenation.  The front end turns hits into its own
rows there, in parallel, so the parent only merges parts in instruction-count
order.  `finish` must be picklable (a module-level class or function): the
engine knows nothing of what it makes.  The same holds on a Dask cluster.

Each segment also reports the CPU seconds it took in its worker (the scan and
the finishing); `ScanResult.cpu` sums them per worker, so a caller can tell the
serial work from the parallel part on a busy machine.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .errors import ReplayError
from .keyframes import KeyframeStore, open_keyframes
from .machine import WatchKind, Watchpoint
from .replayer import OutputSink, Replay
from .scan_cluster import Cluster, check_address
from .timeline import Timeline
from .trace import TraceDir

SMALL_SCAN = 1 << 23  # instructions: below this a scan runs in-process unless told otherwise
_REACH = 15          # an access of up to 16 bytes starting this far before a range overlaps it


@dataclass(frozen=True)
class WatchRange:
    address: int
    length: int
    kind: str = "write"          # write, read, access


@dataclass(frozen=True)
class ScanSpec:
    collect: frozenset[int] = frozenset()
    stops: frozenset[int] = frozenset()
    watches: tuple[WatchRange, ...] = ()
    reads_everywhere: bool = False   # every read by every instruction, with the value read (origin's windows)
    probe: Callable[[Timeline, "ScanHit"], object] | None = None
    # finish(timeline, hits) -> list: a segment's hits made into what the caller wants, in its worker
    finish: Callable[[Timeline, list["ScanHit"]], list] | None = None


@dataclass(slots=True)
class ScanHit:
    """One trap hit; icount is the position before the instruction at pc.  Read-only
    by convention (not frozen: a frozen dataclass takes 3 us to make, and a scan
    makes one per hit)."""

    icount: int
    pc: int
    kind: str                        # exec, stop, write, read, syscall (a system call wrote the range)
    address: int = 0                 # the access (writes, reads)
    size: int = 0
    watch: int = -1                  # index of the WatchRange
    old: bytes = b""                 # the watched range before the write (reads: as read)
    new: bytes = b""                 # the watched range after the write
    data: object = None              # the probe's answer (stops); syscall: (event index, rsi before it)
    thread: int = 0                  # the tid that ran the instruction (syscall: made the call)


@dataclass
class ScanResult:
    hits: list                       # ScanHits, or what spec.finish made of them
    scanned: int
    seconds: float
    workers: int
    segments: int
    notes: list[str] = field(default_factory=list)
    count: int = 0                   # hits found (also those handed to on_part and not kept)
    cpu: dict[str, float] = field(default_factory=dict)   # "host:pid" of a worker -> its CPU seconds
    cpu_here: float = 0.0            # of those, the seconds of segments run in this process (jobs 1)


@dataclass(frozen=True)
class _SegmentAnswer:
    """What a worker sends back for one segment."""

    part: list                       # the hits, or what spec.finish made of them
    count: int                       # hits found
    scanned: int                     # instructions
    notes: list[str]
    worker: str                      # "host:pid"
    cpu: float                       # CPU seconds of this segment in its worker
    cpu_total: float                 # the worker process's CPU seconds so far (a pool worker: its whole life)


def _segments(store: KeyframeStore | None, start: int, end: int, tasks: int) -> list[tuple[int, int]]:
    """Split [start, end) at keyframes into about `tasks` segments of similar length."""
    cuts = [k for k in (store.icounts if store is not None else []) if start < k < end]
    if tasks <= 1 or not cuts:
        return [(start, end)]
    step = (end - start) / tasks
    chosen: list[int] = []
    for t in range(1, tasks):
        goal = start + t * step
        best = min(cuts, key=lambda k: abs(k - goal))
        if (not chosen or best > chosen[-1]) and start < best < end:
            chosen.append(best)
    bounds = [start, *chosen, end]
    return list(zip(bounds, bounds[1:]))


def _watchpoints(spec: ScanSpec) -> set[Watchpoint]:
    out = set()
    for w in spec.watches:
        begin = max(0, w.address - _REACH)
        # Reads are watched with writes too: the writes keep the shadow (the values read) current.
        kind = WatchKind.WRITE if w.kind == "write" else WatchKind.ACCESS
        out.add(Watchpoint(begin, w.address + w.length - begin, kind))
    return out


def scan_segment(trace_path: str, spec: ScanSpec, start: int, end: int,
                 pid: int | None = None) -> tuple[list[ScanHit], int, list[str]]:
    """Scan [start, end) of process `pid` (None: the first) of one trace in this
    process: (hits, instructions, notes).  spec.finish is not applied."""
    hits, _count, n, notes = _run_segment(trace_path, spec, start, end, pid, finish=False)
    return hits, n, notes


def _run_segment(trace_path: str, spec: ScanSpec, start: int, end: int, pid: int | None,
             finish: bool = True) -> tuple[list, int, int, list[str]]:
    """Scan one segment, then (`finish`) apply spec.finish to its hits with the
    segment's timeline: (part, hits found, instructions, notes)."""
    trace = TraceDir(trace_path)
    notes: list[str] = []
    store = open_keyframes(trace, notes.append)
    replay = Replay(trace, OutputSink.quiet())
    try:
        tl = Timeline(replay, interval=1 << 62, near=1 << 62, budget=1 << 40, keyframes=store, pid=pid)
        hits, n, notes = _scan(tl, spec, start, end, notes)
        part = spec.finish(tl, hits) if finish and spec.finish is not None else hits
        return part, len(hits), n, notes
    finally:
        replay.close()
        if store is not None:
            store.close()


class _ProbingHits(list):
    """The machine's hit list during a scan: a breakpoint hit at a `stops`
    address runs the probe at once, inside the code hook (registers and memory
    are those before the instruction), so the machine never has to stop."""

    def __init__(self, tl: Timeline, spec: ScanSpec) -> None:
        super().__init__()
        self.tl = tl
        self.spec = spec
        self.data: dict[tuple[int, int], object] = {}

    def append(self, hit) -> None:               # type: ignore[override]
        super().append(hit)
        spec = self.spec
        if spec.reads_everywhere and hit.watch is not None and not hit.is_write:
            try:
                self.data[(hit.icount, hit.address)] = self.tl.read_memory(hit.address, hit.size)
            except Exception:                    # noqa: BLE001 - inside a Unicorn hook
                pass
            return
        if hit.watch is None and hit.pc in spec.stops and spec.probe is not None:
            try:
                self.data[(hit.icount, hit.pc)] = spec.probe(self.tl, ScanHit(hit.icount, hit.pc, "stop"))
            except Exception as exc:             # noqa: BLE001 - inside a Unicorn hook: keep it as the hit's answer
                self.data[(hit.icount, hit.pc)] = ("error", str(exc), 0)


def _scan(tl: Timeline, spec: ScanSpec, start: int, end: int, notes: list[str]) -> tuple[list[ScanHit], int, list[str]]:
    # Only the debugged process's history: its machine alone is hooked, so the
    # other processes' instructions (and their memory) are never seen.
    end = min(end, tl.end.icount)
    start = max(start, tl.start)
    if start >= end:
        return [], 0, notes
    tl.seek(start)
    if tl.position != start:
        return [], 0, notes
    shadows = []
    for w in spec.watches:
        shadows.append(bytearray(tl.read_memory_prefix(w.address, w.length).ljust(w.length, b"\0")))
    machine = tl._machine
    tl.breakpoints = set(spec.collect) | set(spec.stops)
    tl.watchpoints = _watchpoints(spec)
    if spec.reads_everywhere:
        tl.watchpoints.add(Watchpoint(1, (1 << 47) - 2, WatchKind.READ))
    hits: list[ScanHit] = []
    saved = machine.hits
    probing = machine.hits = _ProbingHits(tl, spec)
    try:
        tl._arm(True)
        machine.flush_translations()     # hooks apply only to code translated after them
        machine.collect_hits = True
        machine.skip_breakpoint_icount = -1
        done = 0
        # The thread of each hit: the one the log's switches say ran that instruction.
        runner = tl.runner
        stops, data = spec.stops, probing.data

        def take(limit: int) -> None:
            nonlocal done
            for h in probing[done:]:
                if h.icount >= limit or h.icount < start:
                    continue
                if h.watch is None:
                    kind = "stop" if h.pc in stops else "exec"
                    hits.append(ScanHit(h.icount, h.pc, kind, data=data.get((h.icount, h.pc)),
                                        thread=runner(h.icount)))
                elif spec.reads_everywhere:
                    value = data.get((h.icount, h.address))
                    if value is not None:
                        hits.append(ScanHit(h.icount, h.pc, "read", h.address, h.size, old=value, new=value,
                                            thread=runner(h.icount)))
                else:
                    hits.extend(_access(spec, shadows, h, runner))
            done = len(probing)

        # System calls write memory without a hooked access: compare the watched
        # ranges across each one (the event's count is the syscall's own).
        events = tl.hostio.events
        marks = [(i, e.icount) for i, e in enumerate(events) if start < e.icount <= end] if spec.watches else []
        for index, at in marks:
            if tl.position < at - 1:
                tl._run(at - 1, None)
            if tl.position != at - 1 or tl.process.exited:
                continue
            buffer, pc = tl.read_register(tl.arch.syscall_args[1]), tl.pc
            tl._run(at, None)
            take(at)
            for i, w in enumerate(spec.watches):
                now = tl.read_memory_prefix(w.address, w.length).ljust(w.length, b"\0")
                if now != bytes(shadows[i]):
                    changed = [k for k in range(w.length) if now[k] != shadows[i][k]]
                    lo, hi = changed[0], changed[-1] + 1
                    hits.append(ScanHit(at - 1, pc, "syscall", w.address + lo, hi - lo, i, bytes(shadows[i]), now,
                                        data=(index, buffer), thread=runner(at - 1)))
                    shadows[i][:] = now
        tl._run(end, None)
        while tl.position < end and tl.held_signal and not tl.process.exited:
            tl._run(end, None)                   # a delivery held at the gate: make it and go on
        take(end)
    finally:
        machine.hits = saved
        machine.collect_hits = False
        machine.skip_breakpoint_icount = -1
        tl.breakpoints = set()
        tl.watchpoints = set()
        tl._arm(False)
    for i, w in enumerate(spec.watches):
        if tl.position == end:
            now = tl.read_memory_prefix(w.address, w.length).ljust(w.length, b"\0")
            if now != bytes(shadows[i]):
                notes.append(f"the range at {w.address:#x} was also changed by something unseen "
                             f"between instructions {start:,} and {end:,} (not listed)")
    hits.sort(key=lambda h: (h.icount, h.kind))
    return hits, tl.position - start, notes


def _access(spec: ScanSpec, shadows: list[bytearray], h, runner: Callable[[int], int]) -> list[ScanHit]:
    out = []
    address, size, icount = h.address, h.size, h.icount
    end = address + size
    for i, w in enumerate(spec.watches):
        begin = w.address
        lo = address if address > begin else begin
        hi = w.address + w.length
        if end < hi:
            hi = end
        if lo >= hi:
            continue
        shadow = shadows[i]
        if h.is_write:
            old = bytes(shadow)
            if size <= 8:
                data = (h.value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                shadow[lo - begin:hi - begin] = data[lo - address:hi - address]
            if w.kind != "read":
                out.append(ScanHit(icount, h.pc, "write", address, size, i, old, bytes(shadow), thread=runner(icount)))
        elif w.kind != "write":
            now = bytes(shadow)
            out.append(ScanHit(icount, h.pc, "read", address, size, i, now, now, thread=runner(icount)))
    return out


def _worker(args: tuple[str, ScanSpec, int, int, int | None]) -> _SegmentAnswer:
    began = time.process_time()
    part, count, n, notes = _run_segment(*args)
    now = time.process_time()
    return _SegmentAnswer(part, count, n, notes, _worker_name(), now - began, now)


def _pool_context(spec: ScanSpec):
    """fork when this process runs one thread (the CLI): the workers start at once with
    everything imported, and with what the caller's probe and finish cached (parsed
    symbols); otherwise (a gdb server's or a test's threads) a fork server that has
    imported the engine and the modules of the probe and finish."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["replay", *sorted({f.__module__ for f in (spec.probe, spec.finish)
                                                   if f is not None and getattr(f, "__module__", None)})])
    return ctx


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def scan(trace: TraceDir, spec: ScanSpec, start: int = 0, end: int | None = None, *, jobs: int | None = None,
         store: KeyframeStore | None = None, pid: int | None = None, cluster: str | None = None,
         on_part: Callable[[list], None] | None = None) -> ScanResult:
    """Scan [start, end) of `trace` (end None: to the end) with `jobs` workers,
    in process `pid` (None: the first): hits of that process only.  With
    `cluster` (a Dask scheduler's address) the segments run there instead, as
    many as the pool would have with `jobs` (default: 2 per connected worker).
    With `on_part`, each segment's hits (or what spec.finish made of them) go
    to it as soon as they and all earlier ones are in, in instruction-count
    order, and are not kept (the result's `hits` is empty, `count` says how
    many there were)."""
    started = time.monotonic()
    if jobs is not None and jobs < 1:
        raise ReplayError("--jobs must be at least 1")
    if cluster is not None:
        check_address(cluster)       # before any replay: a typo is one line at once
    total = store.end if store is not None else None
    if total is None:
        replay = Replay(trace, OutputSink.quiet())
        try:
            total = Timeline(replay, pid=pid).end.icount
        finally:
            replay.close()
    end = total if end is None else min(end, total)
    start = max(0, min(start, end))
    if cluster is not None:
        remote = Cluster(cluster)
        workers = jobs or remote.workers
        segments = _segments(store, start, end, 2 * workers)
        tasks = [(os.path.abspath(trace.path), spec, a, b, pid) for a, b in segments]
        return _merge(remote.map(_worker, tasks), started, min(workers, len(tasks)), len(segments), on_part)
    if jobs is None:       # by default all cores, unless the range is too short to pay for starting workers
        jobs = default_jobs() if end - start >= SMALL_SCAN else 1
    segments = _segments(store, start, end, 1 if jobs == 1 else jobs * 2)
    tasks = [(trace.path, spec, a, b, pid) for a, b in segments]
    if jobs == 1 or len(tasks) == 1:
        return _merge(map(_worker, tasks), started, 1, len(segments), on_part)
    workers = min(jobs, len(tasks))
    with _pool_context(spec).Pool(workers) as pool:
        return _merge(pool.imap(_worker, tasks, chunksize=1), started, workers, len(segments), on_part, True)


def _merge(results: Iterable[_SegmentAnswer], started: float, workers: int, segments: int,
           on_part: Callable[[list], None] | None = None, lifetime: bool = False) -> ScanResult:
    """The segments' answers, taken one by one as they come, in instruction-count
    order (segments are consecutive and each is sorted by its worker).  CPU: each
    worker's segments summed; `lifetime` (pool workers, started for this scan):
    the worker's whole life, its start included."""
    hits: list = []
    scanned = count = 0
    notes: list[str] = []
    cpu: dict[str, float] = {}
    here = _worker_name()
    cpu_here = 0.0
    for answer in results:
        count += answer.count
        if on_part is not None:
            on_part(answer.part)
        else:
            hits.extend(answer.part)
        scanned += answer.scanned
        notes.extend(m for m in answer.notes if m not in notes)
        if lifetime:
            cpu[answer.worker] = max(cpu.get(answer.worker, 0.0), answer.cpu_total)
        else:
            cpu[answer.worker] = cpu.get(answer.worker, 0.0) + answer.cpu
        if answer.worker == here:
            cpu_here += answer.cpu
    return ScanResult(hits, scanned, time.monotonic() - started, workers, segments, notes, count, cpu, cpu_here)
