"""Sockets (tests/guests/net.c): real host sockets while recording, every
result and byte received in the log, and a replay that touches no network.

Each mode is compared with a native run of the same guest; the server is
recorded while a client in this test talks to it and then replayed with no
client at all; the client guest talks to a server in this test.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from harness import Run, Ttdbg
from test_record_replay import assert_same_run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode", ["loopback", "udp", "pair", "errors"])
def test_sockets_in_one_process(ttdbg: Ttdbg, guest, mode: str) -> None:
    program = guest("net", "static")
    native = ttdbg.native(program, mode)
    assert native.status == 0, native.out
    trace, rec, rep = ttdbg.record_replay(program, mode)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def test_sockets_with_musl(ttdbg: Ttdbg, guest) -> None:
    program = guest("net", "musl")
    native = ttdbg.native(program, "loopback")
    trace, rec, rep = ttdbg.record_replay(program, "loopback")
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def test_unix_socket_on_a_path(ttdbg: Ttdbg, guest, tmp_path: Path) -> None:
    program = guest("net", "dynamic")
    path = str(tmp_path / "sock")
    native = ttdbg.native(program, "unix", path)
    assert "unix: 11 over a path" in native.out, native.out
    trace, rec, rep = ttdbg.record_replay(program, "unix", path)
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")


def test_getaddrinfo_localhost(ttdbg: Ttdbg, guest) -> None:
    program = guest("net", "dynamic")
    native = ttdbg.native(program, "resolve")
    trace, rec, rep = ttdbg.record_replay(program, "resolve")
    assert_same_run(rec, native, "record vs native")
    assert_same_run(rep, rec, "replay vs record")
    assert "127.0.0.1" in rec.out, rec.out


def _talk_to(port: int) -> bytes:
    """The client: connect (retrying while the server starts), send two lines, read the echo."""
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=30)
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    with conn:
        conn.sendall(b"hello\n")
        first = conn.recv(100)
        conn.sendall(b"world\n")
        answer = first
        while len(answer) < 12:
            answer += conn.recv(100)
    return answer


def _serve_with_client(argv: list[str], port: int, env: dict, cwd: Path) -> tuple[Run, bytes]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    try:
        answer = _talk_to(port)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Run(proc.returncode, out, err), answer


def test_tcp_server_recorded_with_a_client_replays_without_one(ttdbg: Ttdbg, guest) -> None:
    program = guest("net", "static")
    port = _free_port()
    native, answer = _serve_with_client([str(program), "server", str(port)], port, ttdbg.env, ttdbg.workdir)
    assert answer == b"HELLO\nWORLD\n" and native.status == 0, (answer, native.out)
    trace = ttdbg.new_trace()
    port = _free_port()
    rec, answer = _serve_with_client(ttdbg.argv("record", "-q", "-o", trace, program, "server", str(port)),
                                     port, ttdbg.env, ttdbg.workdir)
    assert answer == b"HELLO\nWORLD\n", answer
    assert_same_run(rec, native, "record vs native")
    # Replay: the port is not even listened on; nothing connects.
    rep = ttdbg.replay(trace)
    assert_same_run(rep, rec, "replay vs record")
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_replay_needs_no_network(ttdbg: Ttdbg, guest) -> None:
    # Replayed in a network namespace of its own (no interface, not even lo up):
    # any socket call reaching the host would fail there.
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("cannot make a network namespace here")
    program = guest("net", "static")
    trace, rec = ttdbg.record(program, "udp")
    assert rec.status == 0, rec.err
    native_in_ns = subprocess.run(["unshare", "-n", str(program), "udp"], capture_output=True, timeout=60)
    assert native_in_ns.stdout != rec.stdout     # the namespace really has no network
    rep = subprocess.run(["unshare", "-n", *ttdbg.argv("replay", "-a", trace)], capture_output=True,
                         env=ttdbg.env, cwd=ttdbg.workdir, timeout=120)
    assert_same_run(Run(rep.returncode, rep.stdout, rep.stderr), rec, "replay without network vs record")


def _one_shot_server(reply: bytes) -> tuple[socket.socket, threading.Thread, list[bytes]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            got.append(conn.recv(100))
            conn.sendall(reply)
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread, got


def test_tcp_client_of_a_server_in_the_test(ttdbg: Ttdbg, guest, flavour: str) -> None:
    program = guest("net", flavour)
    runs = []
    for record in (False, True):
        listener, thread, got = _one_shot_server(b"pong from python\n")
        with listener:
            port = str(listener.getsockname()[1])
            if record:
                trace, run = ttdbg.record(program, "client", port)
            else:
                run = ttdbg.native(program, "client", port)
            thread.join(30)
        assert got == [b"ping\n"], got
        runs.append(run)
    native, rec = runs
    assert "answer (17 bytes): pong from python" in native.out, native.out
    assert_same_run(rec, native, "record vs native")
    assert_same_run(ttdbg.replay(trace), rec, "replay vs record")


def test_ctrl_c_while_blocked_in_accept(ttdbg: Ttdbg, guest) -> None:
    program = guest("net", "static")
    trace = ttdbg.new_trace()
    port = _free_port()
    proc = subprocess.Popen(ttdbg.argv("record", "-q", "-o", trace, program, "server", str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ttdbg.env, cwd=ttdbg.workdir)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"listening\n"
        time.sleep(0.3)
        proc.send_signal(2)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rep = ttdbg.replay(trace)
    assert rep.out == "listening\n", rep.out


@pytest.mark.parametrize("client", ["curl", "wget"])
def test_http_client_against_a_local_server(ttdbg: Ttdbg, tmp_path: Path, client: str) -> None:
    import functools
    import http.server

    program = shutil.which(client)
    if program is None:
        pytest.skip(f"{client} is not installed")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "page.txt").write_bytes(b"served by the test\n" * 50)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass
    handler = functools.partial(Quiet, directory=str(tmp_path / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/page.txt"
        args = ["-s", url] if client == "curl" else ["-q", "-O", "-", url]
        native = ttdbg.native(program, *args)
        assert native.status == 0 and native.stdout == b"served by the test\n" * 50, native.err
        trace, rec = ttdbg.record(program, *args)
    finally:
        server.shutdown()
        server.server_close()
    assert_same_run(rec, native, "record vs native")
    rep = ttdbg.replay(trace)           # the server is gone
    assert_same_run(rep, rec, "replay vs record")
