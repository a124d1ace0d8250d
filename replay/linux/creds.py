"""The process's user and group ids, and Linux's rules for changing them.

The recording's ids are in the trace header (`extra.ids`: uid, euid, gid,
egid).  A freshly executed program (no set-id bit) has saved and
file-system ids equal to its effective ones, so the header fixes all eight.

The rules below follow kernel/sys.c (setuid, setreuid, setresuid, setfsuid
and their gid twins) for a process in the initial user namespace, where
every id but (uid_t)-1 is valid.  "Privileged" means CAP_SETUID (for uids)
or CAP_SETGID (for gids), which the recording is taken to have exactly when
its effective uid is 0.  Each rule returns the ids after the call, or a
negative errno; the caller decides what to do with a change.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, replace

UNCHANGED = 0xFFFFFFFF       # (uid_t)-1 / (gid_t)-1: "leave this id alone", and never a valid id
NGROUPS_MAX = 65536


@dataclass(frozen=True)
class IdSet:
    """Real, effective, saved and file-system ids (all users or all groups)."""

    real: int
    effective: int
    saved: int
    fs: int

    @classmethod
    def at_exec(cls, real: int, effective: int) -> IdSet:
        return cls(real, effective, effective, effective)


@dataclass(frozen=True)
class Credentials:
    user: IdSet
    group: IdSet

    @classmethod
    def from_header(cls, ids: list[int] | tuple[int, ...]) -> Credentials:
        """From the header's [uid, euid, gid, egid]."""
        uid, euid, gid, egid = (int(v) & 0xFFFFFFFF for v in ids)
        return cls(IdSet.at_exec(uid, euid), IdSet.at_exec(gid, egid))

    @property
    def privileged(self) -> bool:
        """CAP_SETUID and CAP_SETGID, as a root process has them."""
        return self.user.effective == 0


def set_id(ids: IdSet, new: int, privileged: bool) -> IdSet | int:
    """setuid / setgid."""
    if new == UNCHANGED:
        return -errno.EINVAL
    if privileged:
        return IdSet(new, new, new, new)
    if new in (ids.real, ids.saved):
        return replace(ids, effective=new, fs=new)
    return -errno.EPERM


def set_re_id(ids: IdSet, real: int, effective: int, privileged: bool) -> IdSet | int:
    """setreuid / setregid."""
    new_real, new_effective = ids.real, ids.effective
    if real != UNCHANGED:
        if real not in (ids.real, ids.effective) and not privileged:
            return -errno.EPERM
        new_real = real
    if effective != UNCHANGED:
        if effective not in (ids.real, ids.effective, ids.saved) and not privileged:
            return -errno.EPERM
        new_effective = effective
    saved = ids.saved
    if real != UNCHANGED or (effective != UNCHANGED and effective != ids.real):
        saved = new_effective
    return IdSet(new_real, new_effective, saved, new_effective)


def set_res_id(ids: IdSet, real: int, effective: int, saved: int, privileged: bool) -> IdSet | int:
    """setresuid / setresgid."""
    if ((real == UNCHANGED or real == ids.real)
            and (effective == UNCHANGED or effective == ids.effective == ids.fs)
            and (saved == UNCHANGED or saved == ids.saved)):
        return ids
    current = (ids.real, ids.effective, ids.saved)
    if not privileged and any(v != UNCHANGED and v not in current for v in (real, effective, saved)):
        return -errno.EPERM
    new_effective = ids.effective if effective == UNCHANGED else effective
    return IdSet(ids.real if real == UNCHANGED else real, new_effective,
                 ids.saved if saved == UNCHANGED else saved, new_effective)


def set_fs_id(ids: IdSet, new: int, privileged: bool) -> IdSet:
    """setfsuid / setfsgid: the ids afterwards (the call returns the old fs id)."""
    if new == UNCHANGED:
        return ids
    if new in (ids.real, ids.effective, ids.saved, ids.fs) or privileged:
        return replace(ids, fs=new)
    return ids
