"""The emulated CPU against the host (replay/cpu.py, issue "Fidelity and structure").

 - every advertised instruction-set feature has a known-answer test
   (tests/guests/cpu_features.c) whose output under ttdbg, recorded and
   replayed, equals the native run's on this host;
 - the guest sees exactly cpu.py's CPUID table, so nothing else is claimed;
 - x86-64-v2 programs (gcc -march=x86-64-v2 -O2, static and dynamic) record
   and replay with the native output;
 - instructions the CPU does not offer (AVX, AVX-512, BMI1's blsi) raise
   SIGILL at an exact instruction count, with one `ttdbg:` note naming the
   instruction and its address, recorded and replayed like any fault;
 - the README's feature table is cpu.py's.
"""

from __future__ import annotations

import dataclasses
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from guestbuild import CompilerMissing, GuestBuilder
from harness import Run, Ttdbg

from replay import cpu
from replay.errors import LogFormatError
from replay.eventlog import TraceHeader, read_log
from replay.process import GuestProcess
from replay.replayer import Replay
from replay.timeline import Direction, StopReason, Timeline
from replay.trace import open_trace

README = Path(__file__).resolve().parent.parent / "README.md"
KAT_FEATURES = sorted(f.name for f in cpu.FEATURES if f.check == cpu.Check.KAT)
V2 = ("-march=x86-64-v2", "-O2")


def _sections(out: str) -> dict[str, str]:
    """cpu_features' output: feature name -> its results (or "absent")."""
    lines = [line.split(": ", 1) for line in out.splitlines()]
    return {name: rest.strip() for name, rest in lines}


@pytest.fixture(scope="module")
def module_ttdbg(tmp_path_factory: pytest.TempPathFactory) -> Ttdbg:
    base = tmp_path_factory.mktemp("cpu")
    (base / "work").mkdir()
    return Ttdbg(base / "traces", base / "work")


@pytest.fixture(scope="module", params=["static", "dynamic"])
def kat_runs(request: pytest.FixtureRequest, builder: GuestBuilder,
             module_ttdbg: Ttdbg) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """cpu_features run natively, recorded and replayed: (native, record, replay).
    Both flavours: the dynamic loader's fxsave/fxrstor once exposed a wrong
    initial x87 control word (single precision) that static programs hid."""
    program = builder.build("cpu_features", request.param)
    native = module_ttdbg.native(program)
    assert native.status == 0, native.err
    _, rec, rep = module_ttdbg.record_replay(program)
    assert rec.status == 0 and rep.status == 0, rec.err + rep.err
    return _sections(native.out), _sections(rec.out), _sections(rep.out)


@pytest.mark.parametrize("feature", KAT_FEATURES)
def test_known_answer(kat_runs: tuple[dict[str, str], ...], feature: str) -> None:
    native, recorded, replayed = kat_runs
    if native[feature] == "absent":
        pytest.skip(f"this host's CPU lacks {feature}")
    assert recorded[feature] != "absent", f"{feature} is in cpu.py but the guest's CPUID does not show it"
    assert recorded[feature] == native[feature], f"{feature}: the emulator's results differ from the host's"
    assert replayed[feature] == recorded[feature]


def test_each_advertised_feature_has_a_known_answer_test(builder: GuestBuilder, module_ttdbg: Ttdbg) -> None:
    tests = set(module_ttdbg.native(builder.build("cpu_features", "static"), "list").out.split())
    assert set(KAT_FEATURES) <= tests, f"no known-answer test for {sorted(set(KAT_FEATURES) - tests)}"
    # the others are system or baseline features, each with its reason
    assert all(f.check in (cpu.Check.SYSTEM, cpu.Check.IMPLIED) for f in cpu.FEATURES if f.name not in tests)


def test_tested_but_unadvertised_features_are_absent(kat_runs: tuple[dict[str, str], ...]) -> None:
    """bmi1 has a known-answer test (its blsi fails it): the guest must not see it."""
    _, recorded, _ = kat_runs
    unadvertised = {name for name in recorded if not cpu.advertised(name)}
    assert "bmi1" in unadvertised
    assert all(recorded[name] == "absent" for name in unadvertised)


