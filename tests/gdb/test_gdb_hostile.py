"""Hostile input on the gdb side: a crafted trace opened with `ttdbg replay`,
addresses at the top of the address space, and ways of starting `ttdbg serve`
that used to end in a traceback."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gdbtest_support import ttdbg_env

from replay.eventlog import LogWriter, read_log
from replay.events import FileKind, FileOpen
from replay.trace import FILES_DIR, LOG_NAME


def _rewrite(src: Path, dst: Path, *, files: dict[str, str] | None = None, **header_fields: str) -> Path:
    """Copy trace `src` to `dst`, through the project's own log writer, with changed header
    fields and/or extra captured files (path -> digest) before the END event."""
    contents = read_log(str(src / LOG_NAME))
    header = dataclasses.replace(contents.header, **header_fields)
    dst.mkdir()
    shutil.copytree(src / FILES_DIR, dst / FILES_DIR)
    writer = LogWriter(str(dst / LOG_NAME), header)
    events = list(contents.events)
    end = events.pop()
    for event in events:
        writer.append(event)
    for path, digest in (files or {}).items():
        writer.append(FileOpen(end.icount, path, 0, 3, FileKind.CAPTURED, digest, 1))
    writer.append(end)
    writer.close()
    return dst


def _replay(trace: Path, tmp_path: Path, *gdb_args: str) -> subprocess.CompletedProcess:
    env = ttdbg_env(tmp_path)
    env["TMPDIR"] = str(tmp_path / "tmp")           # where the private sysroot goes
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "ttdbg", "replay", str(trace), "--", "-nx", "-batch", *gdb_args],
        capture_output=True, text=True, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, timeout=120)


def _escape(target: Path) -> str:
    """An absolute path that climbs out of any directory it is joined to, then down to `target`."""
    return "/.." * 12 + str(target)


def test_a_trace_whose_program_path_climbs_out_is_refused(gdb_guest, tmp_path):
    guest = gdb_guest("basic", "static")
    escape = tmp_path / "escape"
    trace = _rewrite(guest.trace, tmp_path / "hostile", program=_escape(escape / "prog"))
    run = _replay(trace, tmp_path, "-ex", "print 1")
    assert run.returncode == 65, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ttdbg: ") and "program" in lines[0], run.stderr
    assert "Traceback" not in run.stderr
    assert not escape.exists()
    assert os.listdir(tmp_path / "tmp") == []              # and nothing left behind


def test_a_program_digest_that_is_a_path_is_refused(gdb_guest, tmp_path):
    guest = gdb_guest("basic", "static")
    secret = tmp_path / "secret"
    secret.write_text("not for gdb\n")
    trace = _rewrite(guest.trace, tmp_path / "hostile", program_sha256=_escape(secret))
    run = _replay(trace, tmp_path, "-ex", "print 1")
    assert run.returncode == 65 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "Traceback" not in run.stderr


def test_a_captured_file_missing_from_the_trace_is_an_io_error_for_gdb(gdb_guest, serve, tmp_path):
    guest = gdb_guest("basic", "static")
    trace = _rewrite(guest.trace, tmp_path / "hostile", files={"/lib/gone.so": "ab" * 32})
    server = serve(trace, "--once")
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        assert _ask(sock, b"vFile:open:" + b"/lib/gone.so".hex().encode() + b",0,0") == b"F-1,270f"  # EIO (EUNKNOWN)
        assert _ask(sock, b"vFile:open:" + b"/lib/never.so".hex().encode() + b",0,0") == b"F-1,2"  # ENOENT
        _ask(sock, b"D")
    assert server.wait(timeout=15) == 0
    assert "Traceback" not in server.stderr, server.stderr


def test_captured_paths_that_climb_out_stay_in_the_sysroot(gdb_guest, tmp_path):
    guest = gdb_guest("basic", "static")
    escape = tmp_path / "escape"
    digest = read_log(str(guest.trace / LOG_NAME)).header.program_sha256
    trace = _rewrite(guest.trace, tmp_path / "hostile", files={
        _escape(escape / "lib" / "libc.so.6"): digest,
        "/lib\nshell touch pwned": digest,
        # once "/x" is a link into the trace, nothing may be made through it
        "/x": digest,
        "/x/y/z": digest,
    })
    run = _replay(trace, tmp_path, "-ex", "break square", "-ex", "continue", "-ex", "print x")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Breakpoint 1, square (x=0)" in out and "$1 = 0" in out     # the session proceeds
    assert not escape.exists()
    assert not (tmp_path / "pwned").exists()
    warnings = [line for line in run.stderr.splitlines() if line.startswith("ttdbg: warning: ")]
    assert any("lib\\nshell" in w for w in warnings), run.stderr
    assert any("/x/y/z" in w for w in warnings), run.stderr
    assert "Traceback" not in run.stderr
    assert os.listdir(tmp_path / "tmp") == []


# -- ttdbg serve: ports, hosts, bind failures -----------------------------------------------
def _serve(trace: Path, tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ttdbg", "serve", str(trace), *args],
                          capture_output=True, text=True, cwd=tmp_path, env=ttdbg_env(tmp_path),
                          stdin=subprocess.DEVNULL, timeout=timeout)


@pytest.mark.parametrize("port", ["99999", "-1", "65536", "http"])
def test_a_port_out_of_range_is_a_usage_error(gdb_guest, tmp_path, port):
    run = _serve(gdb_guest("basic", "static").trace, tmp_path, f"--port={port}")
    assert run.returncode == 2, run.stderr
    assert "--port" in run.stderr and "Traceback" not in run.stderr and "internal error" not in run.stderr


def test_a_port_in_use_exits_69_with_one_line(gdb_guest, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        run = _serve(gdb_guest("basic", "static").trace, tmp_path, "--port", str(port))
    assert run.returncode == 69, run.stderr
    assert run.stderr.splitlines() == [f"ttdbg: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_an_address_not_available_exits_69_with_one_line(gdb_guest, tmp_path):
    run = _serve(gdb_guest("basic", "static").trace, tmp_path, "--host", "192.0.2.1", "--port", "0")  # TEST-NET-1
    assert run.returncode == 69, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ttdbg: cannot listen on 192.0.2.1:0: "), run.stderr


def _has_ipv6_loopback() -> bool:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_serving_on_ipv6_loopback(gdb_guest, serve, gdb):
    guest = gdb_guest("basic", "static")
    server = serve(guest.trace, "--once", "--host", "::1")
    assert server.host == "::1"
    assert "warning" not in server.stderr
    g = gdb(guest.binary)
    g.connect(server.address)                      # [::1]:PORT, as printed
    g.ok("break square")
    assert g.ok("continue").reason == "breakpoint-hit"
    g.ok("detach")
    assert server.wait(timeout=15) == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_non_loopback_bind_warns_that_the_recording_is_exposed(gdb_guest, serve, host):
    if host == "::" and not _has_ipv6_loopback():
        pytest.skip("no IPv6 on this machine")
    server = serve(gdb_guest("basic", "static").trace, "--host", host)
    warning = [line for line in server.stderr.splitlines() if line.startswith("ttdbg: warning: ")]
    assert len(warning) == 1, server.stderr
    assert "anyone who can reach this port can read the whole recording" in warning[0]
    loopback = server.stderr.replace(warning[0], "")
    assert "warning" not in loopback


def test_loopback_binds_do_not_warn(gdb_guest, serve):
    server = serve(gdb_guest("basic", "static").trace, "--host", "localhost")
    assert "warning" not in server.stderr, server.stderr


# -- addresses at the top of the address space ------------------------------------------------
def test_a_breakpoint_at_the_last_address_is_harmless(connected):
    guest, server, g = connected("basic", "static")
    g.ok("break *0xffffffffffffffff")
    g.ok("break square")
    reply = g.ok("continue")
    assert reply.reason == "breakpoint-hit" and reply.func == "square", reply.stopped
    g.ok("delete 2")
    assert "No more reverse-execution history" in g.ok("continue").text
    assert "Traceback" not in server.stderr and "error" not in server.stderr


def _ask(sock: socket.socket, payload: bytes) -> bytes:
    """Send one packet in ack mode; returns the reply payload (and acks it)."""
    sock.sendall(b"$" + payload + b"#" + b"%02x" % (sum(payload) & 0xFF))
    data = b""
    while True:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {payload!r}; had {data!r}"
        data += chunk
        start = data.find(b"$")
        end = data.find(b"#", start + 1) if start >= 0 else -1
        if end >= 0 and len(data) >= end + 3:
            sock.sendall(b"+")
            return data[start + 1:end]


@pytest.mark.parametrize("packet", [b"Z2,fffffffffffffff8,10", b"Z3,ffffffffffffffff,2", b"Z4,fffffffffffffffe,4",
                                    b"Z0,10000000000000000,1"])
def test_ranges_past_the_end_of_the_address_space_are_refused(gdb_guest, serve, packet):
    guest = gdb_guest("basic", "static")
    server = serve(guest.trace, "--once")
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        assert _ask(sock, b"qSupported:swbreak+;hwbreak+").startswith(b"PacketSize=")
        assert _ask(sock, packet) == b"E16"                      # EINVAL
        stop = _ask(sock, b"c")                                  # no false stop at instruction 2
        assert stop.startswith(b"T05") and b"replaylog:end" in stop, stop
        assert b"watch" not in stop
        _ask(sock, b"D")
    assert server.wait(timeout=15) == 0
    assert "Traceback" not in server.stderr


# -- a gdb that vanishes mid-motion ---------------------------------------------------------
def _when(g) -> tuple[int, int]:
    text = g.ok("monitor when").text
    here, total = text.split("Current instruction: ")[1].split(" (")[0].split(" of ")
    return int(here.replace(",", "")), int(total.replace(",", ""))


@pytest.mark.parametrize("motion", ["monitor goto end", "continue"])
def test_a_gdb_killed_mid_motion_stops_the_motion(gdb_guest, serve, gdb, motion):
    guest = gdb_guest("spin", "static")
    server = serve(guest.trace)                        # keeps serving
    g1 = gdb(guest.binary)
    g1.connect(server.address)
    g1.send(motion)
    time.sleep(1.0)                                    # well into a ~3 s replay
    g1.process.kill()
    g1.process.wait(10)
    sent = time.monotonic()
    g2 = gdb(guest.binary)
    g2.connect(server.address)
    here, total = _when(g2)
    assert time.monotonic() - sent < 10
    assert 0 < here < total, (here, total)            # the motion stopped when gdb went away
    g2.ok("stepi")
    assert _when(g2)[0] == here + 1                   # and the new session is sound
    g2.ok("reverse-stepi")
    assert _when(g2)[0] == here
    assert "Traceback" not in server.stderr


# -- Ctrl-C while starting up -----------------------------------------------------------------
# A real SIGINT, sent by the process to itself at a chosen point of its start-up
# (an audit hook watches for the event), then `python -m ttdbg` as usual.
_SIGINT_AT = """
import os, runpy, signal, sys
when = os.environ["SIGINT_AT"]
fired = []
def hook(event, args):
    if fired:
        return
    if (when == "import" and event == "import" and args[0] == "unicorn") or \\
       (when == "load" and event == "open" and str(args[0]).endswith("events.log")):
        fired.append(event)
        os.kill(os.getpid(), signal.SIGINT)
