"""Real programs of issue 9 recorded like a native run and replayed like the recording.

xz -T2 (threads), gcc (gcc -> cc1 -> as -> collect2 -> ld), tar czf (tar -> sh -> gzip),
Python multiprocessing.Pool(2) (fork, pipes, semaphores in shared memory).
Each is skipped with a reason only when the program is absent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from harness import Ttdbg
from test_record_replay import dump_lines, parse_dump


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"no {program} on this machine")
    return path


def sample_text(size: int) -> bytes:
    """A few hundred KB of compressible, varied text (the engine's own sources, repeated)."""
    root = Path(__file__).resolve().parent.parent / "replay"
    text = b"".join(p.read_bytes() for p in sorted(root.rglob("*.py")))
    return (text * (size // len(text) + 1))[:size]


def switches(ttdbg: Ttdbg, trace: Path) -> int:
    return sum(kind == "TASK_SWITCH" for _, _, kind in parse_dump(dump_lines(ttdbg, trace)))


def test_xz_with_two_threads(ttdbg: Ttdbg, tmp_path: Path) -> None:
    xz = need("xz")
    data = sample_text(300_000)
    (ttdbg.workdir / "data.txt").write_bytes(data)
    args = ("-T2", "-1", "--block-size=64KiB", "-c", "data.txt")
    native = subprocess.run([xz, *args], cwd=ttdbg.workdir, capture_output=True)
    trace, rec, rep = ttdbg.record_replay(xz, *args)
    assert rec.status == native.returncode == 0, rec.err
    assert rec.stdout == native.stdout
    assert subprocess.run([xz, "-dc"], input=rec.stdout, capture_output=True).stdout == data
    assert rep.stdout == rec.stdout and rep.status == rec.status
    assert switches(ttdbg, trace) > 10          # its worker threads really ran


def test_python_multiprocessing_pool(ttdbg: Ttdbg) -> None:
    """Pool(2): forked workers, semaphores in MAP_SHARED memory (sem_open, link), pipes, threads."""
    python = "/usr/bin/python3"                 # (not a $PATH shim: a script, not the interpreter)
    if not Path(python).exists():
        pytest.skip(f"no {python} on this machine")
    code = ("import multiprocessing\ndef sq(x):\n    return x * x\nif __name__ == '__main__':\n"
            "    with multiprocessing.Pool(2) as pool:\n        print(pool.map(sq, range(20)))\n")
    (ttdbg.workdir / "pool.py").write_text(code)
    native = ttdbg.native(python, "-I", "pool.py")
    trace, rec, rep = ttdbg.record_replay(python, "-I", "pool.py")
    assert rec.stdout == native.stdout == (str([x * x for x in range(20)]) + "\n").encode()
    assert rec.status == native.status == 0, rec.err
    assert rep.stdout == rec.stdout and rep.status == rec.status
    assert len(ttdbg("ps", trace).out.splitlines()) == 1 + 3          # the parent and its 2 workers


def test_gcc_builds_a_program_that_runs_like_the_native_build(ttdbg: Ttdbg, tmp_path: Path) -> None:
    gcc = need("gcc")
    source = '#include <stdio.h>\nint main(void) { printf("hello %d\\n", 6 * 7); return 3; }\n'
    (ttdbg.workdir / "hello.c").write_text(source)
    (tmp_path / "hello.c").write_text(source)
    native = subprocess.run([gcc, "-O1", "-o", "hello", "hello.c"], cwd=tmp_path, capture_output=True)
    trace, rec, rep = ttdbg.record_replay(gcc, "-O1", "-o", "hello", "hello.c")
    assert rec.status == native.returncode == 0, rec.err
    assert rec.stdout == native.stdout
    built, reference = (subprocess.run([str(where / "hello")], capture_output=True)
                        for where in (ttdbg.workdir, tmp_path))
    assert (built.stdout, built.returncode) == (reference.stdout, reference.returncode) == (b"hello 42\n", 3)
    assert rep.stdout == rec.stdout and rep.status == rec.status
    cmds = [line.split("\t")[3] for line in ttdbg("ps", trace).out.splitlines()[1:]]
    assert any("cc1" in c for c in cmds) and any(c.startswith("as ") for c in cmds)


def test_tar_czf_of_a_small_directory(ttdbg: Ttdbg, tmp_path: Path) -> None:
    tar = need("tar")
    need("gzip")
    for where in (ttdbg.workdir, tmp_path):
        (where / "d" / "sub").mkdir(parents=True)
        (where / "d" / "a.txt").write_bytes(sample_text(20_000))
        (where / "d" / "sub" / "b.txt").write_text("bee\n")
        subprocess.run(["touch", "-h", "-d", "2020-01-01", "d/a.txt", "d/sub/b.txt", "d/sub", "d"],
                       cwd=where, check=True)
    native = subprocess.run([tar, "czf", "d.tgz", "d"], cwd=tmp_path, capture_output=True)
    trace, rec, rep = ttdbg.record_replay(tar, "czf", "d.tgz", "d")
    assert rec.status == native.returncode == 0, rec.err
    assert (ttdbg.workdir / "d.tgz").read_bytes() == (tmp_path / "d.tgz").read_bytes()
    assert rep.stdout == rec.stdout and rep.status == rec.status
    assert [line.split("\t")[3] for line in ttdbg("ps", trace).out.splitlines()[1:]][-1] == "gzip"
