"""Linux signal numbers, the kernel's default actions for them, and sigaction's values."""

from __future__ import annotations

import signal as _signal
from dataclasses import dataclass

SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL = range(1, 10)
SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM = 10, 11, 12, 13, 14, 15
SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP = 17, 18, 19, 20
SIGURG, SIGWINCH = 23, 28

# Signals whose default action is to do nothing.
IGNORED_BY_DEFAULT = frozenset({SIGCHLD, SIGURG, SIGWINCH, SIGCONT})

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
SI_USER, SI_TKILL = 0, -6         # si_code of a signal sent by kill and by tkill/tgkill


@dataclass
class SigAction:
    """One signal's disposition, as rt_sigaction sets it."""

    handler: int = SIG_DFL
    flags: int = 0
    restorer: int = 0
    mask: int = 0
