"""Files beyond read and write (issue 10): MAP_SHARED file mappings, file
metadata done for real at record, /proc for guest pids.

Each: the recording equals a native run (output, status, the files it
leaves), the replay equals the recording, and replay writes no host file
(the files are deleted before replay and must stay absent).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from harness import Ttdbg

PYTHON = "/usr/bin/python3"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_shared_file_mappings_reach_the_file_at_record_never_at_replay(ttdbg: Ttdbg, guest, flavour: str) -> None:
    prog = guest("sharedmap", flavour)
    native_dir, rec_dir = ttdbg.workdir / "native", ttdbg.workdir / "rec"
    native_dir.mkdir()
    rec_dir.mkdir()
    native = ttdbg.native(prog, str(native_dir))
    trace, rec = ttdbg.record(prog, str(rec_dir))
    assert native.status == 0 and b"HELLO, file" in native.stdout
    assert (rec.status, rec.stdout, rec.err) == (native.status, native.stdout, "")
    assert _tree(rec_dir) == _tree(native_dir) and len(_tree(rec_dir)) == 3
    shutil.rmtree(rec_dir)
    rep = ttdbg.replay(trace)
    assert (rep.status, rep.stdout) == (rec.status, rec.stdout)
    assert not rec_dir.exists()


@pytest.mark.skipif(not Path(PYTHON).exists(), reason="no /usr/bin/python3")
def test_python_mmap_shared_writes(ttdbg: Ttdbg) -> None:
    code = ("import mmap, os, sys\np = sys.argv[1]\n"
            "with open(p, 'wb') as f: f.write(b'.' * 10000)\n"
            "with open(p, 'r+b') as f:\n    m = mmap.mmap(f.fileno(), 0)\n    m[0:5] = b'hello'\n    m.flush()\n"
            "    print(open(p, 'rb').read(8))\n    m[9995:] = b'world'\n    m.close()\n"
            "print(open(p, 'rb').read()[-8:], os.path.getsize(p))\n")
    native = ttdbg.native(PYTHON, "-I", "-c", code, str(ttdbg.workdir / "n.bin"))
    trace, rec = ttdbg.record(PYTHON, "-I", "-c", code, str(ttdbg.workdir / "r.bin"))
    assert native.stdout == b"b'hello...'\nb'...world' 10000\n"
    assert (rec.status, rec.stdout, rec.err) == (0, native.stdout, "")
    assert (ttdbg.workdir / "r.bin").read_bytes() == (ttdbg.workdir / "n.bin").read_bytes()
    (ttdbg.workdir / "r.bin").unlink()
    rep = ttdbg.replay(trace)
    assert (rep.status, rep.stdout) == (0, rec.stdout)
    assert not (ttdbg.workdir / "r.bin").exists()
