"""The variables pane, watch expressions, hovers, the debug console and memory:
variables, evaluate, readMemory.

Values are the REPL's: its expression language (repl/expressions.py) in the
frame the client names, read from the replayed memory and worded by
render.value.  Structs, arrays and pointers get a variablesReference that
expands their members, elements or target.  In the debug console
(`context: "repl"`), `-exec COMMAND` runs a REPL command (`when`, `goto 50%`,
`x/4xg $sp`, `reverse-finish`, `info registers`...); one that moves in time
is announced with a `stopped` event (reason `goto`).  The expression
`ttdbg/when` answers with the instruction count.
"""

from __future__ import annotations

import base64
import struct

from replay import ReplayError

from .. import render
from ..repl.expressions import INT_TYPES, LValue, format_int
from ..repl.frames import FrameScope, frame_pc, lvalue, selected_frame
from ..repl.table import CommandError
from ..symbols import CType, SymbolError
from .frames import frame_level
from .state import Body, DapError, DapState, Requests, ValueRef, arg

REQUESTS = Requests()
MAX_CHILDREN = 1000
EVALUATE_ERRORS = (CommandError, SymbolError, ReplayError, struct.error)


# -- one value ----------------------------------------------------------------------------------
def _expandable(ctype: CType | None) -> bool:
    if ctype is None:
        return False
    if ctype.kind == "struct":
        return bool(ctype.members)
    if ctype.kind == "array":
        return ctype.element is not None and bool(ctype.element.size) and ctype.element.kind != "char"
    return ctype.kind == "pointer" and ctype.element is not None and bool(ctype.element.size)


def _text(st: DapState, lv: LValue, strict: bool = False) -> str:
    r = st.r
    if lv.value is not None:
        if lv.ctype is not None and lv.ctype.kind == "pointer":
            name = r.images.name_at(lv.value)
            return f"{lv.value:#x}" + (f" <{name}>" if name else "")
        return format_int(lv.value, "d", lv.ctype)
    assert lv.address is not None
    ctype = lv.ctype or INT_TYPES[8]
    if ctype.size == 0 or ctype.kind == "other":
        name = r.images.name_at(lv.address)
        return f"{{{ctype.name}}} {lv.address:#x}" + (f" <{name}>" if name else "")
    try:
        return render.value(r.tl.read_memory(lv.address, ctype.size), ctype, r.images)
    except ReplayError:
        if strict:
            raise DapError(f"Cannot access memory at address {lv.address:#x}") from None
        return f"<unreadable at {lv.address:#x}>"


def describe(st: DapState, name: str, lv: LValue, evaluate_name: str = "", strict: bool = False) -> Body:
    """A DAP Variable (or, with `result` renamed, an evaluate body) for `lv`."""
    ref = 0
    if lv.address is not None and _expandable(lv.ctype):
        ref = st.handles.add(ValueRef("value", address=lv.address, ctype=lv.ctype, name=evaluate_name or name))
    body: Body = {"name": name, "value": _text(st, lv, strict), "type": lv.ctype.name if lv.ctype else "long",
                  "variablesReference": ref}
    if evaluate_name:
        body["evaluateName"] = evaluate_name
    if lv.address is not None:
        body["memoryReference"] = f"{lv.address:#x}"
    return body


def children(st: DapState, ref: ValueRef) -> list[tuple[str, LValue, str]]:
    """(name, value, expression) of a struct's members, an array's elements or a pointer's target."""
    t, address, expr = ref.ctype, ref.address, ref.name
    assert t is not None and address is not None
    if t.kind == "struct":
        return [(m, LValue(address + off, mt), f"({expr}).{m}") for m, off, mt in t.members]
    el = t.element
    assert el is not None
    if t.kind == "array":
        return [(f"[{i}]", LValue(address + i * el.size, el), f"{expr}[{i}]")
                for i in range(min(t.count, MAX_CHILDREN))]
    target = struct.unpack("<Q", st.r.tl.read_memory(address, 8))[0]
    return [(f"*{expr}", LValue(target, el), f"*{expr}")]


