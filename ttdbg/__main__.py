"""`python -m ttdbg` (and the `ttdbg` script) runs the command line.

Loading the engine's modules takes a noticeable fraction of a second; a
Ctrl-C then must end in one line and status 130, like one anywhere else,
not in a traceback from the middle of an import.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import entry
    except KeyboardInterrupt:
        sys.stderr.write("ttdbg: interrupted\n")
        raise SystemExit(130) from None
    entry()


if __name__ == "__main__":
    main()
