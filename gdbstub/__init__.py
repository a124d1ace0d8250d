"""A GDB Remote Serial Protocol stub that knows nothing about what it debugs.

gdb talks to :class:`GdbServer`; the server talks to a :class:`Target`.  The
target (implemented elsewhere, over the replay engine) decides what is
possible through its capabilities; the stub only turns bytes into typed
requests and typed answers back into bytes.  Standard library only.
"""

from __future__ import annotations

from .features import supported_reply, target_xml, xfer_chunk
from .replies import pack_host_stat
from .server import GdbServer
from .session import Session
from .target import (
    BreakKind,
    Capability,
    Direction,
    HostOpenFlags,
    HostStat,
    RegisterInfo,
    StopKind,
    StopReason,
    Target,
    TargetDescription,
    TargetError,
    ThreadInfo,
    host_flags_to_os,
)

__all__ = [
    "BreakKind",
    "Capability",
    "Direction",
    "GdbServer",
    "HostOpenFlags",
    "HostStat",
    "RegisterInfo",
    "Session",
    "StopKind",
    "StopReason",
    "Target",
    "TargetDescription",
    "TargetError",
    "ThreadInfo",
    "host_flags_to_os",
    "pack_host_stat",
    "supported_reply",
    "target_xml",
    "xfer_chunk",
]
