"""Frames (`frame`, `up`, `down`) and shared-library symbols on the recorded tally guests.

tally.c sorts `values` with libc's qsort and a comparator of its own, so a
stop in `by_value` has libc frames (qsort_r and its merge sort) between it
and main: the backtrace must unwind through them with libc's .eh_frame.
"""

from __future__ import annotations

import re

LIBC = r"/lib\S*/libc\.so\.6"


def test_frames_select_print_and_reset(recorded, make_repl):
    r = make_repl(recorded)
    r.execute("break square")
    r.execute("continue")
    r.execute("continue")                                   # square(1), from bump(1)
    assert r.execute("down") == "Bottom (innermost) frame selected; you cannot go down."
    out = r.execute("up")
    assert re.match(r"#1  0x[0-9a-f]{16} in bump \(\) at tally.c:16\n16\t    values\[i\] = square\(i\);", out)
    assert r.execute("print i").endswith("= 1")            # bump's parameter, not square's x
    assert "No symbol \"x\"" in r.execute("print x")
    assert "Stack level 1, frame at" in r.execute("info frame")
    assert re.match(r"#2  0x[0-9a-f]{16} in main \(\) at tally.c:23", r.execute("up"))
    assert r.execute("info locals") == "i = 1"
    assert r.execute("up") == "Initial frame selected; you cannot go up."
    assert r.execute("frame 7") == "No frame at level 7."
    assert r.execute("f 0").startswith("#0  square () at tally.c:10")
    assert r.execute("print x").endswith("= 1")
    r.execute("up 2")
    assert r.execute("down 5").startswith("#0  square ()")   # a count clamps at the innermost frame
    r.execute("frame 1")
    r.execute("stepi")                                      # any motion selects frame 0 again
    assert "Stack level 0" in r.execute("info frame")
    assert r.execute("print x").endswith("= 1")


def test_bt_through_the_sort(recorded, make_repl):
    r = make_repl(recorded)
    r.execute("break by_value")
    assert "Breakpoint 1, by_value () at tally.c:19" in r.execute("continue")
    bt = r.execute("bt").splitlines()
    assert bt[0] == "#0  by_value () at tally.c:19"
    assert re.fullmatch(r"#\d+\s+0x[0-9a-f]{16} in main \(\) at tally.c:24", bt[-1])
    assert any("qsort_r ()" in line for line in bt[1:-1])
    if recorded.linking == "dynamic":
        assert all(re.search(r" from " + LIBC + "$", line) for line in bt[1:-1])
    out = r.execute(f"frame {len(bt) - 1}")
    assert "24\t    qsort(values" in out
    assert r.execute("print i").endswith("= 8")


def test_shared_libraries_in_a_dynamic_guest(repl_guests, make_repl):
    r = make_repl(repl_guests["dynamic"])
    libs = r.execute("info sharedlibrary")             # at the first instruction: only ld.so
    assert "ld-linux-x86-64.so.2" in libs and "libc.so.6" not in libs
    assert "in ?? from /lib64/ld-linux-x86-64.so.2" in r.execute("when")
    r.execute("break main")
    r.execute("continue")
    libs = r.execute("info sharedlibrary").splitlines()
    assert libs[0].split() == ["From", "To", "Syms", "Read", "Shared", "Object", "Library"]
    assert re.fullmatch(r"0x[0-9a-f]{16}  0x[0-9a-f]{16}  Yes.*/ld-linux-x86-64\.so\.2", libs[1])
    assert re.fullmatch(r"0x[0-9a-f]{16}  0x[0-9a-f]{16}  Yes.*" + LIBC, libs[2])
    out = r.execute("break qsort")
    assert re.fullmatch(r"Breakpoint 2 at 0x[0-9a-f]+ <qsort> \(from " + LIBC + r"\)", out)
    out = r.execute("continue")
    assert re.match(r"Breakpoint 2, 0x[0-9a-f]{16} in qsort \(\) from " + LIBC + "\n=> ", out)
    assert re.search(r"<qsort>:", out)
    bt = r.execute("bt").splitlines()
    assert re.fullmatch(r"#0  0x[0-9a-f]{16} in qsort \(\) from " + LIBC, bt[0])
    assert re.fullmatch(r"#1  0x[0-9a-f]{16} in main \(\) at tally.c:24", bt[1]) and len(bt) == 2
    assert "<qsort>" in r.execute("x/a $pc")
    assert "Dump of assembler code for function qsort:" in r.execute("disassemble")
    out = r.execute("finish")
    assert re.match(r"Run till exit from #0  0x[0-9a-f]{16} in qsort \(\) from " + LIBC
                    + r"\nmain \(\) at tally.c:24", out)
    assert r.execute("break strcpy").startswith('"strcpy" is an indirect function (ifunc)')


def test_no_shared_libraries_in_a_static_guest(repl_guests, make_repl):
    r = make_repl(repl_guests["static"])
    assert r.execute("info sharedlibrary") == "No shared libraries loaded at this time."
    assert "Breakpoint 1 at" in r.execute("break qsort")
