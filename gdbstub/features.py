"""What the stub tells gdb about itself and the target.

Two things live here because both are derived from the same facts:

* the ``qSupported`` reply, built from the target's capabilities so gdb is
  only offered what the target can do;
* the target description (``target.xml``), generated from the target's one
  register table (its ``description``, with the XML of the types its registers
  use) - the same table the session uses to pack ``g`` replies, so the
  description and the register packet cannot disagree.  The stub knows no
  architecture: every table comes from the target.

It also holds :func:`xfer_chunk`, the ``m``/``l`` windowing used by every
``qXfer:...:read`` object.

``PROCESS_EVENTS`` names the qSupported features gdb offers for a process's
forks, vforks and execs; the stub takes up those gdb offered that the target
can report (fork and vfork events name the child ``p<pid>.<tid>``, so they
need ``multiprocess+`` as well).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from .framing import escape
from .target import Capability, RegisterInfo, TargetDescription


def target_xml(description: TargetDescription) -> str:
    """Generate ``target.xml`` from the register table, one ``<feature>`` per feature name."""
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
        "<target>",
        f"<architecture>{description.architecture}</architecture>",
    ]
    if description.osabi:
        lines.append(f"<osabi>{description.osabi}</osabi>")
    features: dict[str, list[RegisterInfo]] = {}
    for reg in description.registers:
        features.setdefault(reg.feature, []).append(reg)
    emitted: set[str] = set()
    for feature, regs in features.items():
        lines.append(f"<feature name={quoteattr(feature)}>")
        for reg in regs:
            xml = description.types.get(reg.type)
            if xml is not None and reg.type not in emitted:
                emitted.add(reg.type)
                lines.append(xml)
        for reg in regs:
            group = f" group={quoteattr(reg.group)}" if reg.group else ""
            lines.append(
                f"  <reg name={quoteattr(reg.name)} bitsize=\"{reg.bitsize}\""
                f" type={quoteattr(reg.type)} regnum=\"{reg.regnum}\"{group}/>"
            )
        lines.append("</feature>")
    lines.append("</target>")
    return "\n".join(lines) + "\n"


# --- qSupported ------------------------------------------------------------------

PROCESS_EVENTS = ("fork-events+", "vfork-events+", "exec-events+")


def supported_reply(capabilities: frozenset[Capability], packet_size: int, *, multiprocess: bool = False,
                    events: tuple[str, ...] = ()) -> bytes:
    """The ``qSupported`` reply: fixed protocol features plus capability-driven ones.

    ``multiprocess+`` only when gdb offered it: the stub then speaks ``p<pid>.<tid>``
    thread-ids, so gdb learns the real pid (``info proc`` needs it).  ``events``: the
    process events (``fork-events+``...) gdb offered that the stub will report.
    """
    features = [
        f"PacketSize={packet_size:x}",
        "QStartNoAckMode+",
        "qXfer:features:read+",
        "qXfer:threads:read+",
        "vContSupported+",
    ]
    if multiprocess:
        features.append("multiprocess+")
    optional = (
        (Capability.SW_BREAK, "swbreak+"),
        (Capability.HW_BREAK, "hwbreak+"),
        (Capability.AUXV, "qXfer:auxv:read+"),
        (Capability.EXEC_FILE, "qXfer:exec-file:read+"),
        (Capability.REVERSE_STEP, "ReverseStep+"),
        (Capability.REVERSE_CONTINUE, "ReverseContinue+"),
        (Capability.PASS_SIGNALS, "QPassSignals+"),
        (Capability.PASS_SIGNALS, "QProgramSignals+"),
        (Capability.CATCH_SYSCALLS, "QCatchSyscalls+"),
    )
    features += [name for cap, name in optional if cap in capabilities]
    features += list(events)
    return ";".join(features).encode("ascii")


# --- qXfer windowing ---------------------------------------------------------------


def xfer_chunk(data: bytes, offset: int, length: int) -> bytes:
    """Reply to ``qXfer:...:read:annex:offset,length``.

    ``m<data>`` when more follows, ``l<data>`` for the last (possibly empty)
    piece.  ``length`` counts unescaped bytes, as gdb sizes it from PacketSize.
    """
    piece = data[offset : offset + length]
    more = offset + length < len(data)
    return (b"m" if more else b"l") + escape(piece)
