"""Files beyond read and write (issue 10): MAP_SHARED file mappings, file
metadata done for real at record, /proc for guest pids.

Each: the recording equals a native run (output, status, the files it
leaves), the replay equals the recording, and replay writes no host file
(the files are deleted before replay and must stay absent).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from harness import Ttdbg, _run

PYTHON = "/usr/bin/python3"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _metadata(root: Path) -> dict[str, tuple]:
    """What a run leaves: each name's type and mode, size, links, link target or
    content, and its times when the program set them (others are the clock's)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        times = (st.st_atime_ns, st.st_mtime_ns) if st.st_mtime < 1_600_000_000 else ()
        body = os.readlink(p) if p.is_symlink() else p.read_bytes() if stat.S_ISREG(st.st_mode) else None
        out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_nlink, body, times)
    return out


def _record_like_native(ttdbg: Ttdbg, argv: list[str], cwd_arg: bool = True):
    """Run argv natively in native/ and recorded in rec/ (each given its folder as
    last argument, or run inside it); the recording must equal the native run
    (output, status, the files left); then rec/ is deleted and the replay must
    equal the recording without making it again."""
    native_dir, rec_dir = ttdbg.workdir / "native", ttdbg.workdir / "rec"
    native_dir.mkdir()
    rec_dir.mkdir()
    if cwd_arg:
        native = ttdbg.native(argv[0], *argv[1:], str(native_dir))
        trace, rec = ttdbg.record(argv[0], *argv[1:], str(rec_dir))
    else:
        native = _run(argv, env=ttdbg.env, cwd=native_dir)
        trace = ttdbg.new_trace()
        rec = _run(ttdbg.argv("record", "-q", "-o", trace, *argv), env=ttdbg.env, cwd=rec_dir)
    assert (rec.status, rec.stdout, rec.err) == (native.status, native.stdout, "")
    assert _metadata(rec_dir) == _metadata(native_dir)
    shutil.rmtree(rec_dir)
    rep = ttdbg.replay(trace)
    assert (rep.status, rep.stdout) == (rec.status, rec.stdout)
    assert not rec_dir.exists()
    return native


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


def test_metadata_calls_and_their_bad_arguments_as_native(ttdbg: Ttdbg, guest, flavour: str) -> None:
    native = _record_like_native(ttdbg, [str(guest("metadata", flavour))])
    assert native.status == 0 and b"renameat2 exchange           0 0" in native.stdout
    assert b"flock bad op                 -1 22" in native.stdout


SCRIPT = """set -e
touch -d "2001-02-03 04:05:06" a.txt
echo hello > b.txt
touch -d "2002-02-03 04:05:06" b.txt
chmod 640 b.txt
gzip b.txt
ln -s a.txt link
printf 'one\\ntwo\\n' > c.txt
chmod 604 c.txt
sed -i s/one/ONE/ c.txt
mkfifo fifo
cat c.txt
"""


@pytest.mark.skipif(not all(shutil.which(p) for p in ("gzip", "sed", "touch", "mkfifo")), reason="no coreutils")
def test_touch_gzip_ln_sed_chmod_leave_the_files_native_does(ttdbg: Ttdbg) -> None:
    native = _record_like_native(ttdbg, ["/bin/sh", "-c", SCRIPT], cwd_arg=False)
    assert native.stdout == b"ONE\ntwo\n"


def test_proc_self_fd_fdinfo_statm_environ_mounts_as_native(ttdbg: Ttdbg, guest, flavour: str) -> None:
    prog = guest("procself", flavour)
    native = ttdbg.native(prog, "hi")
    trace, rec, rep = ttdbg.record_replay(prog, "hi")
    assert native.status == 0 and b"6 -> anon_inode:[eventfd] (type 10)" in native.stdout
    assert (rec.status, rec.stdout, rec.err) == (0, native.stdout, "")
    assert (rep.status, rep.stdout) == (0, rec.stdout)


@pytest.mark.skipif(not shutil.which("ls"), reason="no ls")
def test_ls_proc_self_fd_lists_the_guest_fds(ttdbg: Ttdbg) -> None:
    ls = shutil.which("ls")
    native = ttdbg.native(ls, "/proc/self/fd")
    trace, rec, rep = ttdbg.record_replay(ls, "/proc/self/fd")
    assert native.stdout == b"0\n1\n2\n3\n"
    assert (rec.status, rec.stdout, rec.err) == (0, native.stdout, "")
    assert (rep.status, rep.stdout) == (0, rec.stdout)


