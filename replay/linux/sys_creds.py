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

import errno
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from .abi import Args, Handler, host_value, s32
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
