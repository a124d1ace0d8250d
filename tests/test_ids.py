"""The user and group id system calls, against native runs of the same binary.

tests/guests/ids.c prints getresuid/getresgid and the answers of the set*id
family.  The kernel answers them from the ids recorded in the trace header
with Linux's rules (replay/linux/creds.py): the recording must print what
the native run prints, as root and (through setpriv) as an unprivileged
user, and the replay what the recording printed.  A real change of ids is
refused with -ENOSYS and one warning per call.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from harness import Run, Ttdbg

from replay.linux.creds import UNCHANGED, IdSet, set_fs_id, set_id, set_re_id, set_res_id

NOBODY = 65534


def assert_same_run(actual: Run, expected: Run, what: str) -> None:
    assert (actual.status, actual.stdout, actual.stderr) == (expected.status, expected.stdout, expected.stderr), what


def test_ids_match_native(ttdbg: Ttdbg, guest, flavour: str) -> None:
    program = guest("ids", flavour)
    native = ttdbg.native(program)
    assert native.status == 0, native.err
    trace, rec, rep = ttdbg.record_replay(program)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    assert f"resuid {os.getuid()} {os.geteuid()} {os.geteuid()}" in rec.out


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to run as another user")
def test_ids_match_native_when_unprivileged(guest) -> None:
    """Native and recorded runs as `nobody`: the EPERM answers of an unprivileged process."""
    work = Path(tempfile.mkdtemp(prefix="ttdbg-ids-"))
    try:
        work.chmod(0o777)
        program = work / "ids"
        shutil.copy(guest("ids", "static"), program)
        program.chmod(0o755)
        as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]

        def run(*argv: str | Path) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run([*as_nobody, *map(str, argv)], capture_output=True, cwd=work, timeout=120)

        probe = run(sys.executable, "-c", "import unicorn, ttdbg")
        if probe.returncode != 0:
            pytest.skip(f"this Python and ttdbg cannot be run as uid {NOBODY} (installed where nobody can read)")
        native = run(program)
        assert native.returncode == 0, native.stderr
        assert b"Operation not permitted" in native.stdout
        rec = run(sys.executable, "-m", "ttdbg", "record", "-q", "-o", work / "trace", program)
        assert (rec.returncode, rec.stdout, rec.stderr) == (0, native.stdout, native.stderr)
        rep = run(sys.executable, "-m", "ttdbg", "replay", "-a", work / "trace")
        assert (rep.returncode, rep.stdout, rep.stderr) == (0, rec.stdout, rec.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="a root recording is the one that could change its ids")
def test_a_real_change_of_ids_is_refused_with_enosys(ttdbg: Ttdbg, guest) -> None:
    trace, rec, rep = ttdbg.record_replay(guest("ids"), "change")
    assert rec.status == 0, rec.err
    refused = [line for line in rec.out.splitlines() if "errno 38 (Function not implemented)" in line]
    assert [line.split(",")[0] for line in refused] == ["SYS_setuid", "SYS_setresgid", "SYS_setfsuid",
                                                       "SYS_setgroups"]
    assert "resuid 0 0 0" in rec.out
    warnings = rec.err.splitlines()
    assert len(warnings) == 4 and all(w.startswith("ttdbg: warning: set") for w in warnings), rec.err
    assert (rep.status, rep.stdout) == (0, rec.stdout)     # replay does not repeat the warnings


# -- the rules themselves, on cases the native runs above cannot reach ------------------------
def test_setreuid_rules_for_a_process_with_distinct_real_and_effective_ids() -> None:
    ids = IdSet(real=1000, effective=2000, saved=2000, fs=2000)
    # Swapping real and effective is allowed; the saved id follows the new effective one.
    assert set_re_id(ids, 2000, 1000, privileged=False) == IdSet(2000, 1000, 1000, 1000)
    # Effective back to the real id without touching real: saved is kept.
    assert set_re_id(ids, UNCHANGED, 1000, privileged=False) == IdSet(1000, 1000, 2000, 1000)
    assert set_re_id(ids, 3000, UNCHANGED, privileged=False) == -1       # -EPERM
    assert set_id(ids, 2000, privileged=False) == IdSet(1000, 2000, 2000, 2000)
    assert set_id(ids, 3000, privileged=True) == IdSet(3000, 3000, 3000, 3000)
    assert set_res_id(ids, UNCHANGED, 1000, UNCHANGED, privileged=False) == IdSet(1000, 1000, 2000, 1000)
    assert set_res_id(ids, 3000, UNCHANGED, UNCHANGED, privileged=False) == -1
    assert set_fs_id(ids, 1000, privileged=False) == IdSet(1000, 2000, 2000, 1000)
    assert set_fs_id(ids, 3000, privileged=False) == ids