sys.addaudithook(hook)
sys.argv[0] = "ttdbg"
runpy.run_module("ttdbg", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("when", ["import", "load"])
@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("replay",)])
def test_ctrl_c_during_start_up_is_one_line_and_130(gdb_guest, tmp_path, command, when):
    guest = gdb_guest("basic", "static")
    name, *rest = command
    env = {**ttdbg_env(tmp_path), "SIGINT_AT": when}
    run = subprocess.run([sys.executable, "-c", _SIGINT_AT, name, str(guest.trace), *rest],
                         capture_output=True, text=True, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                         timeout=60)
    assert run.stderr == "ttdbg: interrupted\n", run.stderr
    assert run.returncode == 130


# -- the real engine under a batch of malformed traffic, then a real gdb ------------------------
def _malformed_batch() -> list[bytes]:
    """Deterministic hostile traffic: broken frames, absurd numbers, hostile host I/O, noise."""
    def frame(payload: bytes, good: bool = True) -> bytes:
        total = sum(payload) & 0xFF
        return b"$" + payload + b"#" + b"%02x" % (total if good else total ^ 0xFF)

    batch = [frame(b"qSupported:swbreak+;hwbreak+"), frame(b"?", good=False), b"\x00\xff garbage \x7f",
             frame(b"m" + b"f" * 40 + b",ffffffff"), frame(b"mffffffffffffffff,10"), frame(b"m0,0"),
             frame(b"M1000,4:zz"), frame(b"X401000,4:" + b"}\x03}\x04\x00\x01"), frame(b"X0,ffffffff:"),
             frame(b"Gxx"), frame(b"P10=0011"), frame(b"pffffffff"),
             frame(b"Z0,ffffffffffffffff,1"), frame(b"Z2,fffffffffffffff8,10"), frame(b"Z3,ffffffffffffffff,2"),
             frame(b"Z1,0,0"), frame(b"z0,ffffffffffffffff,1"), frame(b"Z9,0,1"), frame(b"Z0,,"),
             frame(b"vFile:open:" + b"../../../../etc/passwd".hex().encode() + b",0,0"),
             frame(b"vFile:open:" + b"/proc/self/../../etc/shadow".hex().encode() + b",0,0"),
             frame(b"vFile:open:" + (b"/" + b"a/" * 2000).hex().encode()[:8000] + b",0,0"),
             frame(b"vFile:pread:7fffffff,ffffffff,ffffffffffffffff"), frame(b"vFile:close:-1"),
             frame(b"qXfer:features:read:target.xml:ffffffffffffffffffff,ffffffff"),
             frame(b"qXfer:auxv:read::" + b"f" * 30 + b",10"), frame(b"qXfer:exec-file:read:ffff:0,fff"),
             frame(b"qXfer:features:read:../../etc/passwd:0,100"),
             frame(b"qRcmd," + b"goto 99999999999999999999999".hex().encode()),
             frame(b"qRcmd," + b"restart nowhere".hex().encode()), frame(b"qRcmd,zz"),
             frame(b"vCont;x"), frame(b"vCont;c:p1234.5678"), frame(b"Hgp-1.-1"), frame(b"Tzz"),
             b"$" + b"A" * 70_000 + b"#00", b"$m0," + b"9" * 20_000, b"#00", b"}}}}$", b"*#00",
             frame(b"qC"), b"-" * 200]
    return batch


