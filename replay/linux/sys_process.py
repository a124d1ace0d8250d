"""Process, signal, time and random system calls.

Identity that the recording fixed (pid) is answered from the trace header;
host facts (uid, uname, rlimits) go through HostIO.syscall so they are
logged; clocks and random bytes have their own event kinds.
"""

from __future__ import annotations

import errno
import os
import resource
import struct
import time
from typing import TYPE_CHECKING

from ..events import ClockSource, RandomSource
from . import signals as sig
from .kernel import SI_TKILL, Args, GuestExit, Handler, SigAction, s32
from .sigframe import SS_DISABLE, SS_ONSTACK, AltStack
from .structs import RLIM_INFINITY, RLIMIT, TIMESPEC, TIMEVAL, pack_utsname
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

VALID_CLOCKS = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11})
ARCH_SET_GS, ARCH_SET_FS, ARCH_GET_FS, ARCH_GET_GS = 0x1001, 0x1002, 0x1003, 0x1004
FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 0, 1, 9, 10
SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2


def sys_exit_group(k: "LinuxKernel", a: Args) -> int:
    k.exit(a[0] & 0xFF)
    return 0


def sys_getpid(k: "LinuxKernel", a: Args) -> int:
    return k.pid


def _id_call(name: str, fn):
    def handler(k: "LinuxKernel", a: Args) -> int:
        return k.host_syscall(N[name], lambda: (fn(), ()))
    return handler


def sys_getgroups(k: "LinuxKernel", a: Args) -> int:
    size, out = s32(a[0]), a[1]
    if size < 0:
        return -errno.EINVAL

    def call():
        groups = os.getgroups()
        if size == 0:
            return len(groups), ()
        if len(groups) > size:
            return -errno.EINVAL, ()
        return len(groups), ((out, struct.pack(f"<{len(groups)}I", *groups)),) if groups else ()
    return k.host_syscall(N["getgroups"], call)


def sys_set_tid_address(k: "LinuxKernel", a: Args) -> int:
    return k.pid


def sys_zero(k: "LinuxKernel", a: Args) -> int:
    return 0


def sys_enosys_quiet(k: "LinuxKernel", a: Args) -> int:
    """Features a kernel may lack (rseq, ...): ENOSYS is a valid Linux answer."""
    return -errno.ENOSYS


def sys_arch_prctl(k: "LinuxKernel", a: Args) -> int:
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


def sys_uname(k: "LinuxKernel", a: Args) -> int:
    buf = a[0]
    if not k.can_write(buf, 390):
        return -errno.EFAULT
    return k.host_syscall(N["uname"], lambda: (0, ((buf, pack_utsname(os.uname())),)))


def _rlimit_bytes(resource_id: int) -> bytes | None:
    try:
        soft, hard = resource.getrlimit(resource_id)
    except (ValueError, OSError):
        return None
    fix = lambda v: RLIM_INFINITY if v == resource.RLIM_INFINITY else v  # noqa: E731
    return RLIMIT.pack(fix(soft), fix(hard))


def sys_prlimit64(k: "LinuxKernel", a: Args) -> int:
    pid, res, new, old = s32(a[0]), a[1], a[2], a[3]
    if pid not in (0, k.pid):
        return -errno.ESRCH
    if new:
        k.warn_once("setrlimit", "setting resource limits is ignored")
    if not old:
        return 0
    if not k.can_write(old, 16):
        return -errno.EFAULT

    def call():
        data = _rlimit_bytes(res)
        return (-errno.EINVAL, ()) if data is None else (0, ((old, data),))
    return k.host_syscall(N["prlimit64"], call)


def sys_getrlimit(k: "LinuxKernel", a: Args) -> int:
    return sys_prlimit64(k, (0, a[0], 0, a[1], 0, 0))


def sys_getrusage(k: "LinuxKernel", a: Args) -> int:
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


def sys_sysinfo(k: "LinuxKernel", a: Args) -> int:
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


def sys_times(k: "LinuxKernel", a: Args) -> int:
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


