"""The guest's own /proc/self, answered from guest state alone.

Nothing of ttdbg's own process may show through /proc: while recording, the
host's /proc/self is ttdbg's Python interpreter.  So /proc/self,
/proc/thread-self and /proc/<the guest's pid> are one directory here, and
its files (and its listing) are built from the guest's state when opened (deterministic: the
replay builds the same bytes, with no event):

  maps      the guest address space (gdb's `info proc mappings` reads it too)
  exe       the guest's program, from the trace's captured copy
  cmdline   the guest memory between the start of argv and its end, as Linux
  environ   likewise for the environment
  comm      the program's name (PR_SET_NAME changes it)
  status    the basic fields: names, ids, pids, signal masks
  statm     the sizes of the address space, in pages
  stat      the fields of kernel state (times and memory sizes 0: see stat_text)
  fd/       a link per guest fd (pipe:[N], socket:[N], anon_inode:[eventfd], a path);
            the initial stdin/stdout/stderr links are the host's, read while recording
  fdinfo/   pos and flags of each guest fd

mountinfo, mounts and cgroup are the host's, read while recording (ttdbg and the
guest share the namespaces and the cgroup) and captured.  /proc/cpuinfo describes the emulated CPU (cpu.py).  Any other
file under it fails with ENOENT (and a warning), never the host's.
"""

from __future__ import annotations

import os
import stat as _stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..memory import PROT_EXEC, PROT_READ, PROT_WRITE, AddressSpace
from . import signals as sig
from .sysnames import SYSCALL_NUMBERS

if TYPE_CHECKING:
    from .kernel import LinuxKernel


def maps_text(mem: AddressSpace) -> bytes:
    """The /proc/PID/maps lines of the address space, merged like Linux's."""
    lines = []
    previous = None
    for r in mem.regions():
        perms = ("r" if r.prot & PROT_READ else "-") + ("w" if r.prot & PROT_WRITE else "-") \
            + ("x" if r.prot & PROT_EXEC else "-") + "p"
        current = [r.start, r.end, perms, r.name, r.file_offset, r.buf.key]
        # One mapping split into slices shows whole; so do neighbouring anonymous mappings
        # (Linux merges them).  Separate mappings of a file stay apart: after ld.so's
        # mprotect of RELRO, Linux keeps the once-writable part a mapping of its own.
        if previous is not None and previous[1] == r.start and previous[2:4] == current[2:4] \
                and (not r.file_backed or previous[5] == r.buf.key) \
                and r.file_offset == (previous[4] + r.start - previous[0] if r.file_backed else 0):
            previous[1] = r.end
            continue
        if previous is not None:
            lines.append(previous)
        previous = current
    if previous is not None:
        lines.append(previous)
    out = []
    for start, end, perms, name, file_offset, _buffer in lines:
        # The device and inode of a mapped file are not in the trace: 00:00 0, as for anonymous memory.
        head = f"{start:08x}-{end:08x} {perms} {file_offset:08x} 00:00 0"
        out.append(f"{head:<72} {name}".rstrip() if name else head)
    return ("\n".join(out) + "\n").encode()


def self_tail(path: str, pid: int) -> str | None:
    """For an absolute normalised path under the guest's own /proc directory,
    the rest of the path ("" for the directory itself); None otherwise."""
    for prefix in ("/proc/self", "/proc/thread-self", f"/proc/{pid}", f"/proc/{pid}/task/{pid}"):
        if path == prefix:
            return ""
        if path.startswith(prefix + "/"):
            return path[len(prefix) + 1:]
    return None


def lookup(k: LinuxKernel, path: str) -> tuple[LinuxKernel, str | None]:
    """The process whose /proc directory an absolute normalised path is under, and the rest
    of the path ("" for the directory itself): /proc/self, /proc/thread-self, or
    /proc/PID (and /proc/PID/task/TID) of any process of the recording; (k, None) otherwise."""
    tail = self_tail(path, k.pid)
    if tail is not None:
        return k, tail
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] == "proc" and parts[2].isdigit() and k.family is not None:
        pid = int(parts[2])
        owner = k.family.kernels.get(pid)
        if owner is not None:
            tail = self_tail(path, pid)
            if tail is not None:
                return owner, tail
    return k, None


def guest_pids(k: LinuxKernel) -> list[int]:
    """The pids of the recording's processes (live or not yet reaped), as /proc lists them."""
    return sorted(k.family.kernels) if k.family is not None else [k.pid]


