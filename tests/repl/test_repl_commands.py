"""REPL commands through `Repl.execute()` on recorded static and dynamic C guests (no gdb)."""

from __future__ import annotations

import re

import pytest


def test_break_continue_next_step_finish_bt(recorded, make_repl):
    r = make_repl(recorded)
    assert "Breakpoint 1 at" in r.execute("break main") and "tally.c:22" in r.execute("info breakpoints")
    out = r.execute("continue")
    assert "Breakpoint 1, main () at tally.c:22" in out
    assert "=> " in out and re.search(r"\[icount [\d,]+ / [\d,]+", out)
    assert r.execute("next").startswith("23\t")
    out = r.execute("step")
    assert "bump () at tally.c:16" in out
    assert "square () at tally.c:10" in r.execute("step")
    bt = r.execute("bt")
    assert re.search(r"#0\s+square \(\) at tally.c:10", bt)
    assert re.search(r"#1\s+0x[0-9a-f]+ in bump \(\) at tally.c:16", bt)
    assert re.search(r"#2\s+0x[0-9a-f]+ in main \(\) at tally.c:23", bt)
    out = r.execute("finish")
    assert "Run till exit from #0  square ()" in out and "Value returned is $1 = 0" in out
    assert "17\t" in r.execute("next")
    assert "18\t" in r.execute("")            # an empty line repeats `next`
    r.execute("next")
    assert "main at tally.c:22" in r.execute("when")


def test_watch_stops_only_on_change_and_reverse_continue(recorded, make_repl):
    r = make_repl(recorded)
    r.execute("break bump")
    r.execute("continue")
    assert r.execute("watch counter") == "Hardware watchpoint 2: counter"
    r.execute("delete 1")
    out = r.execute("continue")          # bump(0) writes 0 over 0: not a change
    assert "Old value = 0\nNew value = 1" in out and "tally.c:18" in out
    out = r.execute("continue")
    assert "Old value = 1\nNew value = 5" in out
    out = r.execute("reverse-continue")
    assert "Old value = 5\nNew value = 1" in out and "17\t    counter += values[i];" in out
    assert r.execute("print counter").endswith("= 1")
    assert r.execute("print i").endswith("= 2")
    out = r.execute("reverse-continue")   # back past bump(0)'s unchanged write to the start
    assert "Old value = 1\nNew value = 0" in out
    out = r.execute("reverse-continue")
    assert "No more reverse-execution history." in out


def test_reverse_motion(recorded, make_repl):
    r = make_repl(recorded)
    r.execute("break square")
    r.execute("continue")
    r.execute("continue")                 # square(1)
    assert r.execute("print x").endswith("= 1")
    out = r.execute("reverse-finish")
    assert "Run back to call of #0  square ()" in out and "call" in out.split("=> ")[1].splitlines()[0]
    assert "16\t" in out
    out = r.execute("reverse-next")       # from the call, mid-line: back to the start of line 16
    assert out.startswith("16\t    values[i] = square(i);\n=> ")
    assert r.tl.pc == r.symbols.resolve("tally.c:16")
    r.execute("goto start")
    r.execute("continue")
    here = r.tl.position
    r.execute("next")
    r.execute("reverse-next")
    assert r.tl.position == here
    r.execute("stepi 3")
    assert r.tl.position == here + 3
    r.execute("rsi 2")
    assert r.tl.position == here + 1
    out = r.execute("reverse-step")       # from mid-line: back to the start of the line
    assert "10\t" in out and r.tl.position == here
    out = r.execute("reverse-step")       # out of square's body, back to the caller's line
    assert "bump () at tally.c:16" in out and r.tl.position < here


