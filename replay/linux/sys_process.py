"""The process and its host: exit, pids, arch_prctl, uname, limits, usage,
random bytes, and one CPU's answers to scheduling (threads: sys_threads.py).

Identity that the recording fixed (pid) is answered from the trace header;
host facts (parent and group ids, uname, rlimits, usage) go through
HostIO.syscall so they are logged; random bytes have their own event kind.
"""

from __future__ import annotations

import errno
import os
import resource
import struct
import time
from typing import TYPE_CHECKING

from ..events import RandomSource
from . import procfs
from .abi import Args, host_value, s32
from .structs import RLIM_INFINITY, RLIMIT, TIMEVAL, pack_utsname
from .sys_creds import CAP_SYS_RESOURCE, host_capable
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

ARCH_SET_GS, ARCH_SET_FS, ARCH_GET_FS, ARCH_GET_GS = 0x1001, 0x1002, 0x1003, 0x1004


def sys_exit_group(k: LinuxKernel, a: Args) -> int:
    k.exit(a[0] & 0xFF)


def sys_getpid(k: LinuxKernel, a: Args) -> int:
    return k.pid


def sys_arch_prctl(k: LinuxKernel, a: Args) -> int:
    code, addr = a[0], a[1]
    if code == ARCH_SET_FS:
        k.machine.set_reg("fs_base", addr)
        return 0
    if code == ARCH_SET_GS:
        k.machine.set_reg("gs_base", addr)
        return 0
    if code in (ARCH_GET_FS, ARCH_GET_GS):
        value = k.machine.reg("fs_base" if code == ARCH_GET_FS else "gs_base")
        k.write(addr, struct.pack("<Q", value))
        return 0
    return -errno.EINVAL


def sys_uname(k: LinuxKernel, a: Args) -> int:
    buf = a[0]
    if not k.can_write(buf, 390):
        return -errno.EFAULT
    return k.host_syscall(N["uname"], lambda: (0, ((buf, pack_utsname(os.uname())),)))


RLIM_NLIMITS = 16
RLIMIT_NOFILE = 7
NR_OPEN = 1 << 20            # /proc/sys/fs/nr_open's default: RLIMIT_NOFILE's hard ceiling
_RLIMIT_NAMES = ("CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS",
                 "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME")


def _host_rlimit(resource_id: int) -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource_id)
    fix = lambda v: RLIM_INFINITY if v == resource.RLIM_INFINITY else v  # noqa: E731
    return fix(soft), fix(hard)


def _check_rlimit(res: int, now: tuple[int, int], new: tuple[int, int] | None) -> int:
    """Linux's do_prlimit rule (recording only: it asks the host for CAP_SYS_RESOURCE):
    raising the hard limit needs the capability (NOFILE's never above nr_open);
    1 when a soft limit goes down, 0 otherwise."""
    if new is None:
        return 0
    if (new[1] > now[1] and not host_capable(CAP_SYS_RESOURCE)) or (res == RLIMIT_NOFILE and new[1] > NR_OPEN):
        return -errno.EPERM
    return 1 if new[0] < now[0] else 0


