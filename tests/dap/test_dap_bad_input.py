"""Bad input to `ttdbg dap`: an error response or a clean exit with one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from dapsupport import ROOT, SOURCE

EXIT_PROTOCOL = 76


def no_traceback(c) -> str:
    err = c.stderr()
    assert "Traceback" not in err and "Fatal Python error" not in err, err
    return err


def test_requests_refused_with_error_responses(doubling, dap_client, tmp_path):
    c = dap_client()
    c.ok("initialize", adapterID="ttdbg")
    for command, arguments, words in [
        ("stackTrace", {"threadId": 1}, "launch"),                         # before a trace is open
        ("frobnicate", {}, "does not support"),
        ("launch", {"trace": str(tmp_path / "none")}, "no such trace"),
        ("launch", {"trace": 42}, "must be of type str"),
        ("launch", {"trace": doubling.trace, "program": "/bin/true"}, "not /bin/true"),
    ]:
        response = c.request(command, **arguments)
        assert not response["success"] and words in response["message"], response
    c.ok("launch", trace=doubling.trace, program=os.path.basename(doubling.program), stopOnEntry=True)
    c.ok("configurationDone")
    c.wait_event("stopped")
    for command, arguments, words in [
        ("variables", {"variablesReference": 999}, "no variables"),
        ("scopes", {"frameId": 99}, "no frame"),
        ("evaluate", {"expression": "nosuchname", "frameId": 1}, 'No symbol "nosuchname"'),
        ("evaluate", {"expression": "*(", "frameId": 1}, "syntax error"),
        ("evaluate", {"expression": "*0", "frameId": 1}, "Cannot access memory at address 0x0"),
        ("ttdbg/goto", {"position": "sideways"}, "invalid position"),
        ("readMemory", {"memoryReference": "here", "count": 4}, "not a memory reference"),
        ("stepOut", {"threadId": 1}, None),                                # outermost: refused after the answer
    ]:
        response = c.request(command, **arguments)
        if words is None:
            assert response["success"]
            assert c.wait_event("stopped") and "outermost" in c.output("stderr")
        else:
            assert not response["success"] and words in response["message"], response
    body = c.ok("setBreakpoints", source={"path": SOURCE}, breakpoints=[{"line": 100000}, {"line": "x"}])
    assert [b["verified"] for b in body["breakpoints"]] == [False, False]
    body = c.ok("setBreakpoints", source={"path": "/no/such.c"}, breakpoints=[{"line": 3}])
    assert "No source file" in body["breakpoints"][0]["message"]
    body = c.ok("setDataBreakpoints", breakpoints=[{"dataId": "junk"}])
    assert not body["breakpoints"][0]["verified"]
    c.ok("disconnect")
    assert c.finish() == 0
    no_traceback(c)


def test_malformed_json_is_reported_and_the_session_goes_on(doubling, dap_client):
    c = dap_client(doubling.trace)
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe", b'{"type": "event", "event": "x"}', b'{"seq": 1}'):
        c.write_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert c.ok("initialize", adapterID="ttdbg")["supportsStepBack"] is True
    notes = c.output("important")
    assert notes.count("ttdbg dap:") == 5 and "not JSON" in notes and "not a JSON object" in notes
    c.ok("disconnect")
    assert c.finish() == 0
    no_traceback(c)


@pytest.mark.parametrize("raw", [
    b"GET / HTTP/1.1\r\n\r\n",                       # no Content-Length
    b"Content-Length: twelve\r\n\r\n{}",
    b"Content-Length: 999999999999\r\n\r\n",
    b"Content-Length: 50\r\n\r\n{\"seq\": 1",        # the input ends inside the body
    b"X" * 5000,                                    # a header line without end
])
def test_broken_framing_ends_the_server_in_one_line(raw, dap_client):
    c = dap_client()
    c.write_raw(raw)
    assert c.finish() == EXIT_PROTOCOL
    err = no_traceback(c)
    assert err.startswith("ttdbg: dap: ") and len(err.strip().splitlines()) == 1, err


def test_end_of_input_without_disconnect_exits_0(doubling, dap_client):
    c = dap_client(doubling.trace)
    c.ok("initialize", adapterID="ttdbg")
    c.ok("attach")                                        # the trace given on the command line
    c.wait_event("initialized")
    assert c.request("attach")["message"] == "a trace is already open in this session"
    assert c.finish() == 0
    no_traceback(c)


def test_a_missing_trace_on_the_command_line_fails_before_the_protocol(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ttdbg", "dap", str(tmp_path / "none")], cwd=ROOT,
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 66 and proc.stdout == b""
    assert proc.stderr.decode().strip() == f"ttdbg: {tmp_path / 'none'}: no such trace"
