"""The connection around the debugging: Ctrl-C during a long continue,
leaving and coming back, the rr-like `ttdbg replay` launcher, and bytes
that are not valid packets."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import pytest
from gdbtest_support import ttdbg_env


def _total(g) -> int:
    text = g.ok("monitor when").text
    return int(text.split(" of ")[1].split()[0].replace(",", ""))


@pytest.mark.parametrize("how", ["exec-interrupt", "sigint"])
def test_ctrl_c_interrupts_a_long_continue(connected, how):
    # A terminal's Ctrl-C reaches a synchronous gdb as SIGINT; an MI frontend
    # in async mode sends -exec-interrupt.  Both become the protocol's 0x03.
    guest, server, g = connected("spin", "static", mi_async=(how == "exec-interrupt"))
    total = _total(g)
    assert total > 300_000_000
    token = g.send("-exec-continue")
    reply = g.collect("-exec-continue", token, wait_stop=False)
    assert reply.result == "running"
    time.sleep(1.0)
    sent = time.monotonic()
    if how == "exec-interrupt":
        g.ok("-exec-interrupt")
    else:
        g.process.send_signal(signal.SIGINT)
    stopped = g.wait_stopped(timeout=10)
    took = time.monotonic() - sent
    assert took < 5, f"the stop took {took:.1f} s"
    assert stopped.get("reason") == "signal-received", stopped
    assert stopped.get("signal-name") == "SIGINT"
    here = g.when()
    assert 0 < here < total
    assert stopped["frame"]["func"] == "main"
    # the session goes on normally
    g.ok("stepi")
    assert g.when() == here + 1
    g.ok("reverse-stepi")
    g.ok("reverse-stepi")
    assert g.when() == here - 1
    assert g.eval("i") .isdigit()


def test_ctrl_c_interrupts_a_long_reverse_continue(connected):
    guest, server, g = connected("spin", "static")
    total = _total(g)
    g.ok("monitor goto end")
    g.ok("flushregs")
    g.ok("break abort")                           # never reached: the scan covers all history
    token = g.send("-exec-continue --reverse")
    assert g.collect("reverse-continue", token, wait_stop=False).result == "running"
    time.sleep(0.5)
    sent = time.monotonic()
    g.ok("-exec-interrupt")
    stopped = g.wait_stopped(timeout=10)
    assert time.monotonic() - sent < 5
    assert stopped.get("signal-name") == "SIGINT", stopped
    here = g.when()
    assert 0 < here <= total
    g.ok("reverse-stepi")
    assert g.when() == here - 1


def test_reconnect_starts_where_the_last_session_left(gdb_guest, serve, gdb):
    guest = gdb_guest("basic", "static")
    server = serve(guest.trace)                   # not --once: keeps serving
    g1 = gdb(guest.binary)
    g1.connect(server.address)
    g1.ok("break square if x == 2")
    g1.ok("continue")
    left_at = g1.when()
    pc = g1.pc()
    g1.ok("detach")
    g1.close()

    g2 = gdb(guest.binary)
    g2.connect(server.address)
    assert g2.when() == left_at
    assert g2.pc() == pc
    assert g2.eval("x") == "2"
    g2.ok("reverse-stepi")
    g2.ok("set breakpoint always-inserted on")
    g2.ok("break report")                         # inserted in the stub right away
    g2.process.kill()                             # gdb dies without a word
    g2.process.wait()

    g3 = gdb(guest.binary)
    g3.connect(server.address)
    assert g3.when() == left_at - 1
    # g2's breakpoint died with it: nothing stops this continue before the end
    stop = g3.ok("continue")
    assert "No more reverse-execution history." in stop.text, g3.dump()
    total = g3.when()
    g3.ok("monitor exit")
    assert g3.ok("continue").reason == "exited"   # this gdb saw the process go
    g3.close()

    g4 = gdb(guest.binary)
    reply = g4.connect(server.address)           # ...but the next one finds it stopped at the end
    assert reply.stopped is not None, g4.dump()
    assert g4.when() == total
    g4.ok("reverse-stepi")
    assert g4.when() == total - 1
    g4.ok("break square")
    stop = g4.ok("reverse-continue")
    assert stop.reason == "breakpoint-hit" and g4.eval("x") == "30", g4.dump()
    assert server.proc.poll() is None


def test_fresh_starts_every_session_at_zero(gdb_guest, serve, gdb):
    guest = gdb_guest("basic", "static")
    server = serve(guest.trace, "--fresh")
    g1 = gdb(guest.binary)
    g1.connect(server.address)
    g1.ok("break report")
    g1.ok("continue")
    assert g1.when() > 0
    g1.ok("delete")
    g1.ok("continue")
    g1.ok("monitor exit")
    assert g1.ok("continue").reason == "exited"    # the process is "gone" for g1
    g1.close()

    for _ in range(2):
        g = gdb(guest.binary)
        reply = g.connect(server.address)
        assert g.when() == 0
        assert reply.stopped is not None and reply.frame.get("func") == "_start", g.dump()
        g.ok("break square")
        assert g.ok("continue").reason == "breakpoint-hit"
        g.ok("detach")
        g.close()


def test_once_serves_one_session_then_exits(connected):
    guest, server, g = connected("basic", "static")
    g.ok("break main")
    g.ok("continue")
    g.ok("detach")
    assert server.wait(timeout=15) == 0


def _launch(guest, tmp_path, *gdb_args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ttdbg", "replay", str(guest.trace), "--", "-nx", "-batch", *gdb_args],
        capture_output=True, text=True, cwd=tmp_path, env=ttdbg_env(tmp_path),
        stdin=subprocess.DEVNULL, timeout=120)


def test_replay_launcher_runs_gdb_connected(gdb_guest, tmp_path):
    guest = gdb_guest("basic", "static")
    run = _launch(guest, tmp_path, "-ex", "break square", "-ex", "continue", "-ex", "continue",
                  "-ex", "print x", "-ex", "reverse-continue", "-ex", "print x", "-ex", "monitor when")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Breakpoint 1, square (x=1)" in out
    assert "$1 = 1" in out and "$2 = 0" in out
    assert "Current instruction:" in out


def test_replay_launcher_time_commands_reread_the_registers(gdb_guest, tmp_path):
    """`goto` / `when` / `restart-checkpoint` wrap the monitor commands and
    flush gdb's register cache, so `$pc` follows the jump in time."""
    guest = gdb_guest("basic", "static")
    run = _launch(guest, tmp_path, "-ex", "goto 1000", "-ex", "when", "-ex", "print/x $pc",
                  "-ex", "monitor checkpoint here", "-ex", "goto 2000", "-ex", "print/x $pc",
                  "-ex", "restart-checkpoint here", "-ex", "print/x $pc", "-ex", "when")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert out.count("Current instruction: 1,000 of") == 2, out
    pcs = re.findall(r"\$\d+ = (0x[0-9a-f]+)", out)
    assert len(pcs) == 3, out
    assert pcs[0] == pcs[2] != pcs[1], out


