"""Every system call the emulated kernel knows, in one table.

One row per call: its name, its handler, how it is answered (its class) and
a note for users.  Rows are keyed by name, never by number: the numbers are
per-architecture data (sysnames.py for x86-64), and `dispatch_table` joins
the two, so another architecture's number table reuses these rows.  A call
that is not in the table is unsupported: it returns -ENOSYS and the kernel
warns once, naming it.

The classes (in the spirit of rr's src/syscalls.py):
  emulated  answered from the guest's own state; deterministic, no event
  recorded  reaches the host while recording; the result (and the memory it
            wrote) is logged, and replay answers from the log
  refused   always fails on purpose, with the errno and reason in the note
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import (
    sys_creds,
    sys_dirs,
    sys_epoll,
    sys_eventfd,
    sys_fdio,
    sys_fds,
    sys_lifecycle,
    sys_memory,
    sys_metadata,
    sys_open,
    sys_poll,
    sys_process,
    sys_signalfd,
    sys_signals,
    sys_sockets,
    sys_threads,
    sys_time,
    sys_timerfd,
    sys_timers,
)
from .abi import Handler, enosys_quiet, zero
from .sysnames import SYSCALL_NAMES, SYSCALL_NUMBERS


class Kind(enum.Enum):
    EMULATED = "emulated"
    RECORDED = "recorded"
    REFUSED = "refused"
    UNSUPPORTED = "unsupported"     # not in the table: -ENOSYS and a warning


@dataclass(frozen=True)
class Syscall:
    name: str
    handler: Handler
    kind: Kind
    note: str = ""


class DuplicateSyscall(ValueError):
    """Two rows of a syscall table name the same call."""


E, R, X = Kind.EMULATED, Kind.RECORDED, Kind.REFUSED
_RLIMITS = "the host's limits until set; kept per process, NOFILE enforced (EMFILE)"
_LOCAL_FILES = "captured files and in-guest pipes are answered locally"
_HOST_FS = "done on the host while recording only"
_FROM_IDS = "from the recorded ids, Linux's rules"
_NO_CHANGE = f"{_FROM_IDS}; a real change is refused with ENOSYS"
_ITIMER = "a CLOCK event; SIGALRM is an ASYNC_SIGNAL event at the instruction where it was delivered"
_EPOLL = ("guest files answered locally (timers read their clock); host files polled while recording, "
          "the answer logged; EPOLLET reported level-triggered")
_SOCKETS = "AF_UNIX, AF_INET, AF_INET6, AF_NETLINK: a host socket while recording; others ENOSYS, with a warning"
_SOCKET_CALLS = "on the host socket while recording, every byte and result logged; ENOTSOCK on non-sockets"

SYSCALLS: tuple[Syscall, ...] = (
    # -- opening and closing (sys_open.py)
    Syscall("open", sys_open.sys_open, R, "/proc/self/maps is built from guest state"),
    Syscall("openat", sys_open.sys_openat, R, "/proc/self/maps is built from guest state"),
    Syscall("creat", sys_open.sys_creat, R),
    Syscall("close", sys_open.sys_close, E),
    Syscall("close_range", sys_open.sys_close_range, E),
    # -- reading and writing (sys_fdio.py)
    Syscall("read", sys_fdio.sys_read, R, _LOCAL_FILES),
    Syscall("write", sys_fdio.sys_write, R, "in-guest pipes are answered locally"),
    Syscall("pread64", sys_fdio.sys_pread64, R, _LOCAL_FILES),
    Syscall("pwrite64", sys_fdio.sys_pwrite64, R),
    Syscall("readv", sys_fdio.sys_readv, R, _LOCAL_FILES),
    Syscall("writev", sys_fdio.sys_writev, R, "in-guest pipes are answered locally"),
    Syscall("lseek", sys_fdio.sys_lseek, R, "captured files and directories are answered locally"),
    Syscall("ftruncate", sys_fdio.sys_ftruncate, R),
    Syscall("fsync", sys_fdio.sys_fsync, R, "synced on the host while recording; pipes EINVAL"),
    Syscall("fdatasync", sys_fdio.sys_fdatasync, R, "synced on the host while recording; pipes EINVAL"),
    Syscall("truncate", sys_fdio.sys_truncate, R, _HOST_FS),
    Syscall("fallocate", sys_fdio.sys_fallocate, R, f"{_HOST_FS}; pipes ESPIPE"),
    Syscall("sync_file_range", sys_fdio.sys_sync_file_range, R, f"{_HOST_FS}; pipes ESPIPE"),
    Syscall("syncfs", sys_fdio.sys_syncfs, R, _HOST_FS),
    Syscall("sync", sys_fdio.sys_sync, R, _HOST_FS),
    Syscall("fadvise64", sys_fdio.sys_fadvise, E, "advice accepted"),
    Syscall("sendfile", sys_fdio.sys_sendfile, R, "a read then a write, each recorded"),
    Syscall("copy_file_range", sys_fdio.sys_copy_file_range, R,
            "a read then a write; EINVAL with an output offset"),
    # -- descriptors (sys_fds.py)
    Syscall("dup", sys_fds.sys_dup, E),
    Syscall("dup2", sys_fds.sys_dup2, E),
    Syscall("dup3", sys_fds.sys_dup3, E),
    Syscall("fcntl", sys_fds.sys_fcntl, R, "locks are taken on the host file while recording; "
            "on pipes ENOSYS, with a warning"),
    Syscall("flock", sys_fds.sys_flock, R, "taken on the host file while recording; on pipes ENOSYS, with a warning"),
    Syscall("pipe", sys_fds.sys_pipe, E),
    Syscall("pipe2", sys_fds.sys_pipe2, E),
    Syscall("ioctl", sys_fds.sys_ioctl, R, "terminal requests only; others ENOTTY with a warning"),
    # -- readiness (sys_poll.py)
    Syscall("poll", sys_poll.sys_poll, R, _LOCAL_FILES),
    Syscall("ppoll", sys_poll.sys_ppoll, R, _LOCAL_FILES),
    Syscall("select", sys_poll.sys_select, R, _LOCAL_FILES),
    Syscall("pselect6", sys_poll.sys_pselect6, R, _LOCAL_FILES),
    # -- event loops (sys_epoll.py, sys_eventfd.py, sys_timerfd.py)
    Syscall("epoll_create", sys_epoll.sys_epoll_create, E),
    Syscall("epoll_create1", sys_epoll.sys_epoll_create1, E),
    Syscall("epoll_ctl", sys_epoll.sys_epoll_ctl, E),
    Syscall("epoll_wait", sys_epoll.sys_epoll_wait, R, _EPOLL),
    Syscall("epoll_pwait", sys_epoll.sys_epoll_pwait, R, f"{_EPOLL}; the signal mask applied during the wait"),
    Syscall("epoll_pwait2", sys_epoll.sys_epoll_pwait2, R, f"{_EPOLL}; the signal mask applied during the wait"),
    Syscall("eventfd", sys_eventfd.sys_eventfd, E, "a counter in the kernel"),
    Syscall("eventfd2", sys_eventfd.sys_eventfd2, E, "a counter in the kernel"),
    Syscall("signalfd", sys_signalfd.sys_signalfd, E, "self-sent signals and the interval timer's SIGALRM"),
    Syscall("signalfd4", sys_signalfd.sys_signalfd4, E, "self-sent signals and the interval timer's SIGALRM"),
    Syscall("timerfd_create", sys_timerfd.sys_timerfd_create, E, "alarm clocks ENOSYS, with a warning"),
    Syscall("timerfd_settime", sys_timerfd.sys_timerfd_settime, R, "a CLOCK event"),
    Syscall("timerfd_gettime", sys_timerfd.sys_timerfd_gettime, R, "a CLOCK event"),
    # -- metadata (sys_metadata.py)
    Syscall("stat", sys_metadata.sys_stat, R),
    Syscall("fstat", sys_metadata.sys_fstat, R, "pipes and /proc files get a synthetic stat"),
    Syscall("lstat", sys_metadata.sys_lstat, R),
    Syscall("newfstatat", sys_metadata.sys_newfstatat, R),
    Syscall("statx", sys_metadata.sys_statx, R),
    Syscall("access", sys_metadata.sys_access, R),
    Syscall("faccessat", sys_metadata.sys_faccessat, R),
    Syscall("faccessat2", sys_metadata.sys_faccessat2, R),
    Syscall("readlink", sys_metadata.sys_readlink, R, "/proc/self/exe from the trace"),
    Syscall("readlinkat", sys_metadata.sys_readlinkat, R, "/proc/self/exe from the trace"),
    Syscall("chmod", sys_metadata.sys_chmod, R, _HOST_FS),
    Syscall("fchmodat", sys_metadata.sys_fchmodat, R, _HOST_FS),
    Syscall("fchmodat2", sys_metadata.sys_fchmodat2, R, _HOST_FS),
    Syscall("fchmod", sys_metadata.sys_fchmod, R, f"{_HOST_FS}; in-guest pipes: 0"),
    Syscall("chown", sys_metadata.sys_chown, R, f"{_HOST_FS}; EPERM unprivileged, as the host says"),
    Syscall("lchown", sys_metadata.sys_lchown, R, f"{_HOST_FS}; EPERM unprivileged, as the host says"),
    Syscall("fchown", sys_metadata.sys_fchown, R, f"{_HOST_FS}; EPERM unprivileged, as the host says"),
    Syscall("fchownat", sys_metadata.sys_fchownat, R, f"{_HOST_FS}; EPERM unprivileged, as the host says"),
    Syscall("utimensat", sys_metadata.sys_utimensat, R, _HOST_FS),
    Syscall("futimesat", sys_metadata.sys_futimesat, R, _HOST_FS),
    Syscall("utimes", sys_metadata.sys_utimes, R, _HOST_FS),
    Syscall("utime", sys_metadata.sys_utime, R, _HOST_FS),
    Syscall("setxattr", sys_metadata.sys_setxattr, R, _HOST_FS),
    Syscall("lsetxattr", sys_metadata.sys_lsetxattr, R, _HOST_FS),
    Syscall("fsetxattr", sys_metadata.sys_fsetxattr, R, f"{_HOST_FS}; pipes EOPNOTSUPP"),
    Syscall("removexattr", sys_metadata.sys_removexattr, R, _HOST_FS),
    Syscall("lremovexattr", sys_metadata.sys_lremovexattr, R, _HOST_FS),
    Syscall("fremovexattr", sys_metadata.sys_fremovexattr, R, f"{_HOST_FS}; pipes EOPNOTSUPP"),
    Syscall("flistxattr", sys_metadata.sys_flistxattr, R, "pipes: none"),
    Syscall("statfs", sys_metadata.sys_statfs, R),
    Syscall("fstatfs", sys_metadata.sys_fstatfs, R),
    Syscall("getxattr", sys_metadata.sys_getxattr, R),
    Syscall("lgetxattr", sys_metadata.sys_lgetxattr, R),
    Syscall("fgetxattr", sys_metadata.sys_fgetxattr, R),
    Syscall("listxattr", sys_metadata.sys_listxattr, R),
    Syscall("llistxattr", sys_metadata.sys_llistxattr, R),
    # -- directories and names (sys_dirs.py)
    Syscall("getdents64", sys_dirs.sys_getdents64, R),
    Syscall("getcwd", sys_dirs.sys_getcwd, E),
    Syscall("chdir", sys_dirs.sys_chdir, R, "the check is recorded; the directory is kernel state"),
    Syscall("fchdir", sys_dirs.sys_fchdir, E),
    Syscall("mkdir", sys_dirs.sys_mkdir, R, _HOST_FS),
    Syscall("mkdirat", sys_dirs.sys_mkdirat, R, _HOST_FS),
    Syscall("rmdir", sys_dirs.sys_rmdir, R, _HOST_FS),
    Syscall("unlink", sys_dirs.sys_unlink, R, _HOST_FS),
    Syscall("unlinkat", sys_dirs.sys_unlinkat, R, _HOST_FS),
    Syscall("rename", sys_dirs.sys_rename, R, _HOST_FS),
    Syscall("renameat", sys_dirs.sys_renameat, R, _HOST_FS),
    Syscall("link", sys_dirs.sys_link, R, _HOST_FS),
    Syscall("linkat", sys_dirs.sys_linkat, R, _HOST_FS),
    Syscall("symlink", sys_dirs.sys_symlink, R, _HOST_FS),
    Syscall("symlinkat", sys_dirs.sys_symlinkat, R, _HOST_FS),
    Syscall("renameat2", sys_dirs.sys_renameat2, R, f"{_HOST_FS}; RENAME_NOREPLACE, RENAME_EXCHANGE by the host"),
    Syscall("mknod", sys_dirs.sys_mknod, R, f"{_HOST_FS}; FIFOs, files, sockets; devices EPERM unprivileged"),
    Syscall("mknodat", sys_dirs.sys_mknodat, R, f"{_HOST_FS}; FIFOs, files, sockets; devices EPERM unprivileged"),
    # -- memory (sys_memory.py)
    Syscall("brk", sys_memory.sys_brk, E),
    Syscall("mmap", sys_memory.sys_mmap, E, "file mappings are copies, read like read(); MAP_SHARED "
            "writes reach a host file at msync/munmap/exit while recording only"),
    Syscall("munmap", sys_memory.sys_munmap, E, "shared file mappings written back while recording only"),
    Syscall("mprotect", sys_memory.sys_mprotect, E),
    Syscall("mremap", sys_memory.sys_mremap, E),
    Syscall("madvise", sys_memory.sys_madvise, E),
    Syscall("mincore", sys_memory.sys_mincore, E, "every mapped page is resident"),
    Syscall("mlock", sys_memory.sys_mlock, E, "no swap: nothing to do"),
    Syscall("munlock", sys_memory.sys_mlock, E, "no swap: nothing to do"),
    Syscall("msync", sys_memory.sys_msync, E, "shared file mappings written back while recording only"),
    # -- the process (sys_process.py)
    Syscall("exit_group", sys_process.sys_exit_group, E),
    Syscall("getpid", sys_process.sys_getpid, E, "the recording's pid"),
    Syscall("getppid", sys_process.sys_getppid, R, "a child's from the guest; the first process's recorded"),
    Syscall("getpgrp", sys_process.sys_getpgrp, R, "the recording's group (logged) until setpgid/setsid"),
    Syscall("getpgid", sys_process.sys_getpgid, R, "the recording's group (logged) until setpgid/setsid"),
    Syscall("getsid", sys_process.sys_getsid, R, "the recording's session (logged) until setsid"),
    Syscall("setpgid", sys_process.sys_setpgid, E, "groups of the recording's processes"),
    Syscall("setsid", sys_process.sys_setsid, E, "a session of the recording's processes"),
    Syscall("arch_prctl", sys_process.sys_arch_prctl, E),
    Syscall("prctl", sys_process.sys_prctl, E, "PR_SET_NAME/PR_GET_NAME; others EINVAL"),
    Syscall("uname", sys_process.sys_uname, R),
    Syscall("umask", sys_process.sys_umask, E),
    Syscall("prlimit64", sys_process.sys_prlimit64, R, _RLIMITS),
    Syscall("getrlimit", sys_process.sys_getrlimit, R, _RLIMITS),
    Syscall("setrlimit", sys_process.sys_setrlimit, R, _RLIMITS),
    Syscall("getrusage", sys_process.sys_getrusage, R),
    Syscall("sysinfo", sys_process.sys_sysinfo, R),
    Syscall("times", sys_process.sys_times, R),
    Syscall("getrandom", sys_process.sys_getrandom, R, "a RANDOM event"),
    Syscall("get_robust_list", enosys_quiet, X, "ENOSYS, which callers handle"),
    Syscall("rseq", enosys_quiet, X, "ENOSYS: glibc then runs without rseq"),
    Syscall("membarrier", enosys_quiet, X, "ENOSYS, which callers handle"),
    Syscall("pkey_alloc", enosys_quiet, X, "ENOSYS: no protection keys (callers handle it)"),
    Syscall("pkey_free", enosys_quiet, X, "ENOSYS: no protection keys (callers handle it)"),
    Syscall("pkey_mprotect", enosys_quiet, X, "ENOSYS: no protection keys (callers handle it)"),
    Syscall("get_mempolicy", enosys_quiet, X, "ENOSYS: no NUMA (libnuma and procps then assume one node)"),
    Syscall("sched_getaffinity", sys_process.sys_sched_getaffinity, E, "one CPU"),
    Syscall("sched_setaffinity", zero, E, "one CPU"),
    Syscall("getcpu", sys_process.sys_getcpu, E, "CPU 0, node 0"),
    # -- threads (sys_threads.py; the scheduler runs one at a time)
    Syscall("clone", sys_threads.sys_clone, E, "threads, and processes as fork/vfork"),
    Syscall("clone3", sys_threads.sys_clone3, E, "threads, and processes as fork/vfork"),
    Syscall("exit", sys_threads.sys_exit, E, "the thread; the last thread's ends the process"),
    # -- processes (sys_lifecycle.py)
    Syscall("fork", sys_lifecycle.sys_fork, E, "the child gets a copy of the memory and shares the open files"),
    Syscall("vfork", sys_lifecycle.sys_vfork, E, "as fork (memory copied); the parent waits for exec or exit"),
    Syscall("wait4", sys_lifecycle.sys_wait4, E, "rusage is zeros"),
    Syscall("execve", sys_lifecycle.sys_execve, R, "the program, script interpreter and ld.so captured in the trace"),
    Syscall("execveat", sys_lifecycle.sys_execveat, R, "as execve; AT_EMPTY_PATH only"),
    Syscall("waitid", sys_lifecycle.sys_waitid, E, "P_ALL/P_PID (P_PGID as P_ALL); rusage is zeros"),
    Syscall("gettid", sys_threads.sys_gettid, E, "tids are pid, pid+1, ... in creation order"),
    Syscall("set_tid_address", sys_threads.sys_set_tid_address, E),
    Syscall("set_robust_list", sys_threads.sys_set_robust_list, E, "kept; not walked at thread exit"),
    Syscall("futex", sys_threads.sys_futex, E, "timeouts read a logged clock; PI operations ENOSYS, "
            "with a warning"),
    Syscall("sched_yield", sys_threads.sys_sched_yield, E, "the next runnable thread runs (a logged switch)"),
    # -- ids (sys_creds.py)
    Syscall("getuid", sys_creds.sys_getuid, R),
    Syscall("geteuid", sys_creds.sys_geteuid, R),
    Syscall("getgid", sys_creds.sys_getgid, R),
    Syscall("getegid", sys_creds.sys_getegid, R),
    Syscall("getgroups", sys_creds.sys_getgroups, R),
    Syscall("getresuid", sys_creds.sys_getresuid, E, _FROM_IDS),
    Syscall("getresgid", sys_creds.sys_getresgid, E, _FROM_IDS),
    Syscall("setuid", sys_creds.sys_setuid, E, _NO_CHANGE),
    Syscall("setgid", sys_creds.sys_setgid, E, _NO_CHANGE),
    Syscall("setreuid", sys_creds.sys_setreuid, E, _NO_CHANGE),
    Syscall("setregid", sys_creds.sys_setregid, E, _NO_CHANGE),
    Syscall("setresuid", sys_creds.sys_setresuid, E, _NO_CHANGE),
    Syscall("setresgid", sys_creds.sys_setresgid, E, _NO_CHANGE),
    Syscall("setfsuid", sys_creds.sys_setfsuid, E, _NO_CHANGE),
    Syscall("setfsgid", sys_creds.sys_setfsgid, E, _NO_CHANGE),
    Syscall("setgroups", sys_creds.sys_setgroups, E, "EPERM unprivileged; a change is refused with ENOSYS"),
    Syscall("capget", sys_creds.sys_capget, R, "the host's answer for the recording"),
    Syscall("capset", sys_creds.sys_capset, R, "EPERM beyond the permitted set; a change is refused (ENOSYS)"),
    # -- time (sys_time.py)
    Syscall("clock_gettime", sys_time.sys_clock_gettime, R, "a CLOCK event"),
    Syscall("gettimeofday", sys_time.sys_gettimeofday, R, "a CLOCK event"),
    Syscall("time", sys_time.sys_time, R, "a CLOCK event"),
    Syscall("clock_getres", sys_time.sys_clock_getres, E),
    Syscall("nanosleep", sys_time.sys_nanosleep, R, "sleeps while recording only; SIGALRM may cut it (EINTR)"),
    Syscall("clock_nanosleep", sys_time.sys_clock_nanosleep, R,
            "sleeps while recording only; SIGALRM may cut it (EINTR)"),
    Syscall("alarm", sys_timers.sys_alarm, R, _ITIMER),
    Syscall("setitimer", sys_timers.sys_setitimer, R, f"{_ITIMER}; CPU-time timers ENOSYS, with a warning"),
    Syscall("getitimer", sys_timers.sys_getitimer, R, "a CLOCK event"),
    Syscall("timer_create", sys_timers.sys_timer_create, E, "CLOCK_REALTIME/MONOTONIC/BOOTTIME; SIGEV_SIGNAL, "
            "SIGEV_THREAD_ID, SIGEV_NONE; CPU-time clocks ENOSYS, with a warning"),
    Syscall("timer_settime", sys_timers.sys_timer_settime, R, "a CLOCK event; the signal is an ASYNC_SIGNAL "
            "event at the instruction where it was delivered"),
    Syscall("timer_gettime", sys_timers.sys_timer_gettime, R, "a CLOCK event"),
    Syscall("timer_getoverrun", sys_timers.sys_timer_getoverrun, E, "0: every expiry is a signal of its own"),
    Syscall("timer_delete", sys_timers.sys_timer_delete, E),
    # -- signals (sys_signals.py)
    Syscall("rt_sigaction", sys_signals.sys_rt_sigaction, E),
    Syscall("rt_sigprocmask", sys_signals.sys_rt_sigprocmask, E),
    Syscall("rt_sigreturn", sys_signals.sys_rt_sigreturn, E),
    Syscall("rt_sigpending", sys_signals.sys_rt_sigpending, E),
    Syscall("sigaltstack", sys_signals.sys_sigaltstack, E),
    Syscall("kill", sys_signals.sys_kill, E, "any process of the recording, and groups made with setpgid/setsid"),
    Syscall("tgkill", sys_signals.sys_tgkill, E, "threads of the process"),
    Syscall("tkill", sys_signals.sys_tkill, E, "threads of the process"),
    Syscall("rt_sigsuspend", sys_signals.sys_rt_sigsuspend, R, "as pause, with the given mask for the wait"),
    Syscall("pause", sys_signals.sys_pause, R, "until a signal's handler runs (another task's, or the interval "
            "timer's SIGALRM), else forever; Ctrl-C ends the recording there"),
    # -- sockets (sys_sockets.py)
    Syscall("socket", sys_sockets.sys_socket, R, _SOCKETS),
    Syscall("socketpair", sys_sockets.sys_socketpair, R, _SOCKETS),
    *(Syscall(name, sys_sockets.HANDLERS[name], R, _SOCKET_CALLS) for name in sys_sockets.ON_SOCKET_FD
      if name not in ("sendmsg", "recvmsg", "recvmmsg")),
    Syscall("sendmsg", sys_sockets.HANDLERS["sendmsg"], R, f"{_SOCKET_CALLS}; control messages ENOSYS, "
            "with a warning"),
    Syscall("recvmsg", sys_sockets.HANDLERS["recvmsg"], R, f"{_SOCKET_CALLS}; control messages dropped "
            "(MSG_CTRUNC)"),
    Syscall("recvmmsg", sys_sockets.HANDLERS["recvmmsg"], R, f"{_SOCKET_CALLS}; each message as recvmsg"),
)


def index(rows: Iterable[Syscall]) -> dict[str, Syscall]:
    """The rows by name; DuplicateSyscall if a name appears twice."""
    by_name: dict[str, Syscall] = {}
    for row in rows:
        if row.name in by_name:
            raise DuplicateSyscall(f"system call {row.name!r} is listed twice")
        by_name[row.name] = row
    return by_name


BY_NAME: dict[str, Syscall] = index(SYSCALLS)


def dispatch_table(numbers: Mapping[str, int] = SYSCALL_NUMBERS,
                   excluded: frozenset[str] = frozenset()) -> dict[int, Handler]:
    """number -> handler for one architecture's numbering.  Rows the
    architecture has no number for (aarch64 has no `open`) are left out, and
    so are the `excluded` ones (calls whose handler does not yet follow that
    architecture's ABI: they get -ENOSYS and the warning)."""
    return {numbers[row.name]: row.handler for row in SYSCALLS
            if row.name in numbers and row.name not in excluded}


def log_numbers(numbers: Mapping[str, int]) -> dict[int, int]:
    """The handlers' numbers -> one architecture's, for the calls it has.

    Handlers name the call they answer by x86-64's number (sysnames.py's
    SYSCALL_NUMBERS, `N["read"]`): that is how the engine's code says which
    call, nothing more.  A recorded call's number goes to the log in the
    trace's architecture's numbering (the number the guest put in its
    register: aarch64's write is 64), so a log is read with its header's
    architecture and nothing else; the kernel translates here, at its one
    edge to the log (LinuxKernel.log_number)."""
    return {SYSCALL_NUMBERS[name]: number for name, number in numbers.items() if name in SYSCALL_NUMBERS}


@dataclass(frozen=True)
class Entry:
    """One line of the table as users see it: a number of one architecture."""

    number: int
    name: str
    kind: Kind
    note: str


def listing(names: Mapping[int, str] = SYSCALL_NAMES, *, unsupported: bool = False,
            excluded: frozenset[str] = frozenset()) -> list[Entry]:
    """The table in number order for one architecture's numbering; with
    `unsupported`, also that architecture's calls the table lacks (and the
    `excluded` ones, as dispatch_table leaves them out)."""
    entries = []
    for number, name in sorted(names.items()):
        row = BY_NAME.get(name) if name not in excluded else None
        if row is not None:
            entries.append(Entry(number, name, row.kind, row.note))
        elif unsupported:
            entries.append(Entry(number, name, Kind.UNSUPPORTED, "-ENOSYS, with a warning"))
    return entries
