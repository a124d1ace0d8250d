"""`python -m ttdbg` runs the command line."""

from .cli import entry

entry()
