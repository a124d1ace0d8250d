"""The layering rules of ARCHITECTURE.md, checked by walking the imports.

- gdbstub/ imports only the standard library;
- replay/ never imports gdbstub, ttdbg or prompt_toolkit;
- only replay/machine.py imports unicorn, only replay/disasm.py imports capstone
  (replay/checkpoint.py and icount.py reach Unicorn only through machine.py).
"""

from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def imports_of(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def files(package: str) -> list[pathlib.Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_gdbstub_uses_only_the_standard_library() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__", "gdbstub"}
    for path in files("gdbstub"):
        foreign = imports_of(path) - stdlib
        assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_replay_knows_nothing_of_gdb_or_the_ui() -> None:
    for path in files("replay"):
        bad = imports_of(path) & {"gdbstub", "ttdbg", "prompt_toolkit", "pygdbmi"}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_unicorn_and_capstone_each_have_one_importer() -> None:
    for path in files("replay"):
        names = imports_of(path)
        rel = path.relative_to(ROOT).as_posix()
        if "unicorn" in names:
            assert rel == "replay/machine.py", f"{rel} imports unicorn"
        if "capstone" in names:
            assert rel == "replay/disasm.py", f"{rel} imports capstone"


def test_the_wiring_lives_in_ttdbg() -> None:
    both = [p for p in files("ttdbg") if {"gdbstub", "replay"} <= imports_of(p)]
    assert both, "ttdbg/ should wire gdbstub to replay"
