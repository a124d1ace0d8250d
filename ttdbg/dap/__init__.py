"""`ttdbg dap`: the Debug Adapter Protocol over a trace, for VS Code and other DAP clients.

Speaks DAP directly over the replay session (the REPL's symbols, frames,
stepper and expressions); gdb's own DAP interpreter has no stepBack or
reverseContinue (see README).  One module per job:

- wire.py         Content-Length framing, JSON in and out
- state.py        what the adapter keeps; the request table's shape; variable handles
- server.py       the read/answer loop, error responses, `run_dap`
- lifecycle.py    initialize (capabilities), launch/attach, configurationDone, restart, threads, disconnect
- breakpoints.py  setBreakpoints, setFunctionBreakpoints, data breakpoints (watchpoints)
- motion.py       continue/next/stepIn/stepOut/stepBack/reverseContinue, ttdbg/goto, the stopped event
- frames.py       stackTrace, scopes
- values.py       variables, evaluate (watch, hover, debug console `-exec`), readMemory
- code.py         disassemble (the disassembly view), backwards too
- output.py       the program's output as `output` events, each write once
"""

from __future__ import annotations

from .server import run_dap

__all__ = ["run_dap"]
