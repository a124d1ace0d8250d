"""The emulated kernel's system-call table as `ttdbg info --syscalls` prints it.

The table itself is the engine's (replay/linux/syscalls.py); this module only
renders it, for the terminal and for the README's summary (a test keeps the
README in step with it).
"""

from __future__ import annotations

from collections import Counter

from replay import ARCHES, Arch, SyscallKind, syscall_listing


def arch_names() -> dict[str, Arch]:
    """The architectures by the name `info` shows (x86-64, aarch64, riscv64)."""
    return {a.name.replace("_", "-"): a for a in ARCHES}


def syscall_table(unsupported: bool = False, arch: str = "x86-64") -> str:
    """`ttdbg info --syscalls [--arch A]`: the emulated kernel's system calls, one a
    line, by number in that architecture's numbering (its programs', its traces')."""
    desc = arch_names()[arch]
    entries = syscall_listing(desc.syscall_names, unsupported=unsupported, excluded=desc.unported_syscalls)
    known = [e for e in entries if e.kind != SyscallKind.UNSUPPORTED]
    counts = Counter(e.kind for e in known)
    lines = [
        f"{arch} system calls the emulated kernel knows: {len(known)} "
        f"({counts[SyscallKind.EMULATED]} emulated, {counts[SyscallKind.RECORDED]} recorded, "
        f"{counts[SyscallKind.REFUSED]} refused)",
        "emulated: answered from the program's own state; recorded: asked of the host while recording,",
        "replayed from the log; refused: fails on purpose, as noted.  Any other call returns -ENOSYS",
        "with one warning" + ("." if unsupported else " (--all lists them)."),
        "",
        f"{'Num':>4}  {'Name':<20} {'Class':<12} Note",
    ]
    lines += [f"{e.number:>4}  {e.name:<20} {e.kind.value:<12} {e.note}".rstrip() for e in entries]
    return "\n".join(lines)


def syscall_summary_markdown() -> str:
    """The README's summary of the table: the names of each class (checked by a test)."""
    entries = syscall_listing()
    out = []
    for kind in (SyscallKind.EMULATED, SyscallKind.RECORDED, SyscallKind.REFUSED):
        names = sorted(e.name for e in entries if e.kind == kind)
        out.append(f"- **{kind.value}** ({len(names)}): " + ", ".join(f"`{n}`" for n in names))
    return "\n".join(out)