# -- time -----------------------------------------------------------------------
def sys_clock_gettime(k: "LinuxKernel", a: Args) -> int:
    clock_id, tp = s32(a[0]), a[1]
    if clock_id not in VALID_CLOCKS:
        return -errno.EINVAL
    if not k.can_write(tp, 16):
        return -errno.EFAULT
    ns = k.clock(ClockSource.CLOCK_GETTIME, clock_id)
    k.write(tp, TIMESPEC.pack(ns // 1_000_000_000, ns % 1_000_000_000))
    return 0


def sys_clock_getres(k: "LinuxKernel", a: Args) -> int:
    clock_id, res = s32(a[0]), a[1]
    if clock_id not in VALID_CLOCKS:
        return -errno.EINVAL
    if res:
        coarse = clock_id in (5, 6)
        k.write(res, TIMESPEC.pack(0, 4_000_000 if coarse else 1))
    return 0


def sys_gettimeofday(k: "LinuxKernel", a: Args) -> int:
    tv, tz = a[0], a[1]
    if tv:
        if not k.can_write(tv, 16):
            return -errno.EFAULT
        ns = k.clock(ClockSource.GETTIMEOFDAY, 0)
        k.write(tv, TIMEVAL.pack(ns // 1_000_000_000, (ns % 1_000_000_000) // 1000))
    if tz:
        k.write(tz, bytes(8))
    return 0


def sys_time(k: "LinuxKernel", a: Args) -> int:
    seconds = k.clock(ClockSource.TIME, 0) // 1_000_000_000
    if a[0]:
        if not k.can_write(a[0], 8):
            return -errno.EFAULT
        k.write(a[0], struct.pack("<q", seconds))
    return seconds


def _sleep_for(k: "LinuxKernel", req: int) -> int:
    if not k.can_read(req, 16):
        return -errno.EFAULT
    sec, nsec = TIMESPEC.unpack(k.read(req, 16))
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        return -errno.EINVAL
    k.host.sleep(sec + nsec / 1e9)
    return 0


def sys_nanosleep(k: "LinuxKernel", a: Args) -> int:
    return _sleep_for(k, a[0])


def sys_clock_nanosleep(k: "LinuxKernel", a: Args) -> int:
    clock_id, flags, req = s32(a[0]), a[1], a[2]
    if clock_id not in VALID_CLOCKS:
        return -errno.EINVAL
    if flags & 1:   # TIMER_ABSTIME: sleep until the given time of that clock
        now = k.clock(ClockSource.CLOCK_GETTIME, clock_id)
        sec, nsec = TIMESPEC.unpack(k.read(req, 16))
        k.host.sleep(max(0, sec * 1_000_000_000 + nsec - now) / 1e9)
        return 0
    return _sleep_for(k, req)


def sys_getrandom(k: "LinuxKernel", a: Args) -> int:
    buf, count = a[0], a[1]
    count = min(count, 33554431)
    if not k.can_write(buf, count):
        return -errno.EFAULT
    data = k.host.random(k.icount, RandomSource.GETRANDOM, count)
    k.write(buf, data)
    return len(data)


# -- signals ----------------------------------------------------------------------
def sys_rt_sigaction(k: "LinuxKernel", a: Args) -> int:
    signum, act, oact = s32(a[0]), a[1], a[2]
    if not 1 <= signum <= 64 or (act and signum in (sig.SIGKILL, sig.SIGSTOP)):
        return -errno.EINVAL
    current = k.state.sigactions.get(signum, SigAction())
    if oact:
        k.write(oact, struct.pack("<QQQQ", current.handler, current.flags, current.restorer, current.mask))
    if act:
        handler, flags, restorer, mask = struct.unpack("<QQQQ", k.read(act, 32))
        k.state.sigactions[signum] = SigAction(handler, flags, restorer, mask)
    return 0


def sys_rt_sigprocmask(k: "LinuxKernel", a: Args) -> int:
    how, new, old = a[0], a[1], a[2]
    if old:
        k.write(old, struct.pack("<Q", k.state.sigmask))
    if new:
        (mask,) = struct.unpack("<Q", k.read(new, 8))
        mask &= ~sig.UNBLOCKABLE
        if how == SIG_BLOCK:
            k.state.sigmask |= mask
        elif how == SIG_UNBLOCK:
            k.state.sigmask &= ~mask
        elif how == SIG_SETMASK:
            k.state.sigmask = mask
        else:
            return -errno.EINVAL
        return k.deliver_pending()
    return 0


def sys_sigaltstack(k: "LinuxKernel", a: Args) -> int:
    new, old = a[0], a[1]
    alt = k.state.altstack
    on_it = alt.contains(k.machine.reg("rsp"))
    if old:
        k.write(old, struct.pack("<QiiQ", alt.sp, SS_ONSTACK if on_it else alt.flags & SS_DISABLE, 0, alt.size))
    if new:
        sp, flags, _pad, size = struct.unpack("<QiiQ", k.read(new, 24))
        if on_it:
            return -errno.EPERM
        if flags & ~SS_DISABLE:
            return -errno.EINVAL
        if not flags & SS_DISABLE and size < 2048:
            return -errno.ENOMEM
        k.state.altstack = AltStack(0, 0, SS_DISABLE) if flags & SS_DISABLE else AltStack(sp, size, 0)
    return 0


def sys_rt_sigreturn(k: "LinuxKernel", a: Args) -> int:
    k.sigreturn()
    return 0


def sys_kill(k: "LinuxKernel", a: Args) -> int:
    pid, signum = s32(a[0]), s32(a[1])
    if pid in (k.pid, 0, -1):
        return k.deliver_self_signal(signum)
    k.warn_once("killother", "signals to other processes are not supported")
    return -errno.EPERM


def sys_tgkill(k: "LinuxKernel", a: Args) -> int:
    tgid, tid, signum = s32(a[0]), s32(a[1]), s32(a[2])
    if tgid == k.pid and tid == k.pid:
        return k.deliver_self_signal(signum, SI_TKILL)
    return -errno.ESRCH


def sys_tkill(k: "LinuxKernel", a: Args) -> int:
    tid, signum = s32(a[0]), s32(a[1])
    if tid == k.pid:
        return k.deliver_self_signal(signum, SI_TKILL)
    return -errno.ESRCH


def sys_pause(k: "LinuxKernel", a: Args) -> int:
    k.warn_once("pause", "pause() would wait forever for a signal; ending the program")
    k.exit(0)
    raise GuestExit()


# -- threads and scheduling (single-threaded guest) ---------------------------------
def sys_futex(k: "LinuxKernel", a: Args) -> int:
    uaddr, op, val = a[0], a[1] & 0x7F, a[2] & 0xFFFFFFFF
    cmd = op & 0xF
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        return 0
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        (current,) = struct.unpack("<I", k.read(uaddr, 4))
        if current != val:
            return -errno.EAGAIN
        k.warn_once("futexwait", "futex wait with no other thread to wake it: returning ETIMEDOUT")
        return -errno.ETIMEDOUT
    k.warn_once(f"futex{cmd}", f"futex operation {cmd} is not supported")
    return -errno.ENOSYS


def sys_sched_getaffinity(k: "LinuxKernel", a: Args) -> int:
    size, mask = a[1], a[2]
    if size < 8 or size % 8:
        return -errno.EINVAL
    k.write(mask, struct.pack("<Q", 1) + bytes(min(size, 128) - 8))
    return min(size, 128)


def sys_getcpu(k: "LinuxKernel", a: Args) -> int:
    for ptr in (a[0], a[1]):
        if ptr:
            k.write(ptr, struct.pack("<I", 0))
    return 0


def sys_prctl(k: "LinuxKernel", a: Args) -> int:
    option = a[0]
    if option in (15, 16):   # PR_SET_NAME, PR_GET_NAME
        if option == 16:
            k.write(a[1], (os.path.basename(k.exe).encode()[:15]).ljust(16, b"\0"))
        return 0
    return -errno.EINVAL


def sys_umask(k: "LinuxKernel", a: Args) -> int:
    old = k.state.umask
    k.state.umask = a[0] & 0o777
    return old


HANDLERS: dict[int, Handler] = {
    N["exit"]: sys_exit_group, N["exit_group"]: sys_exit_group,
    N["getpid"]: sys_getpid, N["gettid"]: sys_getpid, N["getppid"]: _id_call("getppid", os.getppid),
    N["getuid"]: _id_call("getuid", os.getuid), N["geteuid"]: _id_call("geteuid", os.geteuid),
    N["getgid"]: _id_call("getgid", os.getgid), N["getegid"]: _id_call("getegid", os.getegid),
    N["getpgrp"]: _id_call("getpgrp", os.getpgrp), N["getsid"]: _id_call("getsid", lambda: os.getsid(0)),
    N["getpgid"]: _id_call("getpgid", lambda: os.getpgid(0)),
    N["getgroups"]: sys_getgroups, N["set_tid_address"]: sys_set_tid_address, N["set_robust_list"]: sys_zero,
    N["rseq"]: sys_enosys_quiet, N["arch_prctl"]: sys_arch_prctl, N["uname"]: sys_uname,
    N["prlimit64"]: sys_prlimit64, N["getrlimit"]: sys_getrlimit, N["setrlimit"]: sys_zero,
    N["getrusage"]: sys_getrusage, N["sysinfo"]: sys_sysinfo, N["times"]: sys_times,
    N["clock_gettime"]: sys_clock_gettime, N["clock_getres"]: sys_clock_getres,
    N["gettimeofday"]: sys_gettimeofday, N["time"]: sys_time,
    N["nanosleep"]: sys_nanosleep, N["clock_nanosleep"]: sys_clock_nanosleep,
    N["getrandom"]: sys_getrandom,
    N["rt_sigaction"]: sys_rt_sigaction, N["rt_sigprocmask"]: sys_rt_sigprocmask,
    N["sigaltstack"]: sys_sigaltstack, N["rt_sigreturn"]: sys_rt_sigreturn,
    N["kill"]: sys_kill, N["tgkill"]: sys_tgkill,
    N["tkill"]: sys_tkill, N["pause"]: sys_pause,
    N["futex"]: sys_futex, N["sched_getaffinity"]: sys_sched_getaffinity,
    N["sched_setaffinity"]: sys_zero, N["sched_yield"]: sys_zero, N["getcpu"]: sys_getcpu,
    N["prctl"]: sys_prctl, N["umask"]: sys_umask, N["membarrier"]: sys_enosys_quiet,
    N["get_robust_list"]: sys_enosys_quiet,
}
