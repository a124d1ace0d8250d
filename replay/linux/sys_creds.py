"""User and group ids: the get*id and set*id families, getgroups and setgroups.

getuid, geteuid, getgid, getegid and getgroups ask the host while
recording and are logged (as they always were: traces keep their events).
getresuid, getresgid and every set*id call are answered from the recorded
ids (creds.py) with the kernel's rules.  The guest's files are opened by
ttdbg with the recording's own ids, so a call that would really change the
credentials is refused with -ENOSYS and a warning rather than pretended;
calls that change nothing, and the EPERM answers of an unprivileged
process, are exactly what Linux returns.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from .abi import Args, Handler, errno_of, host_libc, host_value, s32
from .creds import NGROUPS_MAX, Credentials, IdSet, set_fs_id, set_id, set_re_id, set_res_id
from .sysnames import SYSCALL_NUMBERS as N

if TYPE_CHECKING:
    from .kernel import LinuxKernel

sys_getuid = host_value("getuid", os.getuid)
sys_geteuid = host_value("geteuid", os.geteuid)
sys_getgid = host_value("getgid", os.getgid)
sys_getegid = host_value("getegid", os.getegid)


def sys_getgroups(k: LinuxKernel, a: Args) -> int:
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


def _creds(k: LinuxKernel, name: str) -> Credentials | None:
    if k.creds is None:
        k.warn_once(f"creds-{name}", f"{name}: the trace does not record the process's ids; returning -ENOSYS")
    return k.creds


def _refuse_change(k: LinuxKernel, name: str) -> int:
    k.warn_once(f"creds-{name}", f"{name} would change the process's ids, which ttdbg does not emulate; "
                "returning -ENOSYS")
    return -errno.ENOSYS


def _getres(group: bool) -> Handler:
    name = "getresgid" if group else "getresuid"

    def handler(k: LinuxKernel, a: Args) -> int:
        creds = _creds(k, name)
        if creds is None:
            return -errno.ENOSYS
        ids = creds.group if group else creds.user
        # Linux stores the three ids one after the other and stops at the first fault.
        for ptr, value in zip(a[:3], (ids.real, ids.effective, ids.saved)):
            if not k.can_write(ptr, 4):
                return -errno.EFAULT
            k.write(ptr, struct.pack("<I", value))
        return 0
    return handler


def _setter(name: str, group: bool, rule: Callable[[IdSet, Args, bool], IdSet | int]) -> Handler:
    """A set*id call: the kernel's rule decides; a real change is refused."""
    def handler(k: LinuxKernel, a: Args) -> int:
        creds = _creds(k, name)
        if creds is None:
            return -errno.ENOSYS
        ids = creds.group if group else creds.user
        after = rule(ids, tuple(v & 0xFFFFFFFF for v in a), creds.privileged)
        if isinstance(after, int):
            return after
        return 0 if after == ids else _refuse_change(k, name)
    return handler


def _setfs(name: str, group: bool) -> Handler:
    """setfsuid / setfsgid return the old fs id whether or not they change it."""
    def handler(k: LinuxKernel, a: Args) -> int:
        creds = _creds(k, name)
        if creds is None:
            return -errno.ENOSYS
        ids = creds.group if group else creds.user
        if set_fs_id(ids, a[0] & 0xFFFFFFFF, creds.privileged) != ids:
            return _refuse_change(k, name)
        return ids.fs
    return handler


def sys_setgroups(k: LinuxKernel, a: Args) -> int:
    creds = _creds(k, "setgroups")
    if creds is None:
        return -errno.ENOSYS
    if not creds.privileged:          # Linux checks the privilege before the size
        return -errno.EPERM
    if a[0] & 0xFFFFFFFF > NGROUPS_MAX:
        return -errno.EINVAL
    return _refuse_change(k, "setgroups")


