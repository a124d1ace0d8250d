"""What the stub tells gdb about itself and the target.

Two things live here because both are derived from the same facts:

* the ``qSupported`` reply, built from the target's capabilities so gdb is
  only offered what the target can do;
* the target description (``target.xml``), generated from the target's one
  register table (its ``description``; :data:`X86_64` here) - the same table
  the session uses to pack ``g`` replies, so the description and the register
  packet cannot disagree.

It also holds :func:`xfer_chunk`, the ``m``/``l`` windowing used by every
``qXfer:...:read`` object.

``PROCESS_EVENTS`` names the qSupported features gdb offers for a process's
forks, vforks and execs; the stub takes up those gdb offered that the target
can report (fork and vfork events name the child ``p<pid>.<tid>``, so they
need ``multiprocess+`` as well).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from xml.sax.saxutils import quoteattr

from .framing import escape
from .target import Capability, RegisterInfo, TargetDescription

# --- the x86-64 register table (gdb's amd64-linux numbering) -------------------

CORE = "org.gnu.gdb.i386.core"
SSE = "org.gnu.gdb.i386.sse"
LINUX = "org.gnu.gdb.i386.linux"
SEGMENTS = "org.gnu.gdb.i386.segments"


def _x86_64_registers() -> tuple[RegisterInfo, ...]:
    rows: list[tuple[str, int, str, str | None, str]] = []
    for name in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"):
        kind = "data_ptr" if name in ("rbp", "rsp") else "int64"
        rows.append((name, 64, kind, "general", CORE))
    rows += [(f"r{i}", 64, "int64", "general", CORE) for i in range(8, 16)]
    rows.append(("rip", 64, "code_ptr", "general", CORE))
    rows.append(("eflags", 32, "i386_eflags", "general", CORE))
    rows += [(seg, 32, "int32", "general", CORE) for seg in ("cs", "ss", "ds", "es", "fs", "gs")]
    rows += [(f"st{i}", 80, "i387_ext", "float", CORE) for i in range(8)]
    rows += [
        (name, 32, "int", "float", CORE)
        for name in ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")
    ]
    rows += [(f"xmm{i}", 128, "vec128", "vector", SSE) for i in range(16)]
    rows.append(("mxcsr", 32, "i386_mxcsr", "vector", SSE))
    rows.append(("orig_rax", 64, "int", "system", LINUX))
    rows.append(("fs_base", 64, "int", "system", SEGMENTS))
    rows.append(("gs_base", 64, "int", "system", SEGMENTS))
    expedite = {"rbp", "rsp", "rip"}
    return tuple(
        RegisterInfo(
            name=name,
            bitsize=bits,
            type=kind,
            regnum=num,
            feature=feature,
            group=group,
            expedite=name in expedite,
        )
        for num, (name, bits, kind, group, feature) in enumerate(rows)
    )


X86_64 = TargetDescription(
    architecture="i386:x86-64", registers=_x86_64_registers(), osabi="GNU/Linux"
)
"""gdb's standard amd64 GNU/Linux register set: 60 registers, ``g`` = 560 bytes."""

X86_64_PC = 16  # rip
X86_64_SP = 7  # rsp

# --- types the x86 features refer to ---------------------------------------------


def _flags(type_id: str, size: int, fields: tuple[tuple[str, int], ...]) -> str:
    lines = [f'  <flags id="{type_id}" size="{size}">']
    lines += [f'    <field name="{name}" start="{bit}" end="{bit}"/>' for name, bit in fields]
    lines.append("  </flags>")
    return "\n".join(lines)


_EFLAGS = _flags(
    "i386_eflags",
    4,
    (
        ("CF", 0), ("", 1), ("PF", 2), ("AF", 4), ("ZF", 6), ("SF", 7), ("TF", 8),
        ("IF", 9), ("DF", 10), ("OF", 11), ("NT", 14), ("RF", 16), ("VM", 17),
        ("AC", 18), ("VIF", 19), ("VIP", 20), ("ID", 21),
    ),
)  # fmt: skip
_MXCSR = _flags(
    "i386_mxcsr",
    4,
    (
        ("IE", 0), ("DE", 1), ("ZE", 2), ("OE", 3), ("UE", 4), ("PE", 5), ("DAZ", 6),
        ("IM", 7), ("DM", 8), ("ZM", 9), ("OM", 10), ("UM", 11), ("PM", 12), ("FZ", 15),
    ),
)  # fmt: skip
_VEC128 = """\
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/>
    <field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/>
    <field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/>
    <field name="uint128" type="uint128"/>
  </union>"""

TYPE_DEFINITIONS: Mapping[str, str] = MappingProxyType(
    {"i386_eflags": _EFLAGS, "i386_mxcsr": _MXCSR, "vec128": _VEC128}
)
"""Non-builtin types, emitted inside the first feature whose registers use them."""


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
            xml = description.types.get(reg.type) or TYPE_DEFINITIONS.get(reg.type)
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
