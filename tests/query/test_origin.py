"""`query origin`: the demo's clobbered total traced back to the stdin bytes it came from."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from harness import Ttdbg

EXAMPLES = Path(__file__).resolve().parents[2] / "ttdbg" / "examples"


@pytest.fixture(scope="module", params=("static", "dynamic"))
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Ttdbg, Path]:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed")
    base = tmp_path_factory.mktemp(f"origin-{request.param}")
    (base / "work").mkdir()
    program = base / "demo"
    flags = ["-static"] if request.param == "static" else []
    subprocess.run(["gcc", "-g", "-O1", *flags, "-o", str(program), str(EXAMPLES / "demo.c")], check=True)
    t = Ttdbg(base / "traces", base / "work")
    trace, run = t.record(program, stdin=(EXAMPLES / "demo-input.txt").read_bytes())
    assert run.status == 1 and "7562631" in run.out, run.err
    return t, trace


def test_origin_of_the_clobbered_total(demo: tuple[Ttdbg, Path]) -> None:
    t, trace = demo
    run = t("query", trace, "origin", "items[2].total", "--json")
    assert run.status == 0, run.err
    steps = [json.loads(line) for line in run.out.splitlines()]
    assert steps[0]["depth"] == 0 and steps[0]["value"] == "7562631"
    add = steps[1]
    assert add["step"] == "combine" and add["function"] == "main" and add["line"] == 45 and "add" in add["text"]
    text = (EXAMPLES / "demo-input.txt").read_bytes()
    inputs = [s for s in steps if s["step"] == "input"]
    offsets = sorted({int(s["text"].split("byte offset ")[1].split()[0]) for s in inputs})
    # "ies" (strcpy's overrun of "blueberries") and "30" (the parsed quantity), at their offsets in stdin.
    assert bytes(text[o] for o in offsets) == b"ies30"
    assert offsets == [text.index(b"ies"), text.index(b"ies") + 1, text.index(b"ies") + 2,
                       text.index(b"30"), text.index(b"30") + 1]
    assert all("read of fd 0" in s["text"] for s in inputs)
    assert any(s["step"] == "parsed" and "'30'" in s["text"] for s in steps)
    human = t("query", trace, "origin", "items[2].total")
    assert "combine = 7562631" in human.out and "input: read of fd 0" in human.out
