"""The shared file store and `ttdbg pack` (README "Trace size: the file store").

Captured files go once per SHA-256 to `.ttdbg-files/sha256/xx/...` beside the
traces and are hard-linked into each trace; a packed trace holds its own copy
of every file and replays anywhere; a damaged store file is refused, never
trusted.  Real recordings of a dynamic program (its libc is the big file).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from harness import Run, Ttdbg, _run
from test_bad_input import assert_one_line_error

EXIT_FORMAT = 65
STORE = ".ttdbg-files"


def store_entries(root: Path) -> dict[str, Path]:
    """digest -> path of every entry of the store under `root`."""
    base = root / STORE / "sha256"
    return {p.parent.name + p.name: p for p in base.glob("*/*") if p.is_file()}


def captured(trace: Path) -> dict[str, os.stat_result]:
    return {p.name: p.stat() for p in (trace / "files").iterdir()}


def record_hello(ttdbg: Ttdbg, guest, status: str = "3") -> tuple[Path, Run]:
    trace, rec = ttdbg.record(guest("hello", "dynamic"), status)
    assert rec.status == int(status), rec.err
    return trace, rec


def test_two_recordings_share_one_copy(ttdbg: Ttdbg, guest) -> None:
    old = os.umask(0o022)
    try:
        one, rec = record_hello(ttdbg, guest)
        two, _ = record_hello(ttdbg, guest)
    finally:
        os.umask(old)
    first, second = captured(one), captured(two)
    assert first.keys() == second.keys() and len(first) >= 3      # program, ld.so, libc...
    entries = store_entries(ttdbg.workdir)
    assert entries.keys() == first.keys(), "one store entry per captured file, no more"
    for digest, st in first.items():
        assert st.st_ino == second[digest].st_ino == entries[digest].stat().st_ino, digest
        assert st.st_nlink == 3
    # private: the store's directories 0700 and its files 0600, as the traces'
    store = ttdbg.workdir / STORE
    for path in [store, *store.rglob("*")]:
        want = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.lstat().st_mode) == want, path
    info = ttdbg("info", two)
    assert info.status == 0 and f"packed:       no ({len(first)} files shared by hard link" in info.out, info.out
    rep = ttdbg.replay(two)
    assert (rep.status, rep.stdout) == (3, rec.stdout), rep.err


def test_pack_makes_a_trace_that_replays_without_the_store(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    trace, rec = record_hello(ttdbg, guest)
    other, _ = record_hello(ttdbg, guest)
    pack = ttdbg("pack", trace)
    assert pack.status == 0 and "packed" in pack.err and len(pack.err.splitlines()) == 1, pack.err
    assert all(st.st_nlink == 1 for st in captured(trace).values())
    assert "packed:       yes" in ttdbg("info", trace).out
    assert "already packed" in ttdbg("pack", trace).err
    shutil.rmtree(ttdbg.workdir / STORE)
    moved = Path(shutil.copytree(trace, tmp_path / "elsewhere" / "moved"))
    for t in (trace, moved, other):                # `other` still holds its hard links
        rep = ttdbg.replay(t)
        assert (rep.status, rep.stdout) == (3, rec.stdout), (t, rep.err)


def test_a_tampered_store_file_is_refused(ttdbg: Ttdbg, guest) -> None:
    trace, rec = record_hello(ttdbg, guest)
    libc = max(store_entries(ttdbg.workdir).values(), key=lambda p: p.stat().st_size)
    with open(libc, "r+b") as f:                   # in place: the trace's hard link sees it
        f.seek(4096)
        byte = f.read(1)
        f.seek(4096)
        f.write(bytes([byte[0] ^ 0xFF]))
    run = ttdbg.replay(trace)
    assert_one_line_error(run, EXIT_FORMAT, "is corrupt", "SHA-256", "file store")
    # A new recording does not trust the damaged entry: it writes it again, and replays.
    fresh, rec2 = record_hello(ttdbg, guest, "4")
    assert "damaged copy" in rec2.err
    digest = libc.parent.name + libc.name
    assert (fresh / "files" / digest).stat().st_ino != (trace / "files" / digest).stat().st_ino
    rep = ttdbg.replay(fresh)
    assert rep.status == 4, rep.err
    # A store entry swapped for another file: old traces keep their own link, intact.
    trace3, _ = record_hello(ttdbg, guest, "5")
    os.replace(store_entries(ttdbg.workdir)[min(captured(trace3))], libc)
    assert ttdbg.replay(trace3).status == 5


_NO_LINKS = ("import errno, os, sys\n"
             "def refuse(*a, **k): raise OSError(errno.EPERM, 'Operation not permitted')\n"
             "os.link = refuse\n"
             "from ttdbg.cli import main\n"
             "sys.exit(main(sys.argv[1:]))\n")


def record_without_links(ttdbg: Ttdbg, guest, trace: Path) -> Run:
    rec = _run([sys.executable, "-c", _NO_LINKS, "record", "-q", "-o", str(trace), str(guest("hello", "dynamic")),
                "6"], env=ttdbg.env, cwd=ttdbg.workdir)
    assert rec.status == 6, rec.err
    return rec


def test_a_filesystem_without_hard_links_refers_to_the_store(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    """os.link refused (as on a filesystem without hard links): the trace refers to the store."""
    trace = ttdbg.workdir / "nolinks"
    rec = record_without_links(ttdbg, guest, trace)
    assert not list((trace / "files").iterdir())
    assert (trace / "store").read_text() == f"{ttdbg.workdir / STORE}\n"
    assert "files only in" in ttdbg("info", trace).out
    assert ttdbg.replay(trace).stdout == rec.stdout
    # a damaged store entry: refused when read, written again by the next recording
    libc = max(store_entries(ttdbg.workdir).values(), key=lambda p: p.stat().st_size)
    libc.write_bytes(b"not libc")
    assert_one_line_error(ttdbg.replay(trace), EXIT_FORMAT, "is corrupt", "read from the file store")
    record_without_links(ttdbg, guest, ttdbg.workdir / "nolinks2")
    assert ttdbg.replay(trace).stdout == rec.stdout
    copy = Path(shutil.copytree(trace, tmp_path / "copy"))
    assert ttdbg("pack", trace).status == 0
    assert not (trace / "store").exists() and "packed:       yes" in ttdbg("info", trace).out
    shutil.rmtree(ttdbg.workdir / STORE)
    assert (ttdbg.replay(trace).status, ttdbg.replay(trace).stdout) == (6, rec.stdout)
    assert_one_line_error(ttdbg.replay(copy), EXIT_FORMAT, "missing from the trace and from the file store")
    assert_one_line_error(ttdbg("pack", copy), EXIT_FORMAT, "missing from the trace")


def test_a_store_others_may_write_is_not_used(ttdbg: Ttdbg, guest) -> None:
    store = ttdbg.workdir / STORE
    store.mkdir()
    store.chmod(0o777)
    trace, _ = record_hello(ttdbg, guest)
    assert list(store.iterdir()) == []
    assert all(st.st_nlink == 1 for st in captured(trace).values())
    assert "packed:       yes" in ttdbg("info", trace).out


def test_du_counts_one_copy(ttdbg: Ttdbg, guest) -> None:
    """What a user sees: the second trace of the same program costs its log, not its libraries."""
    if shutil.which("du") is None:
        pytest.skip("no du")
    one, _ = record_hello(ttdbg, guest)

    def du() -> int:
        return int(subprocess.run(["du", "-sk", str(ttdbg.workdir)], capture_output=True, text=True,
                                  check=True).stdout.split()[0])
    before = du()
    record_hello(ttdbg, guest)
    libc = max(st.st_size for st in captured(one).values())
    assert du() - before < libc // 1024 // 2
