"""gdb-Python translation of gdb.reverse/insn-reverse.exp's per-function loop.

insn-reverse.exp needs `start` (it refuses remote stubs), so it cannot run on
the DejaGnu board; this does the same checks from inside gdb, at a stop at
the start of the function under test: single-step forwards to the function's
last instruction saving `info all-registers` before each step, reverse-stepi
back saving them after each step, and compare.  Prints one PASS/FAIL line per
instruction, like the .exp.  The function name comes from $_insn_func
(set with -ex 'set $_insn_func = "rdrand"').
"""
from __future__ import annotations

import re

import gdb


def main() -> None:
    func = gdb.parse_and_eval("$_insn_func").string()
    dis = gdb.execute(f"disassemble {func}", to_string=True).strip().splitlines()
    last = int(re.search(r"(0x[0-9a-f]+) <\+\d+>", dis[-2]).group(1), 16)
    pre: list[str] = []
    insns: list[str] = []
    prev = None
    while len(pre) < 500:
        pc = int(gdb.parse_and_eval("$pc"))
        if pc == last:
            break
        if pc == prev:
            print(f"UNSUPPORTED: {func}: no progress at {pc:#x}")
            break
        prev = pc
        insns.append(gdb.execute("x/i $pc", to_string=True).split(":", 1)[1].strip())
        pre.append(gdb.execute("info all-registers", to_string=True))
        gdb.execute("stepi", to_string=True)
    post: list[str] = [""] * len(pre)
    for i in range(len(pre) - 1, -1, -1):
        gdb.execute("reverse-stepi", to_string=True)
        post[i] = gdb.execute("info all-registers", to_string=True)
    for i, insn in enumerate(insns):
        if pre[i] == post[i]:
            print(f"PASS: {func}: compare registers on insn {i}:{insn}")
        else:
            print(f"FAIL: {func}: compare registers on insn {i}:{insn}")
            for a, b in zip(pre[i].splitlines(), post[i].splitlines()):
                if a != b:
                    print(f"  -:{a}\n  +:{b}")


main()