def test_print_x_info_without_gdb(recorded, make_repl):
    r = make_repl(recorded)
    r.execute("break tally.c:17")
    r.execute("continue")
    r.execute("continue")
    r.execute("continue")                 # bump(2), values[2] == 4
    first = r.execute("print values")
    assert "richer expressions need gdb" in first and first.endswith("{0, 1, 4, 0, 0, 0, 0, 0}")
    assert "need gdb" not in r.execute("print values[2]")
    assert r.execute("p values[2]").endswith("= 4")
    assert r.execute("p $rip").split("= ")[1].startswith("(void (*)()) 0x")
    assert "<counter>" in r.execute("p &counter")
    assert r.execute("p/x values[2]").endswith("= 0x4")
    assert r.execute("p nosuch") == 'No symbol "nosuch" in current context.'
    assert r.execute("ptype values") == "type = int [8]"
    assert r.execute("info locals") == "i = 2"
    assert re.search(r"<values>:\t0x00000000\t0x00000001\t0x00000004\t0x00000000", r.execute("x/4xw &values"))
    insns = r.execute("x/2i $pc").splitlines()             # gdb marks the current instruction
    assert len(insns) == 2 and insns[0].startswith(f"=> {r.tl.pc:#x} <bump+") and insns[1].startswith("   0x")
    assert r.execute("x/i").startswith("   0x")              # continues after the last one, unmarked
    regs = r.execute("info registers rip")
    assert regs.startswith("rip") and "<bump+" in regs
    assert "rax" in r.execute("regs")
    assert "17\t    counter += values[i];" in r.execute("list")
    assert "Dump of assembler code for function bump:" in r.execute("disassemble")
    assert "Stack level 0, frame at" in r.execute("info frame")


def test_time_commands(recorded, make_repl):
    r = make_repl(recorded)
    total = r.tl.end.icount
    r.execute("goto 50%")
    assert r.tl.position == total // 2
    r.execute("goto -10")
    assert r.tl.position == total // 2 - 10
    assert "Checkpoint 'mid'" in r.execute("checkpoint mid")
    r.execute("goto end")
    assert r.tl.position == total
    assert "mid" in r.execute("info checkpoints")
    r.execute("restart mid")
    assert r.tl.position == total // 2 - 10
    assert r.execute("restart nope") == 'No checkpoint named "nope".'
    here = total // 2 - 10
    assert r.execute("when").startswith(f"Current instruction: {here:,} of {total:,} ({100 * here / total:.1f}%), "
                                        f"pc {r.tl.pc:#x} in ")
    r.execute("goto +5")
    assert r.execute("checkpoint").startswith(f"Checkpoint 'c2' at instruction {here + 5:,} (")   # a default name
    assert r.execute("info checkpoints").splitlines() == [f"{'mid':<16} {here:>15,}", f"{'c2':<16} {here + 5:>15,}"]
    ev = r.execute("events")
    assert "=> here" in ev and "SHUTDOWN" in r.execute("events shutdown all")
    assert r.execute("events bogus").startswith("Unknown event kind")
    assert "linking:" in r.execute("info trace")
    assert r.execute("goto sideways").startswith("Invalid position")


def test_errors_are_one_line(recorded, make_repl):
    r = make_repl(recorded)
    assert r.execute("break nosuch") == 'Function "nosuch" not defined.'
    assert r.execute("break nosuch.c:3") == "No source file named nosuch.c."
    assert r.execute("xyzzy") == 'Undefined command: "xyzzy". Try "help".'
    assert r.execute("contiue") == 'Undefined command: "contiue". Did you mean "continue"?'
    assert r.execute("re").startswith('Ambiguous command "re":')
    assert r.execute("delete 9") == "No breakpoint number 9."
    assert r.execute("x/4xw 0") == "cannot access memory at address 0x0"
    assert r.execute("info nothing").startswith("Undefined info command")
    for line in ("p (", "watch", "stepi lots", "finish"):
        assert "\n" not in r.execute(line)


def test_prefixes_and_help(recorded, make_repl):
    r = make_repl(recorded)
    assert "Temporary breakpoint 1 at" in r.execute("tb main")
    assert "Temporary breakpoint 1, main" in r.execute("cont")
    assert r.execute("info b") == "No breakpoints or watchpoints."
    assert "#0  main ()" in r.execute("backt")          # unique prefix of backtrace
    assert "reverse-continue" in r.execute("help")
    assert r.execute("help rc").startswith("reverse-continue:")
    assert r.execute("q") == "" and r.done


