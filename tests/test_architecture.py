"""The layering rules of ARCHITECTURE.md, checked by walking the imports.

- gdbstub/ imports only the standard library, and nothing of replay/ or ttdbg/;
- replay/ never imports gdbstub, ttdbg, prompt_toolkit or pygdbmi;
- only replay/machine.py imports unicorn, only replay/disasm.py imports capstone
  (replay/page_images.py and icount.py reach Unicorn only through machine.py);
- ttdbg/ reaches the engine only through replay's public API (`from replay import X`,
  X listed in replay/__init__.py's __all__), and never through the engine's insides:
  no `.machine`, `.uc` or `.kernel` attribute of an engine object (the Timeline answers);
- ttdbg/ maps the engine's stops to the stub's in one place: gdbstub's StopReason is built
  only in gdb_target.py's `_translate`;
- no package has an import cycle (imports inside functions count: a lazy import is how a
  cycle hides; imports under `if TYPE_CHECKING:` never run and do not).

Each checker is also run on a small fake tree that breaks its rule, so a
checker that can no longer see a violation fails too.
"""

from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("replay", "gdbstub", "ttdbg")
FORBIDDEN = {
    "gdbstub": {"replay", "ttdbg"},
    "replay": {"gdbstub", "ttdbg", "prompt_toolkit", "pygdbmi"},
}



