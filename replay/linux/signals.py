"""Linux signal numbers, the kernel's default actions for them, sigaction's values, and the
signal gate through which a debugger learns of each delivery.

The gate is asked (with the instruction count and the signals) just before
the kernel builds a handler's frame, after a system call such as kill() or
after a fault; when it answers True, the deliveries wait in the kernel's
state (`held`), the machine stops at that exact instruction count, and
`LinuxKernel.release_held` makes them later.  A debugger stops there, as a
ptrace-based one stops when the kernel is about to deliver a signal.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sigframe import SigInfo

SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL = range(1, 10)
SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM = 10, 11, 12, 13, 14, 15
SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP = 17, 18, 19, 20
SIGURG, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO = 23, 26, 27, 28, 29

# Signals whose default action is to do nothing.
IGNORED_BY_DEFAULT = frozenset({SIGCHLD, SIGURG, SIGWINCH, SIGCONT})

# Signals a debugger lets through without a stop unless asked (gdb's `handle`
# defaults): timers and notifications, which some programs receive constantly.
QUIET_BY_DEFAULT = frozenset({SIGALRM, SIGURG, SIGCHLD, SIGIO, SIGVTALRM, SIGPROF, SIGWINCH})

# Signals another host process may send the recording, forwarded to its first process
# (recorded as external ASYNC_SIGNAL events); SIGINT (Ctrl-C) ends the recording instead.
FORWARDED = (SIGHUP, SIGUSR1, SIGUSR2, SIGTERM)
NEVER = 1 << 62           # a host wait's interrupt_at when only a signal from outside may cut it

# Signals no mask can block.
UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))

SIG_DFL = 0
SIG_IGN = 1


def signal_name(signum: int) -> str:
    try:
        return _signal.Signals(signum).name
    except ValueError:
        return f"SIG{signum}"


SA_ONSTACK, SA_RESTORER, SA_NODEFER, SA_RESETHAND = 0x08000000, 0x04000000, 0x40000000, 0x80000000
SA_RESTART = 0x10000000
SI_USER, SI_TKILL = 0, -6         # si_code of a signal sent by kill and by tkill/tgkill
SI_KERNEL = 0x80                  # si_code of a signal the kernel sends (an interval timer's SIGALRM)
SI_TIMER = -2                     # si_code of a POSIX timer's signal


@dataclass
class SigAction:
    """One signal's disposition, as rt_sigaction sets it."""

    handler: int = SIG_DFL
    flags: int = 0
    restorer: int = 0
    mask: int = 0


SignalGate = Callable[[int, "tuple[SigInfo, ...]"], bool]
"""(icount, signals about to be delivered) -> True to hold them there."""
