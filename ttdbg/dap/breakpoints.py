"""Breakpoints from a DAP client: source lines, functions, data (watchpoints).

Each request replaces the client's previous set of its kind (for source
lines: of that source).  They become the REPL's numbered breakpoints and
watchpoints, so a DAP breakpoint id is the REPL's number, lines resolve
through the DWARF line table as `break FILE:LINE` does (a line without code
moves to the next one that has some, and the reply says which), and a data
breakpoint stops both forwards and backwards (reverseContinue to the last
write).
"""

from __future__ import annotations

import os

from replay import ReplayError, WatchKind, Watchpoint

from ..repl.breakpoints import resolve
from ..repl.expressions import LValue
from ..repl.frames import lvalue
from ..repl.table import CommandError
from ..symbols import SymbolError
from .frames import frame_level, source
from .state import Body, DapError, DapState, Requests, arg
from .values import children

REQUESTS = Requests()
ACCESS = {"write": WatchKind.WRITE, "read": WatchKind.READ, "readWrite": WatchKind.ACCESS}


def _drop(st: DapState, numbers: list[int]) -> None:
    for n in numbers:
        if n in st.r.breakpoints:
            st.r.breakpoints.remove(n)


@REQUESTS.request("setBreakpoints")
def set_breakpoints(st: DapState, args: Body) -> Body:
    r = st.r
    src = arg(args, "source", dict, {})
    path = src.get("path") or src.get("name")
    if not isinstance(path, str) or not path:
        raise DapError("setBreakpoints needs source.path")
    _drop(st, st.source_breakpoints.pop(path, []))
    wanted = arg(args, "breakpoints", list, None)
    if wanted is None:                                   # the deprecated `lines` form
        wanted = [{"line": n} for n in arg(args, "lines", list, [])]
    out: list[Body] = []
    numbers: list[int] = []
    for want in wanted:
        line = want.get("line") if isinstance(want, dict) else None
        if not isinstance(line, int) or isinstance(line, bool):
            out.append({"verified": False, "message": "a breakpoint without a line number"})
            continue
        if r.symbols is None:
            out.append({"verified": False, "line": line, "message": "the program has no symbols"})
            continue
        try:
            address = r.symbols.resolve_line(path, st.line_in(line))
        except SymbolError as exc:
            out.append({"verified": False, "line": line, "message": str(exc)})
            continue
        row = r.symbols.line_at(address)
        b = r.breakpoints.add("breakpoint", f"{os.path.basename(path)}:{line}", address)
        numbers.append(b.number)
        out.append({"id": b.number, "verified": True, "line": st.line_out(row.line) if row else line,
                    "source": source(row.file) if row else src, "instructionReference": f"{address:#x}"})
    st.source_breakpoints[path] = numbers
    return {"breakpoints": out}


@REQUESTS.request("setFunctionBreakpoints")
def set_function_breakpoints(st: DapState, args: Body) -> Body:
    r = st.r
    _drop(st, st.function_breakpoints)
    st.function_breakpoints = []
    out: list[Body] = []
    for want in arg(args, "breakpoints", list, []):
        name = want.get("name") if isinstance(want, dict) else None
        if not isinstance(name, str) or not name.strip():
            out.append({"verified": False, "message": "a function breakpoint without a name"})
            continue
        try:
            address = resolve(r, name)
        except (SymbolError, CommandError, ReplayError) as exc:
            out.append({"verified": False, "message": str(exc).splitlines()[0]})
            continue
        b = r.breakpoints.add("breakpoint", name, address)
        st.function_breakpoints.append(b.number)
        body: Body = {"id": b.number, "verified": True, "instructionReference": f"{address:#x}"}
        row = r.symbols.line_at(address) if r.symbols is not None else None
        if row is not None and r.images.object_at(address) is None:
            body.update(line=st.line_out(row.line), source=source(row.file))
        out.append(body)
    return {"breakpoints": out}


@REQUESTS.request("setExceptionBreakpoints")
def set_exception_breakpoints(st: DapState, args: Body) -> Body:
    return {"breakpoints": []}                           # no exception filters: signals always stop


# -- data breakpoints (watchpoints) ------------------------------------------------------------
def _data_id(expr: str, lv: LValue) -> str:
    size = lv.ctype.size if lv.ctype is not None and lv.ctype.size else 8
    return f"{lv.address:#x}/{min(size, 8)}/{expr}"


@REQUESTS.request("dataBreakpointInfo")
def data_breakpoint_info(st: DapState, args: Body) -> Body:
    name = arg(args, "name", str, "")
    container = arg(args, "variablesReference", int)
    lv = None
    try:
        if container:
            ref = st.handles.get(container)
            if ref.kind == "value":
                lv = next((v for n, v, _ in children(st, ref) if n == name), None)
            elif ref.kind in ("locals", "globals"):
                st.r.view.frame = ref.level
                lv = lvalue(st.r, name)
        else:
            st.r.view.frame = frame_level(st, arg(args, "frameId", int))
            lv = lvalue(st.r, name)
    except (CommandError, SymbolError, ReplayError) as exc:
        return {"dataId": None, "description": str(exc).splitlines()[0]}
    finally:
        st.r.view.frame = 0
    if lv is None or lv.address is None:
        return {"dataId": None, "description": f"{name} is not in memory"}
    data_id = _data_id(name, lv)
    if lv.ctype is not None and 0 < lv.ctype.size <= 8 and lv.ctype.kind != "struct":
        st.data_types[data_id] = lv.ctype
    return {"dataId": data_id, "description": f"{name} ({lv.address:#x})",
            "accessTypes": list(ACCESS), "canPersist": False}


@REQUESTS.request("setDataBreakpoints")
def set_data_breakpoints(st: DapState, args: Body) -> Body:
    r = st.r
    _drop(st, st.data_breakpoints)
    st.data_breakpoints = []
    out: list[Body] = []
    for want in arg(args, "breakpoints", list, []):
        data_id = want.get("dataId") if isinstance(want, dict) else None
        kind = ACCESS.get(want.get("accessType", "write") if isinstance(want, dict) else "", None)
        try:
            address_text, size_text, expr = str(data_id).split("/", 2)
            address, size = int(address_text, 16), int(size_text)
        except ValueError:
            out.append({"verified": False, "message": f"not a data breakpoint id: {data_id!r}"})
            continue
        if kind is None or not 0 < size <= 8:
            out.append({"verified": False, "message": "an unknown access type or size"})
            continue
        b = r.breakpoints.add("watchpoint", expr, address, watch=Watchpoint(address, size, kind),
                              ctype=st.data_types.get(str(data_id)))
        st.data_breakpoints.append(b.number)
        out.append({"id": b.number, "verified": True})
    return {"breakpoints": out}
