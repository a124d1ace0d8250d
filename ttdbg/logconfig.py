"""Logging set-up for the command line: levels from --log or $TTDBG_LOG.

    TTDBG_LOG=debug                 everything at debug
    TTDBG_LOG=gdbstub=debug,replay=info
Guest warnings (unsupported system calls, ...) always reach stderr as
"ttdbg: warning: ..." lines.
"""

from __future__ import annotations

import logging
import os
import sys


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.WARNING:
            text = f"ttdbg: {record.levelname.lower()}: {record.getMessage()}"
        else:
            text = f"ttdbg: [{record.name}] {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure(spec: str | None = None) -> None:
    spec = spec if spec is not None else os.environ.get("TTDBG_LOG", "")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, level = part.rpartition("=")
        value = getattr(logging, level.upper(), None)
        if not isinstance(value, int):
            continue
        logging.getLogger(name or None).setLevel(value)
