"""gdbstub/ must import only the standard library (and itself)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import gdbstub

PACKAGE = Path(gdbstub.__file__).resolve().parent


def test_gdbstub_imports_only_stdlib() -> None:
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: inside gdbstub
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "__future__":
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_no_print_or_exit() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        text = path.read_text()
        assert "print(" not in text, path.name
        assert "sys.exit" not in text, path.name