def _memory_range(k: LinuxKernel, span: tuple[int, int]) -> bytes:
    start, end = span
    try:
        return k.mem.read(start, end - start) if end > start else b""
    except ValueError:
        return b""


def comm(k: LinuxKernel) -> bytes:
    """The task's name: PR_SET_NAME's, else the program file's base name (15 bytes at most)."""
    return k.thread_name(k.tid)


def _mask(bits: int) -> str:
    return f"{bits & ((1 << 64) - 1):016x}"


def _signal_dispositions(k: LinuxKernel) -> tuple[int, int]:
    """(ignored, caught) signal sets, bit N-1 for signal N."""
    ignored = caught = 0
    for signum, action in k.state.sigactions.items():
        if action.handler == sig.SIG_IGN:
            ignored |= 1 << (signum - 1)
        elif action.handler != sig.SIG_DFL:
            caught |= 1 << (signum - 1)
    return ignored, caught


def _thread_count(k: LinuxKernel) -> int:
    """Threads as /proc counts them: at least 1 (an ended process, stopped at its exit or a
    zombie, still shows the thread that ended it)."""
    return max(1, len(k.live_threads()))


def _status(k: LinuxKernel) -> bytes:
    """The guest's own /proc/self/status: running; a child's parent is a guest process (as
    getppid answers), the first process's is the host's (logged)."""
    state = {"R": "R (running)", "S": "S (sleeping)", "Z": "Z (zombie)"}[_state(k)]
    return status_text(k, _ppid(k), state, k.pid, comm(k))


def _state(k: LinuxKernel) -> str:
    """R for the process reading its own /proc, S for another (it waits: one runs at a time), Z once ended."""
    if k.state.exited is not None:
        return "Z"
    return "R" if k.family is None or k.family.running is k else "S"


def _ppid(k: LinuxKernel) -> int:
    """A child's parent is a guest process (as getppid answers), the first process's is the host's (logged)."""
    if k.state.ppid:
        return k.state.ppid
    # Asked by the process that runs (another's /proc/PID may be read): its count orders the log.
    caller = k.family.running if k.family is not None else k
    return caller.host_syscall(SYSCALL_NUMBERS["getppid"], lambda: (os.getppid(), ()))


def status_text(k: LinuxKernel, ppid: int, state: str, tid: int, name: bytes) -> bytes:
    """/proc/PID/status's basic fields (names, state, ids, pids, threads, signal masks),
    from kernel state alone, for task `tid` (the pid: the process's) named `name`."""
    ids = k.creds
    uids = (ids.user.real, ids.user.effective, ids.user.saved, ids.user.fs) if ids else (0, 0, 0, 0)
    gids = (ids.group.real, ids.group.effective, ids.group.saved, ids.group.fs) if ids else (0, 0, 0, 0)
    ignored, caught = _signal_dispositions(k)
    lines = [
        f"Name:\t{name.decode('utf-8', 'backslashreplace')}", f"Umask:\t{k.state.umask:04o}", f"State:\t{state}",
        f"Tgid:\t{k.pid}", "Ngid:\t0", f"Pid:\t{tid}", f"PPid:\t{ppid}", "TracerPid:\t0",
        "Uid:\t" + "\t".join(map(str, uids)), "Gid:\t" + "\t".join(map(str, gids)),
        "FDSize:\t64", f"Threads:\t{_thread_count(k)}",
        f"SigPnd:\t{_mask(0)}", f"ShdPnd:\t{_mask(k.thread.pending)}", f"SigBlk:\t{_mask(k.thread.sigmask)}",
        f"SigIgn:\t{_mask(ignored)}", f"SigCgt:\t{_mask(caught)}",
    ]
    return ("\n".join(lines) + "\n").encode()


