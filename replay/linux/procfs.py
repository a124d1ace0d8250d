"""Files of /proc that the emulated kernel can answer from guest state alone.

/proc/self/maps is derived from the guest address space at the moment it is
opened, so it is deterministic: no host access and no event, the replay
computes the same text.  gdb's `info proc mappings` reads the same text.
"""

from __future__ import annotations

from ..memory import PROT_EXEC, PROT_READ, PROT_WRITE, AddressSpace


def maps_text(mem: AddressSpace) -> bytes:
    """The /proc/PID/maps lines of the address space, merged like Linux's."""
    lines = []
    previous = None
    for r in mem.regions():
        perms = ("r" if r.prot & PROT_READ else "-") + ("w" if r.prot & PROT_WRITE else "-") \
            + ("x" if r.prot & PROT_EXEC else "-") + "p"
        current = [r.start, r.end, perms, r.name]
        if previous is not None and previous[1] == r.start and previous[2:] == current[2:]:
            previous[1] = r.end          # one mapping split into slices: show it whole
            continue
        if previous is not None:
            lines.append(previous)
        previous = current
    if previous is not None:
        lines.append(previous)
    out = []
    for start, end, perms, name in lines:
        head = f"{start:08x}-{end:08x} {perms} 00000000 00:00 0"
        out.append(f"{head:<72} {name}".rstrip() if name else head)
    return ("\n".join(out) + "\n").encode()


SYNTHETIC = {"maps": maps_text}