def sys_prlimit64(k: LinuxKernel, a: Args) -> int:
    """Limits the guest set are kept per process (KernelState.rlimits: inherited
    at fork, kept at exec); the others are the host's, asked and logged, as is
    the capability a raise of a hard limit needs.  RLIMIT_NOFILE is enforced on
    new descriptors (EMFILE); the others are not."""
    pid, res, new_ptr, old = s32(a[0]), a[1] & 0xFFFFFFFF, a[2], a[3]
    if pid not in (0, k.pid):
        return -errno.ESRCH
    if res >= RLIM_NLIMITS:
        return -errno.EINVAL
    new = RLIMIT.unpack(k.read(new_ptr, 16)) if new_ptr else None
    if new is not None and new[0] > new[1]:
        return -errno.EINVAL
    if old and not k.can_write(old, 16):
        return -errno.EFAULT
    now = k.state.rlimits.get(res)
    if now is not None and (new is None or new[1] <= now[1]):
        result = 1 if new is not None and new[0] < now[0] else 0
        if old:
            k.write(old, RLIMIT.pack(*now))
    elif new is None and not old:
        return 0
    else:
        def call():
            try:
                cur = now if now is not None else _host_rlimit(res)
            except (ValueError, OSError):
                return -errno.EINVAL, ()
            outcome = _check_rlimit(res, cur, new)
            return outcome, ((old, RLIMIT.pack(*cur)),) if old and outcome >= 0 else ()
        result = k.host_syscall(N["prlimit64"], call)
    if result < 0 or new is None:
        return min(result, 0)
    k.state.rlimits = {**k.state.rlimits, res: new}
    if res == RLIMIT_NOFILE:
        k.fds.limit = min(new[0], NR_OPEN)
    elif result == 1:
        k.warn_once(f"setrlimit{res}", f"RLIMIT_{_RLIMIT_NAMES[res]} is kept but not enforced")
    return 0


def sys_getrlimit(k: LinuxKernel, a: Args) -> int:
    return sys_prlimit64(k, (0, a[0], 0, a[1], 0, 0))


def sys_setrlimit(k: LinuxKernel, a: Args) -> int:
    return sys_prlimit64(k, (0, a[0], a[1], 0, 0, 0))


def sys_getrusage(k: LinuxKernel, a: Args) -> int:
    who, buf = s32(a[0]), a[1]
    if not k.can_write(buf, 144):
        return -errno.EFAULT

    def call():
        r = resource.getrusage(resource.RUSAGE_SELF if who != -1 else resource.RUSAGE_CHILDREN)
        def tv(sec: float) -> bytes:
            return TIMEVAL.pack(int(sec), int((sec % 1) * 1e6))
        longs = struct.pack("<14q", r.ru_maxrss, r.ru_ixrss, r.ru_idrss, r.ru_isrss, r.ru_minflt,
                            r.ru_majflt, r.ru_nswap, r.ru_inblock, r.ru_oublock, r.ru_msgsnd,
                            r.ru_msgrcv, r.ru_nsignals, r.ru_nvcsw, r.ru_nivcsw)
        return 0, ((buf, tv(r.ru_utime) + tv(r.ru_stime) + longs),)
    return k.host_syscall(N["getrusage"], call)


def sys_sysinfo(k: LinuxKernel, a: Args) -> int:
    buf = a[0]
    if not k.can_write(buf, 112):
        return -errno.EFAULT

    def call():
        uptime = int(time.clock_gettime(time.CLOCK_BOOTTIME))
        pages = os.sysconf("SC_PHYS_PAGES")
        avail = os.sysconf("SC_AVPHYS_PAGES")
        # struct sysinfo: uptime, loads[3], total/free/shared/buffer ram,
        # total/free swap, procs (+pad), total/free high, mem_unit.
        data = struct.pack("<q3Q6QHH4x2QI", uptime, 0, 0, 0, pages * 4096, avail * 4096,
                           0, 0, 0, 0, 1, 0, 0, 0, 1)
        return 0, ((buf, data + bytes(112 - len(data))),)
    return k.host_syscall(N["sysinfo"], call)


def sys_times(k: LinuxKernel, a: Args) -> int:
    buf = a[0]

    def call():
        t = os.times()
        hz = os.sysconf("SC_CLK_TCK")
        ticks = int(t.elapsed * hz)
        writes = ()
        if buf:
            writes = ((buf, struct.pack("<4q", int(t.user * hz), int(t.system * hz),
                                        int(t.children_user * hz), int(t.children_system * hz))),)
        return ticks, writes
    return k.host_syscall(N["times"], call)