sys_getresuid = _getres(group=False)
sys_getresgid = _getres(group=True)
sys_setuid = _setter("setuid", False, lambda ids, a, p: set_id(ids, a[0], p))
sys_setgid = _setter("setgid", True, lambda ids, a, p: set_id(ids, a[0], p))
sys_setreuid = _setter("setreuid", False, lambda ids, a, p: set_re_id(ids, a[0], a[1], p))
sys_setregid = _setter("setregid", True, lambda ids, a, p: set_re_id(ids, a[0], a[1], p))
sys_setresuid = _setter("setresuid", False, lambda ids, a, p: set_res_id(ids, a[0], a[1], a[2], p))
sys_setresgid = _setter("setresgid", True, lambda ids, a, p: set_res_id(ids, a[0], a[1], a[2], p))
sys_setfsuid = _setfs("setfsuid", group=False)
sys_setfsgid = _setfs("setfsgid", group=True)


CAP_HEADER = 8        # struct __user_cap_header_struct: version, pid
_CAP_WORDS = {0x19980330: 1, 0x20071026: 2, 0x20080522: 2}   # _LINUX_CAPABILITY_VERSION_1/2/3


def _host_caps(header: bytes, data: bool) -> tuple[int, bytes, bytes]:
    """The host's capget for the recording itself: result, header after, data (recording only)."""
    hdr = ctypes.create_string_buffer(header[:4] + bytes(4), CAP_HEADER)
    out = ctypes.create_string_buffer(24)
    try:
        host_libc("capget", hdr, out if data else None)
    except OSError as exc:
        return errno_of(exc), hdr.raw, b""
    return 0, hdr.raw, out.raw


CAP_SYS_RESOURCE = 24


def host_capable(cap: int) -> bool:
    """Whether the recording has capability `cap` in its effective set (recording only)."""
    result, _hdr, out = _host_caps(struct.pack("<I", 0x20080522), True)
    return result == 0 and bool(struct.unpack("<6I", out)[3 * (cap // 32)] >> (cap % 32) & 1)


def sys_capget(k: LinuxKernel, a: Args) -> int:
    header_ptr, data_ptr = a[0], a[1]
    header = k.read(header_ptr, CAP_HEADER)
    version, pid = struct.unpack("<Ii", header)
    words = _CAP_WORDS.get(version, 0)
    if pid < 0:
        return -errno.EINVAL
    if pid not in (0, k.pid):
        return -errno.ESRCH
    if data_ptr and words and not k.can_write(data_ptr, 12 * words):
        return -errno.EFAULT

    def call():
        result, hdr, out = _host_caps(header, bool(data_ptr and words))
        writes = [] if hdr[:4] == header[:4] else [(header_ptr, hdr[:4])]
        if result == 0 and out:
            writes.append((data_ptr, out[:12 * words]))
        return result, tuple(writes)
    return k.host_syscall(N["capget"], call)


def sys_capset(k: LinuxKernel, a: Args) -> int:
    """What capget says now, compared with what is asked: the same sets succeed;
    more than the permitted set is EPERM, as unprivileged Linux answers; any
    other change is refused (the guest runs with the recording's own rights)."""
    header_ptr, data_ptr = a[0], a[1]
    header = k.read(header_ptr, CAP_HEADER)
    version, pid = struct.unpack("<Ii", header)
    words = _CAP_WORDS.get(version, 0)
    if not words:
        return -errno.EINVAL
    if pid not in (0, k.pid):
        return -errno.EPERM
    want = struct.unpack(f"<{3 * words}I", k.read(data_ptr, 12 * words))

    def call():
        result, _hdr, out = _host_caps(header, True)
        if result:
            return result, ()
        have = struct.unpack(f"<{3 * words}I", out[:12 * words])
        for w in range(words):
            eff, perm, inh = want[3 * w:3 * w + 3]
            old_perm, old_inh = have[3 * w + 1], have[3 * w + 2]
            if perm & ~old_perm or eff & ~perm or inh & ~(old_inh | old_perm):
                return -errno.EPERM, ()
        return (0 if want == have else -errno.ENOSYS), ()
    result = k.host_syscall(N["capset"], call)
    if result == -errno.ENOSYS:
        return _refuse_change(k, "capset")
    return result