def test_the_real_engine_survives_malformed_traffic_then_serves_gdb(gdb_guest, serve, gdb):
    guest = gdb_guest("basic", "static")
    server = serve(guest.trace, "--fresh")                        # keeps serving, from the start
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        for chunk in _malformed_batch():
            sock.sendall(chunk)
        sock.settimeout(30)
        received = 0
        while True:                                              # the NAK flood ends the connection
            data = sock.recv(65536)
            if not data:
                break
            received += len(data)
    assert received < 200_000, received
    g = gdb(guest.binary)
    g.connect(server.address)
    g.ok("break square")
    assert g.ok("continue").reason == "breakpoint-hit"
    assert g.ok("continue").reason == "breakpoint-hit"
    assert g.eval("x") == "1"
    g.ok("reverse-continue")
    assert g.eval("x") == "0"
    assert "Traceback" not in server.stderr, server.stderr


def test_host_io_opens_are_bounded(gdb_guest, serve):
    guest = gdb_guest("basic", "static")
    server = serve(guest.trace, "--once")
    program = read_log(str(guest.trace / LOG_NAME)).header.program.encode()
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        replies = [_ask(sock, b"vFile:open:" + program.hex().encode() + b",0,0") for _ in range(66)]
        assert replies[0] == b"F3"
        assert replies[-1] == b"F-1,18"                          # EMFILE, not one more copy in memory
        assert _ask(sock, b"vFile:close:3") == b"F0"
        reopened = _ask(sock, b"vFile:open:" + program.hex().encode() + b",0,0")   # a freed slot is usable
        assert reopened.startswith(b"F") and not reopened.startswith(b"F-1,"), reopened
        _ask(sock, b"D")
    assert server.wait(timeout=15) == 0