def stat_text(k: LinuxKernel, ppid: int, state: str) -> bytes:
    """/proc/PID/stat's 52 fields as Linux prints them, from kernel state alone: ids,
    state, threads, signal sets, the brk, argv and environment spans.  What the trace
    does not hold is 0: the process group and session unless the program set its own,
    times and fault counts (a replay has no clock of its own), the memory sizes."""
    ignored, caught = _signal_dispositions(k)
    t = k.thread
    name = k.thread_name(k.pid).decode("utf-8", "backslashreplace")
    fields = [
        k.state.pgid, k.state.sid, 0, -1, 0,                 # pgrp session tty_nr tpgid flags
        0, 0, 0, 0, 0, 0, 0, 0,                               # minflt .. cstime
        20, 0, _thread_count(k), 0, 0, 0, 0,             # priority nice num_threads itreal starttime vsize rss
        (1 << 64) - 1, 0, 0, 0, 0, 0,                         # rsslim startcode endcode startstack kstkesp kstkeip
        t.pending, t.sigmask, ignored, caught,                # signal blocked sigignore sigcatch
        0, 0, 0, sig.SIGCHLD, 0, 0, 0, 0, 0, 0,               # wchan nswap cnswap exit_signal processor .. cguest_time
        0, 0, k.state.brk_start, *k.arg_span, *k.env_span, 0,  # start_data end_data start_brk arg/env spans exit_code
    ]
    return f"{k.pid} ({name}) {state} {ppid} {' '.join(map(str, fields))}\n".encode()


@dataclass(frozen=True)
class ProcFile:
    build: Callable[[LinuxKernel], bytes]
    mode: int = _stat.S_IFREG | 0o444
    sized: bool = False       # stat shows the content's size (exe); Linux's /proc text files show 0


FILES: dict[str, ProcFile] = {
    "maps": ProcFile(lambda k: maps_text(k.mem)),
    "exe": ProcFile(lambda k: k.exe_image, _stat.S_IFREG | 0o755, sized=True),
    "cmdline": ProcFile(lambda k: _memory_range(k, k.arg_span)),
    "environ": ProcFile(lambda k: _memory_range(k, k.env_span), _stat.S_IFREG | 0o400),
    "comm": ProcFile(lambda k: comm(k) + b"\n", _stat.S_IFREG | 0o644),
    "status": ProcFile(_status),
    "statm": ProcFile(lambda k: statm_text(k)),
    "stat": ProcFile(lambda k: stat_text(k, _ppid(k), _state(k))),
}

# What a debugger reads of the process stopped at a position of its replay (over gdb's
# vFile, /proc/PID/NAME or /proc/PID/task/TID/NAME), made from the kernel state there,
# the parent's pid and the task's tid.  Stopped under a debugger, Linux shows tracing stop.
DEBUGGER_FILES: dict[str, Callable[[LinuxKernel, int, int], bytes]] = {
    "maps": lambda k, ppid, tid: maps_text(k.mem),
    "status": lambda k, ppid, tid: status_text(k, ppid, "t (tracing stop)", tid, k.thread_name(tid)),
    "stat": lambda k, ppid, tid: stat_text(k, ppid, "t"),
}

# Files of /sys the guest must see as the emulated machine: one CPU, as
# sched_getaffinity and getcpu answer (glibc's get_nprocs and
# sysconf(_SC_NPROCESSORS_ONLN/CONF) read these).
SYS_FILES: dict[str, bytes] = {
    "/sys/devices/system/cpu/online": b"0\n",
    "/sys/devices/system/cpu/possible": b"0\n",
    "/sys/devices/system/cpu/present": b"0\n",
}


# -- /proc/self/fd, fdinfo, statm, mounts; /proc/cpuinfo ----------------------------------

DT_DIR, DT_REG, DT_LNK = 4, 8, 10
O_LARGEFILE, O_CLOEXEC_BIT = 0o100000, 0o2000000
_ANON_NAMES = {"EventFd": "[eventfd]", "TimerFd": "[timerfd]", "Epoll": "[eventpoll]", "SignalFd": "[signalfd]"}
# The names Linux has under /proc/PID: one that is not emulated fails with ENOENT and a
# warning; other names fail with ENOENT alone, as on Linux (procps probes /proc/self/ctty).
LINUX_NAMES = frozenset(
    "arch_status attr autogroup auxv cgroup clear_refs cmdline comm coredump_filter cpu_resctrl_groups cpuset cwd "
    "environ exe fd fdinfo gid_map io ksm_merging_pages ksm_stat latency limits loginuid map_files maps mem "
    "mountinfo mounts mountstats net ns numa_maps oom_adj oom_score oom_score_adj pagemap patch_state personality "
    "projid_map root sched schedstat sessionid setgroups smaps smaps_rollup stack stat statm status syscall task "
    "timens_offsets timers timerslack_ns uid_map wchan".split())
# Files read from the host while recording (the same for the guest as for ttdbg: one mount
# namespace), captured in the trace like any file.
HOST_FILES = frozenset({"mountinfo", "mounts", "cgroup"})

