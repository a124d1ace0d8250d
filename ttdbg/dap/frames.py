"""The call stack pane: stackTrace and scopes.

Frames come from the REPL's unwinder (the stepper, through the program's
and libraries' CFI), named as the REPL names them; a frame's id is its
level + 1 and stays valid until the next motion.  Each frame has three
scopes: its locals, its registers (as unwound) and the program's globals.
"""

from __future__ import annotations

import os

from ..repl.frames import frame_words
from ..symbols import Frame
from .state import Body, DapError, DapState, Requests, ValueRef, arg

REQUESTS = Requests()


def source(path: str) -> Body:
    return {"name": os.path.basename(path), "path": path}


def frame_level(st: DapState, frame_id: int | None) -> int:
    """The level a frameId names (frame 0 without one); refused if the stack has no such frame."""
    if frame_id is None:
        return 0
    level = frame_id - 1
    if level < 0 or len(st.r.stepper.frames(level + 1)) <= level:
        raise DapError(f"no frame with id {frame_id} here")
    return level


def frame_body(st: DapState, fr: Frame) -> Body:
    r = st.r
    name, tail = frame_words(r, fr.pc, caller=fr.level > 0)
    body: Body = {"id": fr.level + 1, "name": name if name != "??" else f"{fr.pc:#x}",
                  "line": 0, "column": 0, "instructionPointerReference": f"{fr.pc:#x}"}
    row = None
    if r.symbols is not None and r.images.object_at(fr.pc) is None:
        row = r.symbols.line_at(fr.pc - 1 if fr.level else fr.pc)
    if row is not None:
        body.update(source=source(row.file), line=st.line_out(row.line), column=1)
    else:
        body["presentationHint"] = "subtle"          # no source: a library or code without -g
        if tail:
            body["name"] += f" ({tail})"
    return body


@REQUESTS.request("stackTrace")
def stack_trace(st: DapState, args: Body) -> Body:
    frames = st.r.stepper.frames()
    start = max(arg(args, "startFrame", int, 0), 0)
    levels = max(arg(args, "levels", int, 0), 0)
    chosen = frames[start:start + levels] if levels else frames[start:]
    return {"stackFrames": [frame_body(st, f) for f in chosen], "totalFrames": len(frames)}


@REQUESTS.request("scopes")
def scopes(st: DapState, args: Body) -> Body:
    level = frame_level(st, arg(args, "frameId", int))
    out = [{"name": "Locals", "presentationHint": "locals", "expensive": False,
            "variablesReference": st.handles.add(ValueRef("locals", level))},
           {"name": "Registers", "presentationHint": "registers", "expensive": False,
            "variablesReference": st.handles.add(ValueRef("registers", level))}]
    if st.r.symbols is not None and st.r.symbols.globals:
        out.append({"name": "Globals", "expensive": False,
                    "variablesReference": st.handles.add(ValueRef("globals"))})
    return {"scopes": out}
