"""The ttdbg engine: record and replay x86-64 Linux programs on Unicorn.

Knows nothing of gdb or of any user interface (see ARCHITECTURE.md).

Its public API is what this package exports; front ends (ttdbg/) import
from `replay` only, never from its submodules
(tests/test_architecture.py checks it):

- traces:     TraceDir, open_trace, create_trace, mark_latest, trace_root; Storage,
              trace_storage, pack_trace (captured files shared through the file store, `ttdbg pack`)
- recording:  record, resolve_program, read_program, follow_script, parse_elf, PIE_BASE,
              DEFAULT_SLICE (the scheduler's time slice, in instructions)
- the log:    read_log, LogContents, EventKind, FileKind
- replaying:  Replay, OutputSink
- time:       Timeline, TimeStop, StopReason, Direction, Watchpoint, WatchKind, open_guest
              (what a Timeline replays: a Linux Replay or a board's firmware, guest.py),
              MemoryRegion (Timeline.memory_map's rows); the Timeline also answers
              for guest state (registers, several at once with read_registers, memory,
              instructions, /proc files), so
              front ends never reach the machine or the kernel behind it
- code:       Instruction, shared_disassembler
- tasks:      ThreadInfo (Timeline.threads()'s rows), ProcessInfo and
              list_processes (a trace's processes, for `ttdbg ps`)
- keyframes:  build_keyframes, open_keyframes, ensure_keyframes, KeyframeStore, KeyframeStats
              (restorable states on disk in the trace; a Timeline given a store starts from them)
- queries:    scan, ScanSpec, ScanHit, ScanResult, WatchRange, default_jobs (every hit of
              traps over a range of the history, split at keyframes over a process pool or a
              Dask cluster; ScanSpec.probe looks at each stop and ScanSpec.finish makes each
              segment's hits into the caller's own rows, both picklable and run in the workers,
              so the engine knows nothing of the rows; ScanResult.cpu: each worker's CPU seconds)
- the kernel: SyscallKind, syscall_listing (the syscall table, for `info --syscalls`)
- boards:     record_board, replay_board, BoardReplay (forward to exact counts, save,
              restore: the seam for a timeline), check_firmware, is_board_trace, BOARDS, BoardResult (bare-metal
              firmware on an emulated board: replay/board/)
- architectures: ARCHES, Arch, DebugInfo, DebugRegister, arch_of (a trace's CPU as data:
              its `debug` part gives gdb's registers and target description, frame registers...)
- errors:     ReplayError (the base of every engine error), LogFormatError (a damaged or foreign trace),
              DiskFullError (no space left while recording),
              TraceTruncated
"""

from .arch import ARCHES, Arch, DebugInfo, DebugRegister, arch_of
from .board import BOARDS, BoardReplay, BoardResult, check_firmware, is_board_trace, record_board, replay_board
from .disasm import Instruction, shared_disassembler
from .errors import DiskFullError, LogFormatError, ReplayError, TraceTruncated
from .eventlog import LogContents, read_log
from .events import EventKind, FileKind
from .guests import open_guest
from .keyframe_builder import build_keyframes, ensure_keyframes
from .keyframes import KeyframeStats, KeyframeStore, open_keyframes
from .linux.signals import FORWARDED as FORWARDED_SIGNALS
from .linux.syscalls import Kind as SyscallKind
from .linux.syscalls import listing as syscall_listing
from .linux.tasks import ProcessInfo, ThreadInfo
from .loader import PIE_BASE, parse_elf
from .machine import WatchKind, Watchpoint
from .packing import pack_trace, trace_storage
from .process_tree import list_processes
from .recorder import follow_script, read_program, record, resolve_program
from .replayer import OutputSink, Replay
from .scan import ScanHit, ScanResult, ScanSpec, WatchRange, default_jobs, scan
from .scheduler import DEFAULT_SLICE
from .timeline import Direction, MemoryRegion, StopReason, Timeline, TimeStop
from .trace import Storage, TraceDir, create_trace, mark_latest, open_trace, trace_root

__all__ = [
    "DEFAULT_SLICE", "DiskFullError", "FORWARDED_SIGNALS",
    "PIE_BASE", "Direction", "EventKind", "FileKind", "Instruction", "LogContents",
    "LogFormatError", "MemoryRegion", "OutputSink", "ProcessInfo", "Replay", "ReplayError", "StopReason", "SyscallKind",
    "ThreadInfo", "TimeStop", "Timeline", "TraceDir", "TraceTruncated", "WatchKind", "Watchpoint", "create_trace",
    "list_processes",
    "mark_latest", "open_trace", "parse_elf", "read_log", "read_program", "record", "follow_script", "resolve_program",
    "shared_disassembler", "syscall_listing", "trace_root", "Storage", "pack_trace", "trace_storage",
    "KeyframeStats", "KeyframeStore", "build_keyframes", "ensure_keyframes", "open_keyframes",
    "ARCHES", "Arch", "DebugInfo", "DebugRegister", "arch_of",
    "ScanHit", "ScanResult", "ScanSpec", "WatchRange", "default_jobs", "scan",
    "BOARDS", "BoardReplay", "BoardResult", "check_firmware", "is_board_trace", "record_board", "replay_board",
    "open_guest",
]