def imports_of(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def files(package: str, root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    return sorted((root / package).rglob("*.py"))


# -- the import graph -----------------------------------------------------------------------------
def module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def run_time_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` except those under `if TYPE_CHECKING:` (they never run)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if _type_checking_only(node):
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return out


def import_graph(root: pathlib.Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module -> the modules of `packages` it imports (anywhere in its body)."""
    paths = {module_name(p, root): p for pkg in packages for p in files(pkg, root)}

    def known(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for mod, path in paths.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in run_time_nodes(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                edges.update(t for a in node.names if (t := known(a.name)))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod if is_package else mod.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    full = f"{base}.{node.module}" if node.module else base
                else:
                    full = node.module or ""
                for a in node.names:
                    target = known(f"{full}.{a.name}") if f"{full}.{a.name}" in paths else known(full)
                    if target:
                        edges.add(target)
        edges.discard(mod)
        graph[mod] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layering_violations(root: pathlib.Path) -> list[str]:
    out = []
    for package, forbidden in FORBIDDEN.items():
        for path in files(package, root):
            bad = imports_of(path) & forbidden
            if bad:
                out.append(f"{path.relative_to(root)} imports {sorted(bad)}")
    return out


def public_api(root: pathlib.Path) -> set[str]:
    """The names replay/__init__.py lists in __all__."""
    tree = ast.parse((root / "replay" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def private_engine_imports(root: pathlib.Path) -> list[str]:
    """ttdbg imports of replay's submodules, or of names replay does not export."""
    api = public_api(root)
    out = []
    for path in files("ttdbg", root):
        rel = path.relative_to(root)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                out += [f"{rel}: import {a.name}" for a in node.names if a.name.startswith("replay.")]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.startswith("replay."):
                    out.append(f"{rel}: from {node.module} import ...")
                elif node.module == "replay":
                    out += [f"{rel}: replay.{a.name} is not public" for a in node.names if a.name not in api]
    return out


# Attributes behind the engine's public objects (the Timeline's machine, its Unicorn, its kernel).
ENGINE_INSIDES = frozenset({"machine", "uc", "kernel", "process"})
# (file, expression) uses of those names that are not the engine's insides.
NOT_ENGINE_INSIDES = {("ttdbg/trace_summary.py", "h.machine"),     # the trace header's ELF machine number
                      ("ttdbg/gdb_program.py", "os.uname().machine")}  # the host's CPU (which gdb to run)


def engine_insides_touched(root: pathlib.Path) -> list[str]:
    """ttdbg expressions reading `.machine`, `.uc` or `.kernel` of anything."""
    out = []
    for path in files("ttdbg", root):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Attribute) and node.attr in ENGINE_INSIDES:
                text = ast.unparse(node)
                if (rel, text) not in NOT_ENGINE_INSIDES:
                    out.append(f"{rel}:{node.lineno}: {text}")
    return sorted(out)


def stub_stops_built_outside_translate(root: pathlib.Path) -> list[str]:
    """ttdbg code building gdbstub's StopReason anywhere but in a function named `_translate`."""
    out = []
    for path in files("ttdbg", root):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(), filename=str(path))
        names = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module == "gdbstub" for a in node.names if a.name == "StopReason"}
        if not names:
            continue
        todo: list[tuple[ast.AST, str]] = [(tree, "")]
        while todo:
            node, function = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                function = node.name
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
                    and function != "_translate"):
                out.append(f"{rel}:{node.lineno} in {function or 'the module'}")
            todo.extend((child, function) for child in ast.iter_child_nodes(node))
    return sorted(out)


def _fake_tree(tmp_path: pathlib.Path, modules: dict[str, str]) -> pathlib.Path:
    for name, text in modules.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


# -- the rules ------------------------------------------------------------------------------------
def test_gdbstub_uses_only_the_standard_library() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__", "gdbstub"}
    for path in files("gdbstub"):
        foreign = imports_of(path) - stdlib
        assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_gdbstub_and_replay_know_nothing_of_each_other_or_the_ui(tmp_path) -> None:
    assert layering_violations(ROOT) == []
    fake = _fake_tree(tmp_path, {"gdbstub/__init__.py": "", "gdbstub/target.py": "from replay.timeline import X\n",
                                 "replay/__init__.py": "", "replay/ui.py": "def f():\n    import prompt_toolkit\n"})
    assert layering_violations(fake) == ["gdbstub/target.py imports ['replay']",
                                         "replay/ui.py imports ['prompt_toolkit']"]


def test_unicorn_and_capstone_each_have_one_importer() -> None:
    for path in files("replay"):
        names = imports_of(path)
        rel = path.relative_to(ROOT).as_posix()
        if "unicorn" in names:
            assert rel == "replay/machine.py", f"{rel} imports unicorn"
        if "capstone" in names:
            assert rel == "replay/disasm.py", f"{rel} imports capstone"


def test_ttdbg_uses_only_the_engines_public_api(tmp_path) -> None:
    assert private_engine_imports(ROOT) == []
    fake = _fake_tree(tmp_path, {"replay/__init__.py": '__all__ = ["Timeline"]\n',
                                 "ttdbg/__init__.py": "",
                                 "ttdbg/ok.py": "from replay import Timeline\n",
                                 "ttdbg/bad.py": "from replay.machine import Machine\nfrom replay import Secret\n"})
    assert private_engine_imports(fake) == ["ttdbg/bad.py: from replay.machine import ...",
                                            "ttdbg/bad.py: replay.Secret is not public"]


def test_ttdbg_never_reaches_behind_the_timeline(tmp_path) -> None:
    assert engine_insides_touched(ROOT) == []
    fake = _fake_tree(tmp_path, {
        "ttdbg/__init__.py": "",
        "ttdbg/ok.py": "def f(tl):\n    return tl.instruction_at(tl.pc)\n",
        "ttdbg/bad.py": "def f(tl, r):\n    tl.machine.mem.read(0, 1)\n    return r.tl.kernel.state, tl.machine.uc\n",
        "ttdbg/trace_summary.py": "def g(h):\n    return h.machine\n",
    })
    assert engine_insides_touched(fake) == ["ttdbg/bad.py:2: tl.machine", "ttdbg/bad.py:3: r.tl.kernel",
                                            "ttdbg/bad.py:3: tl.machine", "ttdbg/bad.py:3: tl.machine.uc"]


def test_engine_stops_map_to_the_stubs_in_one_place(tmp_path) -> None:
    assert stub_stops_built_outside_translate(ROOT) == []
    fake = _fake_tree(tmp_path, {
        "ttdbg/__init__.py": "",
        "ttdbg/ok.py": "from gdbstub import StopReason as S\nclass T:\n    def _translate(self, stop):\n"
                       "        return S(1)\n",
        "ttdbg/bad.py": "from gdbstub import StopKind, StopReason\nclass T:\n    def resume(self):\n"
                        "        return StopReason(StopKind.REPLAY_END)\n",
        "ttdbg/other.py": "from replay import StopReason\nX = StopReason('arrived')\n",   # the engine's own
    })
    assert stub_stops_built_outside_translate(fake) == ["ttdbg/bad.py:4 in resume"]


def test_no_import_cycles(tmp_path) -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert {"ttdbg.repl.commands", "ttdbg.cli", "replay.timeline", "gdbstub"} <= set(graph)
    assert "ttdbg.repl.state" in graph["ttdbg.repl.motion"]          # relative imports resolve
    assert cycles(graph) == []
    fake = _fake_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": "from .c import C\n",
        "pkg/c.py": "def late():\n    from pkg.a import f\n",
        "pkg/e.py": "from . import f\n",                           # e <-> f only for the type checker
        "pkg/f.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .e import E\n",
        "pkg/d.py": "from .a import b\n",                           # imports the cycle, is not in it
    })
    assert cycles(import_graph(fake, ("pkg",))) == [["pkg.a", "pkg.b", "pkg.c"]]