def test_named_checkpoints_are_bounded(gdb_guest, serve):
    guest = gdb_guest("basic", "static")
    server = serve(guest.trace, "--once")
    buffer = bytearray()

    def reply(sock: socket.socket) -> bytes:
        while True:
            start = buffer.find(b"$")
            end = buffer.find(b"#", start + 1) if start >= 0 else -1
            if end >= 0 and len(buffer) >= end + 3:
                payload = bytes(buffer[start + 1:end])
                del buffer[:end + 3]
                return payload
            chunk = sock.recv(65536)
            assert chunk, bytes(buffer)
            buffer.extend(chunk)

    def monitor(sock: socket.socket, command: str) -> str:
        payload = b"qRcmd," + command.encode().hex().encode()
        sock.sendall(b"$" + payload + b"#" + b"%02x" % (sum(payload) & 0xFF))
        text = b""
        while (got := reply(sock)) != b"OK":
            assert got.startswith(b"O"), got
            text += bytes.fromhex(got[1:].decode())
        return text.decode()

    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(b"$QStartNoAckMode#b0")
        assert reply(sock) == b"OK"
        for i in range(256):
            monitor(sock, f"goto {(i + 1) * 50}")          # one named checkpoint per position
            assert f"Checkpoint 'n{i}'" in monitor(sock, f"checkpoint n{i}")
        monitor(sock, "goto 20000")
        assert "already 256 checkpoints" in monitor(sock, "checkpoint one-too-many")
        assert "Checkpoint 'n7'" in monitor(sock, "checkpoint n7")       # an existing name moves
        sock.sendall(b"$D#44")
        assert reply(sock) == b"OK"
    assert server.wait(timeout=15) == 0
