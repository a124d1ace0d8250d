"""The disassembly view: the `disassemble` request over the replayed memory.

Going forward from an address is plain decoding.  Going back (a negative
`instructionOffset`, which the view asks for to show what led to the pc)
has no unique answer on x86, so decoding starts at the enclosing
function's first instruction when the symbols know it, else at a few
earlier bytes until one run of instructions lands exactly on the address.
Rows that cannot be decoded (unmapped memory) are marked invalid, so the
reply always has the count asked for.
"""

from __future__ import annotations

from replay import Instruction, ReplayError

from ..repl import Repl
from .state import Body, DapError, DapState, Requests, arg

REQUESTS = Requests()
MAX_INSTRUCTIONS = 4096
LONGEST = 15                               # bytes in the longest x86 instruction


def _forward(r: Repl, address: int, count: int) -> list[Instruction]:
    return r.decode(address, count)


def _run_to(r: Repl, start: int, address: int) -> list[Instruction] | None:
    """The instructions from `start` up to (not including) `address`, if decoding lands on it."""
    out: list[Instruction] = []
    at = start
    while at < address:
        try:
            insn = r.tl.instruction_at(at)
        except ReplayError:
            return None
        if insn is None:
            return None
        out.append(insn)
        at += insn.size
    return out if at == address else None


def _backward(r: Repl, address: int, count: int, depth: int = 0) -> list[Instruction]:
    """Up to `count` instructions ending just before `address`: from the enclosing function's
    start (and on into the function before it), else from a few bytes that decode onto it."""
    f = r.symbols.function_at(address) if r.symbols is not None else None
    if f is not None and f.low < address and address - f.low <= LONGEST * MAX_INSTRUCTIONS:
        run = _run_to(r, f.low, address)
        if run is not None:
            if len(run) < count and depth < 4:
                run = _backward(r, f.low, count - len(run), depth + 1) + run
            return run[-count:]
    for k in range(LONGEST):
        start = address - LONGEST * count - k
        run = _run_to(r, start, address) if start >= 0 else None
        if run is not None:
            return run[-count:]
    return []


def _row(st: DapState, insn: Instruction, last_line: list[int | None]) -> Body:
    r = st.r
    row: Body = {"address": f"{insn.address:#x}", "instruction": insn.text()}
    try:
        row["instructionBytes"] = r.tl.read_memory(insn.address, insn.size).hex(" ")
    except ReplayError:
        pass
    name = r.images.name_at(insn.address)
    if name is not None:
        row["symbol"] = name
    line = r.symbols.line_at(insn.address) if r.symbols is not None and r.images.object_at(insn.address) is None \
        else None
    if line is not None and line.line != last_line[0]:
        row.update(location={"name": line.file.rsplit("/", 1)[-1], "path": line.file}, line=st.line_out(line.line))
    last_line[0] = line.line if line is not None else None
    return row


def _invalid(address: int) -> Body:
    return {"address": f"{max(address, 0):#x}", "instruction": "??", "presentationHint": "invalid"}


@REQUESTS.request("disassemble")
def disassemble(st: DapState, args: Body) -> Body:
    r = st.r
    ref = arg(args, "memoryReference", str, "")
    try:
        address = int(ref, 0) + arg(args, "offset", int, 0)
    except ValueError:
        raise DapError(f"not a memory reference: {ref!r}") from None
    count = arg(args, "instructionCount", int, 0)
    if not 0 <= count <= MAX_INSTRUCTIONS:
        raise DapError(f"instructionCount must be 0-{MAX_INSTRUCTIONS}")
    first = arg(args, "instructionOffset", int, 0)
    insns: list[Instruction] = []
    if first < 0:
        before = _backward(r, address, -first)
        pad = -first - len(before)
        lead = before[0].address if before else address
        rows = [_invalid(lead - pad + i) for i in range(pad)]
        insns = before + _forward(r, address, max(count + first, 0))
        insns = insns[:max(count - pad, 0)]
    else:
        rows = []
        insns = _forward(r, address, first + count)[first:]
    last_line: list[int | None] = [None]
    rows += [_row(st, insn, last_line) for insn in insns]
    end = int(rows[-1]["address"], 16) + 1 if rows else address
    rows += [_invalid(end + i) for i in range(count - len(rows))]
    return {"instructions": rows[:count]}