def test_replay_launcher_goto_reads_the_libraries_it_passes(gdb_guest, tmp_path):
    """A `goto` from the start to past the dynamic linker's work leaves gdb
    knowing libc is mapped; the wrapper also reads its symbols, so a backtrace
    names libc's functions rather than `??`."""
    guest = gdb_guest("basic", "dynamic")
    run = _launch(guest, tmp_path, "-ex", "goto 99%", "-ex", "info sharedlibrary", "-ex", "bt")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    libc = [line for line in out.splitlines() if line.rstrip().endswith("libc.so.6")]
    assert libc and all(" Yes " in line for line in libc), out
    assert "__libc_start_main" in out and " in ?? () from " not in out, out


def test_replay_launcher_exits_with_gdbs_status(gdb_guest, tmp_path):
    guest = gdb_guest("basic", "static")
    run = _launch(guest, tmp_path, "-ex", "print no_such_symbol_here")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "No symbol" in run.stderr


def _checksum(payload: bytes) -> bytes:
    return b"%02x" % (sum(payload) & 0xFF)


def _packet(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + _checksum(payload)


def _read_until(sock: socket.socket, predicate, timeout: float = 10.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while not predicate(data) and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def _reply_complete(data: bytes) -> bool:
    i = data.find(b"$")
    j = data.find(b"#", i + 1) if i >= 0 else -1
    return j >= 0 and len(data) >= j + 3


def test_malformed_packets_over_a_raw_socket(gdb_guest, serve):
    guest = gdb_guest("basic", "static")
    server = serve(guest.trace, "--once")
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"$?#00")                                  # bad checksum
        assert _read_until(sock, lambda d: len(d) >= 1) == b"-"
        sock.sendall(b"garbage without a frame \x7f\xff")       # noise between packets
        sock.sendall(b"$" + b"m0,8" * 20000 + b"#00")           # overlong (80 kB)
        reply = _read_until(sock, _reply_complete)
        assert reply.startswith(b"+$E"), reply[:60]
        sock.sendall(b"+")
        sock.sendall(_packet(b"?"))                             # a valid one still works
        reply = _read_until(sock, _reply_complete)
        assert reply.startswith(b"+$T05") or reply.startswith(b"+$S05"), reply
        sock.sendall(b"+")
        sock.sendall(_packet(b"qfoobar"))                       # unknown query: empty reply
        assert _read_until(sock, _reply_complete) == b"+$#00"
        sock.sendall(b"+")
        sock.sendall(_packet(b"m0,8"))                          # unmapped memory: an error
        assert _read_until(sock, _reply_complete).startswith(b"+$E")
        sock.sendall(b"+")
        sock.sendall(_packet(b"g"))
        regs = _read_until(sock, _reply_complete)
        assert regs.startswith(b"+$") and len(regs) > 100
        sock.sendall(b"+")
        sock.sendall(_packet(b"k"))
    assert server.wait(timeout=15) == 0
