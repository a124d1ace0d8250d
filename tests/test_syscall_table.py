"""The syscall table (replay/linux/syscalls.py), `ttdbg info --syscalls` and the README's summary."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from replay.linux.syscalls import SYSCALLS, DuplicateSyscall, Kind, dispatch_table, index
from replay.linux.sysnames import SYSCALL_NAMES, SYSCALL_NUMBERS
from ttdbg.syscall_listing import syscall_summary_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_no_call_is_listed_twice() -> None:
    assert len(index(SYSCALLS)) == len(SYSCALLS)
    with pytest.raises(DuplicateSyscall, match="'read'"):
        index([*SYSCALLS, SYSCALLS[[r.name for r in SYSCALLS].index("read")]])


def test_every_row_is_a_known_call_with_a_class() -> None:
    for row in SYSCALLS:
        assert row.name in SYSCALL_NUMBERS, f"{row.name} is not an x86-64 system call"
        assert callable(row.handler)
        assert row.kind in (Kind.EMULATED, Kind.RECORDED, Kind.REFUSED)
        if row.kind == Kind.REFUSED:
            assert row.note, f"{row.name}: a refused call says why"
    assert len(dispatch_table()) == len(SYSCALLS)


def test_rows_are_keyed_by_name_so_another_numbering_reuses_them() -> None:
    other = {name: 1000 + number for name, number in SYSCALL_NUMBERS.items()}
    table = dispatch_table(other)
    assert table[1000 + SYSCALL_NUMBERS["getresuid"]] is dispatch_table()[SYSCALL_NUMBERS["getresuid"]]
    assert set(table) == {1000 + n for n in dispatch_table()}


def test_info_syscalls_prints_the_table() -> None:
    run = subprocess.run([sys.executable, "-m", "ttdbg", "info", "--syscalls"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if re.match(r"^\s*\d+\s", line)]
    assert len(rows) == len(SYSCALLS)
    numbers = [int(line.split()[0]) for line in rows]
    assert numbers == sorted(numbers)
    by_name = {line.split()[1]: line for line in rows}
    assert re.match(r"^\s*118\s+getresuid\s+emulated\s+from the recorded ids", by_name["getresuid"])
    assert re.match(r"^\s*0\s+read\s+recorded\s", by_name["read"])
    everything = subprocess.run([sys.executable, "-m", "ttdbg", "info", "--syscalls", "--all"],
                                capture_output=True, text=True, timeout=60)
    assert re.search(r"^\s*206\s+io_setup\s+unsupported\s", everything.stdout, re.M)
    assert len([ln for ln in everything.stdout.splitlines() if re.match(r"^\s*\d+\s", ln)]) == len(SYSCALL_NAMES)


def test_readme_summary_matches_the_table() -> None:
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- syscalls: generated[^\n]*-->\n(.*?)\n<!-- syscalls: end -->", readme, re.S)
    assert m, "README.md lost its generated syscall summary"
    expected = syscall_summary_markdown()
    assert m.group(1) == expected, "README.md's syscall summary is stale; replace it with:\n" + expected