def _locals(st: DapState, level: int) -> list[tuple[str, LValue, str]]:
    r = st.r
    f = r.symbols.function_at(frame_pc(r)) if r.symbols is not None else None
    cfa = selected_frame(r).cfa
    if f is None or not cfa:
        return []
    return [(v.name, LValue(cfa + v.frame_offset, v.ctype), v.name)
            for v in f.variables if v.frame_offset is not None]


def _registers(st: DapState) -> list[tuple[str, LValue, str]]:
    scope = FrameScope(st.r)
    out = []
    debug = st.r.tl.arch.debug
    for name in debug.general_registers if debug else ():
        try:
            v = scope.frame_register(name)
        except KeyError:
            continue
        ctype = CType("void *", 8, "pointer") if name in scope.pointer_registers else CType("long", 8, "uint")
        out.append((name, LValue(None, ctype, v), f"${name}"))
    return out


def _globals(st: DapState) -> list[tuple[str, LValue, str]]:
    sym = st.r.symbols
    assert sym is not None
    return [(n, LValue(v.address, v.ctype), n) for n, v in sorted(sym.globals.items()) if v.address is not None]


def _select(st: DapState, level: int) -> None:
    st.r.view.frame = level


# -- requests -------------------------------------------------------------------------------
@REQUESTS.request("variables")
def variables(st: DapState, args: Body) -> Body:
    ref = st.handles.get(arg(args, "variablesReference", int, 0))
    _select(st, ref.level)
    try:
        if ref.kind == "locals":
            rows = _locals(st, ref.level)
        elif ref.kind == "registers":
            rows = _registers(st)
        elif ref.kind == "globals":
            rows = _globals(st)
        else:
            rows = children(st, ref)
        start = max(arg(args, "start", int, 0), 0)
        count = max(arg(args, "count", int, 0), 0)
        rows = rows[start:start + count] if count else rows[start:]
        out = []
        for name, lv, expr in rows:
            if ref.kind == "registers":
                out.append({"name": name, "value": f"{lv.value:#x}", "type": "register",
                            "variablesReference": 0, "evaluateName": expr})
            else:
                out.append(describe(st, name, lv, expr))
    except EVALUATE_ERRORS as exc:
        raise DapError(str(exc).splitlines()[0]) from None
    finally:
        _select(st, 0)
    return {"variables": out}


@REQUESTS.request("evaluate")
def evaluate(st: DapState, args: Body) -> Body:
    expr = arg(args, "expression", str, "").strip()
    context = arg(args, "context", str, "")
    if expr == "ttdbg/when":
        return {"result": str(st.r.session.when()), "variablesReference": 0}
    if expr.startswith("-exec") and context in ("repl", ""):
        return _command(st, expr[len("-exec"):].strip())
    if not expr:
        raise DapError("an empty expression")
    _select(st, frame_level(st, arg(args, "frameId", int)))
    try:
        body = describe(st, expr, lvalue(st.r, expr), expr, strict=True)
    except EVALUATE_ERRORS as exc:
        raise DapError(str(exc).splitlines()[0]) from None
    finally:
        _select(st, 0)
    return {"result": body["value"], "type": body["type"], "variablesReference": body["variablesReference"],
            **({"memoryReference": body["memoryReference"]} if "memoryReference" in body else {})}


def _command(st: DapState, line: str) -> Body:
    """A REPL command from the debug console; a change of position is a stop (reason `goto`)."""
    r = st.r
    before = r.tl.position
    text = r.execute(line)
    if r.tl.position != before:
        st.handles.reset()
        st.flush_output()
        st.emit("stopped", {"reason": "goto", "threadId": st.thread_id, "allThreadsStopped": True,
                            "description": f"{line.split()[0]} at icount {r.tl.position:,}"})
    return {"result": text, "variablesReference": 0}


@REQUESTS.request("readMemory")
def read_memory(st: DapState, args: Body) -> Body:
    ref = arg(args, "memoryReference", str, "")
    try:
        address = int(ref, 0) + arg(args, "offset", int, 0)
    except ValueError:
        raise DapError(f"not a memory reference: {ref!r}") from None
    count = min(max(arg(args, "count", int, 0), 0), 1 << 20)
    if address < 0:
        raise DapError("a negative address")
    data = st.r.tl.read_memory_prefix(address, count)
    return {"address": f"{address:#x}", "data": base64.b64encode(data).decode(),
            "unreadableBytes": count - len(data)}