# The listing of /proc/PID: what is emulated (procfs.FILES, fd/, fdinfo/, HOST_FILES).
DIR_LISTING: tuple[tuple[bytes, int], ...] = ((b".", 4), (b"..", 4), *sorted(
    [(name.encode(), 8) for name in (*FILES, *HOST_FILES) if name != "exe"]
    + [(b"exe", 10), (b"fd", 4), (b"fdinfo", 4)]))


def fd_number(tail: str, folder: str) -> int | None:
    """N for a tail "folder/N" (fd/3), else None."""
    head, _, rest = tail.partition("/")
    return int(rest) if head == folder and rest.isdigit() and "/" not in rest else None


def fd_link(k: LinuxKernel, fd: int) -> bytes | None:
    """What /proc/self/fd/N names, for a guest fd (None: no such fd).  The initial stdin,
    stdout and stderr are the host's (callers read that link on the host, logged)."""
    f = k.fds.get(fd)
    if f is None:
        return None
    if f.pipe is not None:
        return f"pipe:[{f.handle - (f.pipe_end == 'w')}]".encode()
    if f.socket is not None:
        return f"socket:[{f.handle}]".encode()
    if f.anon is not None:
        return f"anon_inode:{_ANON_NAMES.get(type(f.anon).__name__, '[unknown]')}".encode()
    return f.path.encode("utf-8", "surrogateescape")


def fd_listing(k: LinuxKernel, folder: str, extra: int | None = None) -> tuple[tuple[bytes, int], ...]:
    """The entries of /proc/self/fd (links) or fdinfo (files); `extra`: an fd being opened."""
    fds = sorted({fd for fd, _f in k.fds.items()} | ({extra} if extra is not None else set()))
    dtype = DT_LNK if folder == "fd" else DT_REG
    return ((b".", DT_DIR), (b"..", DT_DIR), *((str(fd).encode(), dtype) for fd in fds))


def fdinfo_text(k: LinuxKernel, fd: int, pos: int) -> bytes | None:
    entry = k.fds.entry(fd)
    if entry is None:
        return None
    f = entry.file
    flags = f.flags | (O_CLOEXEC_BIT if entry.cloexec else 0) | (0 if f.pipe is not None else O_LARGEFILE)
    return f"pos:\t{pos}\nflags:\t0{k.machine.arch.open_flags_out(flags):o}\n".encode()


def statm_text(k: LinuxKernel) -> bytes:
    """size resident shared text lib data dt, in pages (every mapped page counts as resident)."""
    pages = shared = text = data = 0
    for r in k.mem.regions():
        n = r.size // 4096
        pages += n
        if r.file_backed or r.shared:
            shared += n
        if r.prot & PROT_EXEC and r.name == k.exe:
            text += n
        if r.prot & PROT_WRITE and not r.file_backed and not r.shared:
            data += n
    return f"{pages} {pages} {shared} {text} 0 {data} 0\n".encode()


_LINUX_FLAG_NAMES = {"sse3": "pni"}


def cpuinfo_text() -> bytes:
    """/proc/cpuinfo of the emulated x86-64 CPU: one processor, the flags CPUID advertises (cpu.py)."""
    from .. import cpu
    eax = cpu.cpuid(1, 0)[0]
    family, model, stepping = (eax >> 8) & 0xF, ((eax >> 4) & 0xF) | ((eax >> 12) & 0xF0), eax & 0xF
    brand = b"".join(r.to_bytes(4, "little") for leaf in (0x80000002, 0x80000003, 0x80000004)
                     for r in cpu.cpuid(leaf, 0)).rstrip(b"\0").decode()
    flags = " ".join(_LINUX_FLAG_NAMES.get(f.name, f.name) for f in cpu.FEATURES)
    rows = [("processor", "0"), ("vendor_id", "GenuineIntel"), ("cpu family", str(family)), ("model", str(model)),
            ("model name", brand), ("stepping", str(stepping)), ("physical id", "0"), ("siblings", "1"),
            ("core id", "0"), ("cpu cores", "1"), ("apicid", "0"), ("initial apicid", "0"), ("fpu", "yes"),
            ("fpu_exception", "yes"), ("cpuid level", str(cpu.cpuid(0, 0)[0])), ("wp", "yes"), ("flags", flags),
            ("bugs", ""), ("clflush size", "64"), ("cache_alignment", "64"),
            ("address sizes", "40 bits physical, 48 bits virtual"), ("power management", "")]
    return ("".join(f"{name:<16}: {value}".rstrip(" ") + "\n" if value else f"{name:<16}:\n"
                    for name, value in rows) + "\n").encode()
