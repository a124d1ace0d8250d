"""The ttdbg engine: record and replay x86-64 Linux programs on Unicorn.

Knows nothing of gdb or of any user interface (see ARCHITECTURE.md).
"""