def test_guest_cpuid_is_the_table(guest: Callable[..., Path], ttdbg: Ttdbg) -> None:
    _, rec = ttdbg.record(guest("cpu_features", "static"), "cpuid")
    assert rec.status == 0, rec.err
    seen = {}
    for line in rec.out.splitlines():
        m = re.fullmatch(r"cpuid (\w+) (\w+): (\w+) (\w+) (\w+) (\w+)", line)
        assert m, line
        leaf, sub, *regs = (int(g, 16) for g in m.groups())
        seen[(leaf, sub)] = tuple(regs)
    assert seen[(0, 0)][0] == 0xD and seen[(0x80000000, 0)][0] == 0x80000008
    for (leaf, sub), regs in seen.items():
        assert regs == cpu.cpuid(leaf, sub), f"leaf {leaf:#x}.{sub}"
    ecx1 = seen[(1, 0)][2]
    ebx7 = seen[(7, 0)][1]
    assert not ecx1 & (1 << 28 | 1 << 27 | 1 << 26 | 1 << 12 | 1 << 29), "AVX, OSXSAVE, XSAVE, FMA, F16C are off"
    assert not ebx7 & (1 << 5 | 1 << 16 | 1 << 3), "AVX2, AVX-512F and BMI1 are off"
    assert ecx1 & (1 << 30) and ebx7 & (1 << 18), "RDRAND and RDSEED are advertised"


def _build(builder: GuestBuilder, name: str, flavour: str, cflags: tuple[str, ...] = ()) -> Path:
    try:
        return builder.build(name, flavour, cflags)
    except CompilerMissing as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("flavour", ["static", "dynamic"])
def test_x86_64_v2_program_records_and_replays_as_natively(builder: GuestBuilder, ttdbg: Ttdbg,
                                                          flavour: str) -> None:
    program = _build(builder, "cpu_v2", flavour, V2)
    native = ttdbg.native(program)
    if native.status == 128 + signal.SIGILL:
        pytest.skip("this host's CPU is not x86-64-v2")
    assert native.status == 0, native.err
    _, rec, rep = ttdbg.record_replay(program)
    assert (rec.status, rec.stdout, rec.err) == (0, native.stdout, ""), rec.err
    assert (rep.status, rep.stdout) == (0, native.stdout), rep.err


def _note(run: Run) -> str:
    notes = [line for line in run.err.splitlines() if line.startswith("ttdbg:")]
    assert len(notes) == 1, run.err
    return notes[0]


REFUSED = {"avx": "vaddps xmm0, xmm1, xmm2", "avx512": "vpaddd zmm0, zmm1, zmm2", "blsi": "blsi edx, ecx",
           "sha": "sha256msg1 xmm0, xmm1"}


@pytest.mark.parametrize("what", sorted(REFUSED))
@pytest.mark.parametrize("flavour", ["static", "dynamic"])
def test_refused_instruction_is_sigill_with_one_note(builder: GuestBuilder, ttdbg: Ttdbg, what: str,
                                                    flavour: str) -> None:
    program = _build(builder, "cpu_refused", flavour)
    trace, rec = ttdbg.record(program, what)
    assert rec.status == 128 + signal.SIGILL, rec.err
    m = re.fullmatch(rf"{what} at (0x[0-9a-f]+)\n", rec.out)
    assert m, rec.out
    note = _note(rec)
    assert f"`{REFUSED[what]}'" in note and f"at {m.group(1)}:" in note and "SIGILL" in note
    exception = [line for line in ttdbg("dump", "--kind", "exception", trace).out.splitlines() if line.strip()]
    assert len(exception) == 1 and "SIGILL" in exception[0] and f"pc={m.group(1)}" in exception[0]
    exc_icount = int(exception[0].split()[0].replace(",", ""))
    rep = ttdbg.replay(trace, "--stats")
    assert (rep.status, rep.stdout) == (rec.status, rec.stdout), rep.err
    assert f"replayed {exc_icount:,} instructions" in rep.err


def test_refused_instruction_reaches_a_sigill_handler(builder: GuestBuilder, ttdbg: Ttdbg) -> None:
    """The handler sees ILL_ILLOPN at the instruction, after the two instructions
    before it in the same block ran (eax = 3), skips it, and the program goes on."""
    program = _build(builder, "cpu_refused", "static")
    _, rec, rep = ttdbg.record_replay(program, "avx", "handled")
    assert rec.status == 0, rec.err
    address = re.match(r"avx at (0x[0-9a-f]+)\n", rec.out)
    assert address, rec.out
    assert rec.out.endswith(f"SIGILL code 2 at {address.group(1)}\nreturned 3\n")
    assert "vaddps" in _note(rec)
    assert (rep.status, rep.stdout) == (0, rec.stdout)