def test_proc_cpuinfo_is_the_emulated_cpu(ttdbg: Ttdbg) -> None:
    from replay.cpu import FEATURES
    cat = shutil.which("cat")
    trace, rec, rep = ttdbg.record_replay(cat, "/proc/cpuinfo")
    assert rec.status == 0 and rep.stdout == rec.stdout
    lines = dict(line.split(":", 1) for line in rec.out.splitlines() if ":" in line)
    assert sum(1 for line in rec.out.splitlines() if line.startswith("processor")) == 1
    flags = set(next(v for k, v in lines.items() if k.strip() == "flags").split())
    expected = {"pni" if f.name == "sse3" else f.name for f in FEATURES}
    assert flags == expected and "avx" not in flags
    assert next(v for k, v in lines.items() if k.strip() == "model name").strip().startswith("ttdbg x86-64")


@pytest.mark.skipif(not shutil.which("ps"), reason="no procps")
def test_ps_lists_the_recordings_processes_only(ttdbg: Ttdbg) -> None:
    """/proc lists the recording's processes (not the host's, ttdbg's own among them)."""
    trace, rec, rep = ttdbg.record_replay("/bin/sh", "-c", "ps -o pid=,ppid=,stat=,comm=; echo $$")
    assert (rec.status, rec.err) == (0, "")
    rows = [line.split() for line in rec.out.splitlines()]
    sh_pid = rows[-1][0]
    assert [(r[2], r[3]) for r in rows[:-1]] == [("S", "sh"), ("R", "ps")]
    assert rows[0][0] == sh_pid and rows[1][1] == sh_pid
    assert (rep.status, rep.stdout) == (0, rec.stdout)


def test_proc_of_another_guest_process_is_its_own(ttdbg: Ttdbg) -> None:
    """A child reads its parent's /proc/PID (the parent's pid is ttdbg's: its files must be the guest's)."""
    script = "cat /proc/$$/cmdline; echo; cat /proc/$$/comm; ls /proc/$$/fd; readlink /proc/$$/exe"
    native = _run(["/bin/sh", "-c", script], env=ttdbg.env, cwd=ttdbg.workdir)
    trace, rec, rep = ttdbg.record_replay("/bin/sh", "-c", script)
    assert native.status == 0 and native.out.startswith("/bin/sh\0-c\0")
    assert (rec.status, rec.stdout, rec.err) == (0, native.stdout, "")
    assert (rep.status, rep.stdout) == (0, rec.stdout)


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("ld.gold")), reason="no gcc or ld.gold")
def test_gold_writes_the_linked_program_through_a_shared_mapping(ttdbg: Ttdbg, tmp_path: Path) -> None:
    """ld.gold maps its output MAP_SHARED: the recording's program must be the native one, byte for byte."""
    import subprocess
    source = tmp_path / "h.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("linked by gold"); return 0; }\n')
    obj = tmp_path / "h.o"
    subprocess.run(["gcc", "-c", str(source), "-o", str(obj)], check=True)
    native_out, rec_out = ttdbg.workdir / "native", ttdbg.workdir / "rec"
    subprocess.run(["gcc", "-fuse-ld=gold", str(obj), "-o", str(native_out)], check=True)
    trace, rec = ttdbg.record(shutil.which("gcc"), "-fuse-ld=gold", str(obj), "-o", str(rec_out))
    assert rec.status == 0, rec.err
    assert rec_out.read_bytes() == native_out.read_bytes()
    assert subprocess.run([str(rec_out)], capture_output=True).stdout == b"linked by gold\n"
    rec_out.unlink()
    rep = ttdbg.replay(trace)
    assert rep.status == 0 and not rec_out.exists()


@pytest.mark.skipif(not Path(PYTHON).exists(), reason="no /usr/bin/python3")
def test_sqlite_wal_mode(ttdbg: Ttdbg) -> None:
    """WAL mode: fcntl locks (F_GETLK must answer) and the -shm file mapped MAP_SHARED."""
    code = ("import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\n"
            "print(db.execute('pragma journal_mode=wal').fetchone())\n"
            "db.execute('create table t(x)')\ndb.executemany('insert into t values(?)', [(i,) for i in range(100)])\n"
            "db.commit()\ndb2 = sqlite3.connect(sys.argv[1])\n"
            "print(db2.execute('select count(*), sum(x) from t').fetchone())\n"
            "db.execute('insert into t values(1000)')\ndb.commit()\n"
            "print(db2.execute('select count(*), sum(x) from t').fetchone())\n")
    native = ttdbg.native(PYTHON, "-I", "-c", code, str(ttdbg.workdir / "n.db"))
    trace, rec = ttdbg.record(PYTHON, "-I", "-c", code, str(ttdbg.workdir / "r.db"))
    assert native.stdout == b"('wal',)\n(100, 4950)\n(101, 5950)\n"
    assert (rec.status, rec.stdout, rec.err) == (0, native.stdout, "")
    for name in ("r.db", "r.db-wal", "r.db-shm"):
        (ttdbg.workdir / name).unlink(missing_ok=True)
    rep = ttdbg.replay(trace)
    assert (rep.status, rep.stdout) == (0, rec.stdout)
    assert not (ttdbg.workdir / "r.db").exists()
