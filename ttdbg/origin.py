"""`query origin EXPR [--at N] [--depth D]`: where a value came from.

Backward from position N: the last writes to EXPR's bytes (replay.scan's
write watch, system calls included), then for each writing instruction the
memory reads of a short window before it (replay.scan's reads_everywhere):

  - a store (mov and friends) copied a register: its source is the latest
    read in the window whose value is the stored value (copies through
    registers: loads then stores, strcpy and memcpy loops, scanf's copy of a
    character from the stdio buffer);
  - add/sub/and/or/xor into memory combined the old value (the
    instruction's own read: followed) and an operand (the latest read of
    that operand's value: followed);
  - anything else computed the value: a leaf, with the instruction shown;
  - bytes a system call wrote are an input (a read of fd F at icount X,
    byte offset Y in its buffer): a leaf;
  - bytes nobody wrote since the start are the program's image or zeros.

A heuristic over exact data: every step shown happened (its icount, pc and
value are the recording's), but "copied from" is found by value, so a
coincidentally equal read can stand in for the real source.  Depth-limited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from replay import ScanHit, ScanSpec, TraceDir, WatchRange, scan

WINDOW = 400                   # instructions before a store searched for the read it copied
_COMBINE = {"add": lambda new, old: new - old, "sub": lambda new, old: old - new,
            "xor": lambda new, old: new ^ old}


@dataclass
class Node:
    icount: int | None
    pc: int | None
    what: str                  # write, copy, combine, computed, input, initial, read
    address: int
    size: int
    value: bytes
    text: str = ""
    children: list[Node] = field(default_factory=list)


class OriginTracer:
    def __init__(self, trace: TraceDir, end: int, instruction_text: Callable[[int], str],
                 events: list, syscall_name: Callable[[object], str], pid: int | None = None) -> None:
        self.trace = trace
        self.pid = pid                         # the process whose memory is followed
        self.end = end
        self.insn = instruction_text
        self.events = events
        self.syscall_name = syscall_name
        self.scanned = 0

    def _scan(self, spec: ScanSpec, lo: int, hi: int) -> list[ScanHit]:
        result = scan(self.trace, spec, lo, hi, jobs=1, pid=self.pid)
        self.scanned += result.scanned
        return result.hits

    def last_writers(self, address: int, size: int, before: int) -> list[tuple[ScanHit | None, int, int]]:
        """For the bytes [address, address+size) as of position `before`: (the
        last hit that wrote them or None, first byte, end byte), in address order."""
        spec = ScanSpec(watches=(WatchRange(address, size, "write"),))
        owner: list[ScanHit | None] = [None] * size
        hi, span = before, 1 << 14
        while hi > 0 and any(o is None for o in owner):
            lo = max(0, hi - span)
            for h in reversed(self._scan(spec, lo, hi)):
                if h.kind not in ("write", "syscall"):
                    continue
                for k in range(max(h.address, address) - address, min(h.address + h.size, address + size) - address):
                    if owner[k] is None:
                        owner[k] = h
            hi, span = lo, span * 4
        out: list[tuple[ScanHit | None, int, int]] = []
        for k, h in enumerate(owner):
            if out and out[-1][0] is h and out[-1][2] == k:
                out[-1] = (h, out[-1][1], k + 1)
            else:
                out.append((h, k, k + 1))
        return out

    def explain(self, address: int, size: int, value: bytes, at: int, depth: int) -> Node:
        root = Node(at, None, "value", address, size, value)
        root.children = self._memory(address, size, at, depth)
        return root

    def _memory(self, address: int, size: int, before: int, depth: int) -> list[Node]:
        if depth <= 0:
            return []
        nodes = []
        for h, a, b in self.last_writers(address, size, before):
            if h is None:
                nodes.append(Node(None, None, "initial", address + a, b - a, b"",
                                  "not written since the start: the program's image, or zeros"))
                continue
            part = h.new[a:b]
            if h.kind == "syscall":
                index, buffer = h.data if isinstance(h.data, tuple) else (None, 0)
                ev = self.events[index] if index is not None else None
                name = self.syscall_name(ev) if ev is not None else "a system call"
                fd = getattr(ev, "fd", None)
                where = f" of fd {fd}" if fd is not None else ""
                nodes.append(Node(h.icount, h.pc, "input", address + a, b - a, part,
                                  f"input: {name}{where} at instruction {h.icount + 1:,}, "
                                  f"byte offset {address + a - buffer} of its buffer"))
                continue
            nodes.append(self._store(h, address, address + a, b - a, part, depth))
        return nodes

    def _store(self, h: ScanHit, base: int, address: int, size: int, value: bytes, depth: int) -> Node:
        """The write `h` left `value` at [address, address+size) (in the range watched from `base`)."""
        text = self.insn(h.pc)
        mnemonic = text.split()[0] if text else ""
        node = Node(h.icount, h.pc, "write", address, size, value, text)
        if depth <= 1:
            return node
        reads = [r for r in self._scan(ScanSpec(reads_everywhere=True), max(0, h.icount - WINDOW), h.icount + 1)
                 if r.kind == "read"]
        own = [r for r in reads if r.icount == h.icount]
        earlier = [r for r in reads if r.icount < h.icount]
        written = int.from_bytes(value, "little")
        if mnemonic in _COMBINE and own:
            node.what = "combine"
            old_read = own[0]
            old = int.from_bytes(old_read.old, "little")
            full_new = int.from_bytes(_slice(h, base, old_read), "little")
            operand = _COMBINE[mnemonic](full_new, old) & ((1 << (8 * old_read.size)) - 1)
            node.children.append(self._read(old_read, depth - 1, "old value"))
            src = _latest(earlier, operand, old_read.size)
            if src is not None:
                node.children.append(self._read(src[0], depth - 1, "operand", src[1], old_read.size))
            else:
                node.children.append(Node(None, None, "computed", 0, 0, operand.to_bytes(old_read.size, "little"),
                                          "operand computed in registers (no read of its value nearby)"))
            return node
        if own and mnemonic.startswith("movs"):
            node.what = "copy"
            node.children.append(self._read(own[0], depth - 1, "copied"))
            return node
        if mnemonic.startswith("mov") or mnemonic.startswith("st"):
            src = _latest(earlier, written, size)
            if src is not None:
                node.what = "copy"
                node.children.append(self._read(src[0], depth - 1, "copied from", src[1], size))
                return node
        node.what = "computed"
        digits = _parsed_from(earlier, int.from_bytes(value, "little", signed=True)) if size >= 2 else []
        if digits:
            node.what = "parsed"
            node.text += f"  (the number written as {''.join(chr(r.old[0]) for r in digits)!r} in the text read)"
            for r in digits:
                node.children.append(self._read(r, depth - 1, "digit", 0, 1))
            return node
        for r in own:
            node.children.append(self._read(r, depth - 1, "operand"))
        return node

    def _read(self, r: ScanHit, depth: int, role: str, offset: int = 0, size: int | None = None) -> Node:
        """The read `r`, followed for its bytes [offset, offset+size) (the ones that carried the value)."""
        size = r.size - offset if size is None else size
        address = r.address + offset
        node = Node(r.icount, r.pc, "read", address, size, r.old[offset:offset + size], f"{role}: {self.insn(r.pc)}")
        node.children = self._memory(address, size, r.icount, depth)
        return node


def _slice(h: ScanHit, base: int, r: ScanHit) -> bytes:
    """The bytes the write left where the read `r` read (the watched range, from `base`, after it)."""
    off = r.address - base
    data = h.new
    return data[:r.size] if off < 0 or off + r.size > len(data) else data[off:off + r.size]


def _parsed_from(reads: list[ScanHit], value: int) -> list[ScanHit]:
    """The latest reads of the decimal digits of `value`, in order (a number
    parsed from text, as strtol and scanf do); [] if they were not read."""
    text = str(value).encode()
    if len(text) > 20:
        return []
    found: list[ScanHit] = []
    want = len(text) - 1
    for r in reversed(reads):
        if want < 0:
            break
        if r.size == 1 and r.old == text[want:want + 1]:
            if found and r.address != found[-1].address - 1:
                continue                      # the digits of one number lie side by side
            found.append(r)
            want -= 1
    return list(reversed(found)) if want < 0 else []


def _latest(reads: list[ScanHit], value: int, size: int) -> tuple[ScanHit, int] | None:
    """The latest read that held `value` (`size` bytes), and the offset of those bytes in it."""
    want = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    for r in reversed(reads):
        if r.size == size and r.old == want:
            return r, 0
    for r in reversed(reads):
        if r.size > size and int.from_bytes(r.old, "little") == int.from_bytes(want, "little"):
            return r, 0                       # a zero-extending load (movzx) of the value
    for r in reversed(reads):
        k = r.old.find(want)
        if k >= 0 and r.size > size:
            return r, k                       # the value is part of a wider load (a byte of a word)
    return None