def _readme_cpu_table() -> dict[str, str]:
    text = README.read_text()
    section = text.split("## The emulated CPU", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \| ([^|]+) \|", section, re.MULTILINE)
    return {name: kind.strip() for name, kind in rows}


def test_readme_feature_table_is_cpu_py() -> None:
    table = _readme_cpu_table()
    assert table == {f.name: f.check.value for f in cpu.FEATURES}


@pytest.mark.parametrize("argv", [("avx", "handled"), ("rdrand",)])
def test_breakpoint_on_a_stopped_instruction(builder: GuestBuilder, ttdbg: Ttdbg, argv: tuple[str, ...]) -> None:
    """The machine stops before refused and trapped instructions itself (no
    hook runs for them): a breakpoint on one must still be hit first, forward
    and backward, at the exact count (the two instructions before it ran)."""
    program = _build(builder, "cpu_refused", "static")
    trace, rec = ttdbg.record(program, *argv)
    assert rec.status == 0, rec.err
    address = int(rec.out.split(" at ", 1)[1].split()[0], 16)
    tl = Timeline(Replay(open_trace(str(trace))))
    tl.add_breakpoint(address)
    stop = tl.cont(Direction.FORWARD)
    assert (stop.reason, stop.pc) == (StopReason.BREAKPOINT, address)
    assert tl.read_register("rax") & 0xFFFFFFFF == 3
    at = stop.icount
    handled = "handled" in argv
    if handled:                  # the SIGILL the instruction raised stops on its way to the handler
        stop = tl.cont(Direction.FORWARD)
        assert (stop.reason, stop.signal, stop.pc, stop.icount) == (StopReason.DELIVERY, 4, address, at)
    stop = tl.cont(Direction.FORWARD)
    assert stop.reason == StopReason.HISTORY_END
    stop = tl.cont(Direction.BACKWARD)
    if handled:
        # Backward, the delivery comes first; the breakpoint at the same pc and count is where
        # we stand then, so (as in gdb) the next reverse-continue goes on past it.
        assert (stop.reason, stop.signal, stop.pc, stop.icount) == (StopReason.DELIVERY, 4, address, at)
        assert tl.cont(Direction.BACKWARD).reason == StopReason.HISTORY_START
        stop = tl.cont(Direction.FORWARD)
    assert (stop.reason, stop.pc, stop.icount) == (StopReason.BREAKPOINT, address, at)
    tl.remove_breakpoint(address)
    stop = tl.step(1, Direction.FORWARD)
    if handled:
        assert (stop.reason, stop.icount) == (StopReason.DELIVERY, at)
    else:
        assert stop.icount == at + 1
        assert tl.read_register("rip") == address + 4      # rdrand: emulated, from the log


@pytest.mark.parametrize("extra", [{}, {"cpu": "qemu64-000000000000"}])
def test_a_trace_from_another_cpu_is_refused(extra: dict[str, str]) -> None:
    """glibc picks its code from CPUID: a trace replays only on the CPU it was recorded on."""
    header = TraceHeader(machine=62, program="/bin/prog", program_sha256="ab" * 32, argv=("prog",),
                         env=(), cwd="/", pid=1, extra=extra)
    with pytest.raises(LogFormatError, match="another emulated CPU"):
        GuestProcess._check_cpu(header)
    GuestProcess._check_cpu(dataclasses.replace(header, extra={"cpu": cpu.SIGNATURE}))


def test_recorded_traces_name_their_cpu(guest: Callable[..., Path], ttdbg: Ttdbg) -> None:
    trace, rec = ttdbg.record(guest("hello", "static"))
    assert rec.status == 0, rec.err
    assert read_log(open_trace(str(trace)).log_path).header.extra["cpu"] == cpu.SIGNATURE


def test_documented_differences_from_hardware(guest: Callable[..., Path], ttdbg: Ttdbg) -> None:
    """What the README says differs: x87 transcendentals are computed in double
    precision (53 of 64 mantissa bits, the rest zero, within two units of
    the 53rd bit of the host's result); with two NaN operands SSE returns the source's NaN."""
    program = guest("cpu_features", "static")
    native = _sections(ttdbg.native(program, "differences").out)
    _, rec = ttdbg.record(program, "differences")
    emulated = _sections(rec.out)
    for op in ("fsin", "fcos", "fptan", "fpatan", "fyl2x", "f2xm1"):
        host, emu = int(native[op], 16), int(emulated[op], 16)
        assert host >> 64 == emu >> 64, f"{op}: sign and exponent"
        mantissa_host, mantissa_emu = host & (1 << 64) - 1, emu & (1 << 64) - 1
        assert mantissa_emu & 0x7FF == 0, f"{op}: more than double precision"
        assert abs(mantissa_host - mantissa_emu) <= 2 << 11, f"{op}: more than two double ulps off"
    assert emulated["mulss_qnan_qnan"] == "7fc00002" and emulated["addss_snan_qnan"] == "7fc00002"


def test_a_deliberate_ud2_gets_no_note(guest: Callable[..., Path], ttdbg: Ttdbg) -> None:
    """__builtin_trap is SIGILL on every CPU: nothing for ttdbg to explain."""
    _, rec = ttdbg.record(guest("faults", "static"), "ill")
    assert rec.status == 128 + signal.SIGILL
    assert rec.err == ""