@pytest.mark.skipif(__import__("shutil").which("gdb") is None, reason="gdb is not installed")
def test_gdb_bridge_evaluates_while_stopped(repl_guests, make_repl):
    r = make_repl(repl_guests["dynamic"], use_gdb=True)
    r.execute("break square")
    r.execute("continue")
    r.execute("continue")
    assert re.fullmatch(r"\$\d+ = 1", r.execute("print x"))
    assert r.execute("print x * 10 + values[0]").endswith("= 10")
    assert r.execute("ptype struct nosuch").startswith("No struct type named nosuch")
    r.execute("continue")                 # the bridge must see the new position
    assert r.execute("print x").endswith("= 2")
    assert "bump (i=2)" in r.execute("bt full")


def test_disable_and_enable_arm_the_timeline(repl_guests, make_repl):
    r = make_repl(repl_guests["static"])
    r.execute("break square")
    square = r.symbols.resolve("square")
    assert r.tl.breakpoints == {square}
    r.execute("disable 1")
    assert r.tl.breakpoints == set()
    out = r.execute("continue")
    assert "exited normally" in out and r.tl.position == r.tl.end.icount
    r.execute("enable")
    assert r.tl.breakpoints == {square}
    assert "Breakpoint 1, square () at tally.c:10" in r.execute("reverse-continue")
    r.execute("watch counter")
    assert len(r.tl.watchpoints) == 1
    r.execute("delete")
    assert r.tl.breakpoints == set() and r.tl.watchpoints == set()


def test_help_lists_the_whole_table_once():
    from ttdbg.repl.commands import COMMANDS, help_text
    from ttdbg.repl.info import INFO_COMMANDS

    lines = help_text("").splitlines()[1:-1]
    assert [line.split()[0] for line in lines] == [c.name for c in COMMANDS]
    assert len({c.name for c in COMMANDS}) == len(COMMANDS)
    assert help_text("info").splitlines()[-len(INFO_COMMANDS):] == [f"  {c.summary}" for c in INFO_COMMANDS]


def test_break_line_is_a_line_of_the_default_file(recorded, make_repl):
    """gdb's `break LINE`: that line of the current file (main's file before the program runs), not an address."""
    r = make_repl(recorded)
    assert "file tally.c, line 17." in r.execute("break 17")
    assert "Breakpoint 1, bump () at tally.c:17" in r.execute("continue")
    r.execute("delete")
    r.execute("goto start")                              # in the C library's start-up: main's file
    assert "file tally.c, line 23." in r.execute("break 23")


def test_catch_syscall_stops_at_entry_and_return_both_ways(recorded, make_repl):
    r = make_repl(recorded)
    assert r.execute("catch syscall write") == "Catchpoint 1 (syscall 'write' [1])"
    assert 'syscall "write"' in r.execute("info breakpoints")
    out = r.execute("continue")
    assert "Catchpoint 1 (call to syscall write), " in out and "write" in out.split("), ", 1)[1]
    assert r.execute("print $rax").endswith("= 0x1")           # the call's number, the syscall instruction next
    out = r.execute("continue")
    assert "Catchpoint 1 (returned from syscall write), " in out
    assert r.execute("print $rax").endswith("= 0xc")           # the bytes written: "counter 140\\n"
    assert "No more reverse-execution history" in r.execute("continue")    # exit_group is not caught
    assert "(returned from syscall write)" in r.execute("reverse-continue")
    assert "(call to syscall write)" in r.execute("reverse-continue")
    assert "breakpoint already hit 4 times" in r.execute("info breakpoints")
    for bad, words in (("catch syscall nosuch", "Unknown syscall name 'nosuch'."),
                       ("catch fork", "Only `catch syscall")):
        assert words in r.execute(bad)
    r.execute("delete")
    assert "Catchpoint" not in r.execute("continue")
