"""Real event loops over loopback TCP in one program: Python's asyncio (epoll)
and node (libuv: epoll, a timer).  Each run recorded equals the native run
(output and status), warns of nothing, and its replay equals the recording."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from harness import Ttdbg
from test_record_replay import assert_same_run

PYTHON = "/usr/bin/python3"
ASYNCIO = """
import asyncio

async def handle(reader, writer):
    while data := await reader.readline():
        writer.write(data.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for line in (b"hello\\n", b"edge triggered\\n", b"x" * 50000 + b"\\n"):
        writer.write(line)
        await writer.drain()
        back = await reader.readline()
        print(len(back), back[:20])
    await asyncio.sleep(0.01)
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print("done")

asyncio.run(main())
"""
NODE = """
const net = require('net');
const server = net.createServer(s => s.on('data', d => s.write(d.toString().toUpperCase())));
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => c.write('hello node\\n'));
  c.on('data', d => { console.log('echo', d.toString().trim());
    setTimeout(() => { console.log('timer'); c.end(); server.close(); }, 20); });
});
"""


def _check(ttdbg: Ttdbg, program: str, *args: str) -> str:
    native = ttdbg.native(program, *args)
    assert native.status == 0, native.err
    trace, rec = ttdbg.record(program, *args)
    assert_same_run(rec, native, "record vs native")
    assert "ttdbg:" not in rec.err, rec.err
    rep = ttdbg.replay(trace)
    assert_same_run(rep, rec, "replay vs record")
    return rec.out


@pytest.mark.skipif(not Path(PYTHON).exists(), reason="no /usr/bin/python3")
def test_asyncio_client_and_server(ttdbg: Ttdbg) -> None:
    out = _check(ttdbg, PYTHON, "-I", "-c", ASYNCIO)
    assert out.splitlines()[-2:] == ["50001 b'XXXXXXXXXXXXXXXXXXXX'", "done"], out


@pytest.mark.skipif(shutil.which("node") is None, reason="no node on PATH")
def test_node_timer_and_tcp_echo(ttdbg: Ttdbg) -> None:
    node = shutil.which("node")
    assert node is not None
    out = _check(ttdbg, node, "-e", NODE)
    assert out.splitlines() == ["echo HELLO NODE", "timer"], out
