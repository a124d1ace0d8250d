"""ttdbg: the command line, the REPL, and the wiring of the engine to the gdb stub."""

__version__ = "0.1.0"
