"""`--uart tcp:PORT`: the recorder listens on 127.0.0.1, one client (a Python socket here)
is the UART's input and output, as QEMU's `-serial tcp::PORT,server`; the replay reads the
input from the trace, never the network, and refuses `tcp:` in one line."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

from harness import Ttdbg

TICKS = re.compile(rb"ticks=(\d+)")


def _receive_until_closed(conn: socket.socket) -> bytes:
    out = b""
    while chunk := conn.recv(4096):
        out += chunk
    return out


def test_tcp_client_is_the_uart(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t"
    proc = subprocess.Popen(ttdbg.argv("record", "-q", "--board", "virt", "--uart", "tcp:0", "-o", trace, firmware),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ttdbg.env, cwd=ttdbg.workdir)
    assert proc.stderr is not None
    waiting = proc.stderr.readline().decode()
    port = int(re.search(r"tcp:127\.0\.0\.1:(\d+): waiting for a connection", waiting).group(1))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        first = b""
        while not first.endswith(b"ready\n"):
            first += conn.recv(100)
        conn.sendall(b"over tcp\nsecond\x04")
        received = first + _receive_until_closed(conn)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert out == b""                                   # the UART was the socket, not stdout
    assert received.startswith(b"echo firmware ready\nOVER TCP\nSECOND\nticks=")
    assert int(TICKS.search(received).group(1)) >= 0

    dest = tmp_path / "uart.txt"
    rep = ttdbg("replay", "-a", trace, "--uart", f"file:{dest}", "--stats")
    assert rep.status == 3, rep.err
    assert dest.read_bytes() == received
    assert "without divergence" in rep.err
    assert "over tcp" in ttdbg("dump", trace, "--kind", "char_read").out

    refused = ttdbg("replay", "-a", trace, "--uart", f"tcp:{port}")
    assert refused.status == 2
    assert "never touches the network" in refused.err and len(refused.err.splitlines()) == 1


def test_tcp_port_taken(ttdbg: Ttdbg, firmware: Path, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        run = ttdbg("record", "-q", "--board", "virt", "--uart", f"tcp:{port}", "-o", tmp_path / "t", firmware)
    assert run.status == 2, run.err
    assert "cannot listen" in run.err and len(run.err.splitlines()) == 1
    assert not (tmp_path / "t").exists()