def sys_getrandom(k: LinuxKernel, a: Args) -> int:
    buf, count = a[0], a[1]
    count = min(count, 33554431)
    if not k.can_write(buf, count):
        return -errno.EFAULT
    data = k.host.random(k.icount, RandomSource.GETRANDOM, count)
    k.write(buf, data)
    return len(data)


# -- scheduling (one CPU) ---------------------------------------------------------------
def sys_sched_getaffinity(k: LinuxKernel, a: Args) -> int:
    size, mask = a[1], a[2]
    if size < 8 or size % 8:
        return -errno.EINVAL
    k.write(mask, struct.pack("<Q", 1) + bytes(min(size, 128) - 8))
    return min(size, 128)


def sys_getcpu(k: LinuxKernel, a: Args) -> int:
    for ptr in (a[0], a[1]):
        if ptr:
            k.write(ptr, struct.pack("<I", 0))
    return 0


def sys_prctl(k: LinuxKernel, a: Args) -> int:
    option = a[0]
    if option == 15:    # PR_SET_NAME
        k.thread.comm = k.mem.read_cstring(a[1], 16)[:15]
        return 0
    if option == 16:    # PR_GET_NAME
        k.write(a[1], procfs.comm(k).ljust(16, b"\0"))
        return 0
    return -errno.EINVAL


def sys_umask(k: LinuxKernel, a: Args) -> int:
    old = k.state.umask
    k.state.umask = a[0] & 0o777
    return old


_host_getppid = host_value("getppid", os.getppid)


def sys_getppid(k: LinuxKernel, a: Args) -> int:
    """A child's parent is a guest process; the first process's is the host's (logged)."""
    return k.state.ppid if k.state.ppid else _host_getppid(k, a)
_host_getpgrp = host_value("getpgrp", os.getpgrp)
_host_getsid = host_value("getsid", lambda: os.getsid(0))
_host_getpgid = host_value("getpgid", lambda: os.getpgid(0))


# -- process groups and sessions: the recording's own (logged) until a process makes its own
def recording_pgid(k: LinuxKernel) -> int:
    """The number of the recording's own process group (asked of the host, logged)."""
    return _host_getpgrp(k, (0, 0, 0, 0, 0, 0))


def _process(k: LinuxKernel, pid: int) -> LinuxKernel | None:
    if pid in (0, k.pid):
        return k
    if k.family is None:
        return None
    target = k.family.kernels.get(pid)
    return target if target is not None and target.state.exited is None else None


def sys_getpgrp(k: LinuxKernel, a: Args) -> int:
    return k.state.pgid or _host_getpgrp(k, a)


def sys_getpgid(k: LinuxKernel, a: Args) -> int:
    target = _process(k, s32(a[0]))
    if target is None:
        return -errno.ESRCH
    return target.state.pgid or _host_getpgid(k, a)


def sys_getsid(k: LinuxKernel, a: Args) -> int:
    target = _process(k, s32(a[0]))
    if target is None:
        return -errno.ESRCH
    return target.state.sid or _host_getsid(k, a)


def sys_setpgid(k: LinuxKernel, a: Args) -> int:
    pid, pgid = s32(a[0]), s32(a[1])
    if pgid < 0:
        return -errno.EINVAL
    target = _process(k, pid)
    if target is None or (target is not k and target.state.ppid != k.pid):
        return -errno.ESRCH
    if target.state.sid and target.state.sid == target.pid:
        return -errno.EPERM                      # a session leader keeps its group
    pgid = pgid or target.pid
    if pgid != target.pid and k.family is not None and not any(
            p.state.pgid == pgid for p in k.family.live()):
        return -errno.EPERM                      # no such group in the session
    target.state.pgid = pgid
    return 0


def sys_setsid(k: LinuxKernel, a: Args) -> int:
    if k.state.pgid == k.pid or (k.family is not None and any(
            p.state.pgid == k.pid for p in k.family.live() if p is not k)):
        return -errno.EPERM                      # already a group leader
    k.state.pgid = k.state.sid = k.pid
    return k.pid
