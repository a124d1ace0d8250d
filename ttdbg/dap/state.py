"""What the adapter keeps between requests, and the shape of a request handler.

`DapState` holds the REPL state the adapter drives (a `Repl` over the
trace's DebugSession: symbols, stepper, numbered breakpoints, expression
scope), the client's options, which breakpoints came from which source,
and the variable handles of the current stop.  Each module registers its
handlers beside their code (`REQUESTS = Requests()`, then
`@REQUESTS.request("next")` on a function `(DapState, arguments) -> body`);
server.py joins the tables.  A handler refuses with DapError (one line: the
error response's message) and announces with `state.emit(event, body)`,
which the server sends after the response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..repl import Repl
from ..symbols import CType
from .output import GuestOutput

Body = dict[str, Any]
Handler = Callable[["DapState", Body], "Body | None"]


class DapError(Exception):
    """A request refused with a one-line message."""


class Requests:
    """A module's request handlers, by DAP command name."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def request(self, command: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.handlers[command] = fn
            return fn
        return register

    def __iter__(self) -> Iterator[tuple[str, Handler]]:
        return iter(self.handlers.items())


@dataclass(frozen=True)
class ValueRef:
    """What a variablesReference expands: a frame's locals or registers, the globals, or a value's children."""
    kind: str                       # locals, registers, globals, value
    level: int = 0                  # locals, registers: the frame
    address: int | None = None      # value: where it lives
    ctype: CType | None = None      # value: its type
    name: str = ""                  # value: how its children are named (`p` -> `*p`)


class Handles:
    """variablesReference numbers; valid until the next motion (DAP's rule too)."""

    def __init__(self) -> None:
        self._refs: list[ValueRef] = []

    def add(self, ref: ValueRef) -> int:
        self._refs.append(ref)
        return len(self._refs)

    def get(self, number: int) -> ValueRef:
        if not isinstance(number, int) or not 0 < number <= len(self._refs):
            raise DapError(f"no variables with reference {number!r} (the program moved since)")
        return self._refs[number - 1]

    def reset(self) -> None:
        self._refs.clear()


@dataclass
class Options:
    """What launch/attach asked for."""
    stop_on_entry: bool = False
    stop_at_end: bool = False       # at the end of the history: a stop (so one can step back), not `terminated`


@dataclass
class DapState:
    default_trace: str | None
    emit: Callable[[str, Body], None]
    repl: Repl | None = None
    options: Options = field(default_factory=Options)
    lines_start_at_1: bool = True
    configured: bool = False
    ended: bool = False             # `terminated` was sent
    done: bool = False              # `disconnect` answered: the server exits
    handles: Handles = field(default_factory=Handles)
    source_breakpoints: dict[str, list[int]] = field(default_factory=dict)
    function_breakpoints: list[int] = field(default_factory=list)
    data_breakpoints: list[int] = field(default_factory=list)
    data_types: dict[str, CType] = field(default_factory=dict)   # dataId -> the watched value's type
    output: GuestOutput | None = None
    then: Callable[[], None] | None = None      # runs after the response (a motion)

    @property
    def r(self) -> Repl:
        if self.repl is None:
            raise DapError("no trace is open yet: send `launch` or `attach` first")
        return self.repl

    @property
    def thread_id(self) -> int:
        return self.r.session.pid

    def flush_output(self) -> None:
        """The program's new output, as `output` events."""
        if self.output is not None:
            for category, text in self.output.take():
                self.emit("output", {"category": category, "output": text})

    def line_out(self, line: int) -> int:
        return line if self.lines_start_at_1 else line - 1

    def line_in(self, line: int) -> int:
        return line if self.lines_start_at_1 else line + 1

    def console(self, text: str, category: str = "console") -> None:
        if text:
            self.emit("output", {"category": category, "output": text if text.endswith("\n") else text + "\n"})


def arg(args: Body, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    """`args[name]` checked for type; `default` when absent (a wrong type is refused in one line)."""
    value = args.get(name, default)
    if value is default:
        return value
    if isinstance(value, bool) and kind in (int, (int,)) or not isinstance(value, kind):
        want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DapError(f"argument {name!r} must be of type {want}")
    return value
