"""The guest OS personality: Linux x86-64 system calls, files, signals."""
