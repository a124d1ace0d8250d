"""The DAP framing on its own: what encode writes reads back, and no input raises anything
but FramingError (a one-line message), whatever its bytes."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ttdbg.dap.wire import FdInput, FramingError, encode, read_message

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=12)


@given(st.lists(st.dictionaries(st.text(), JSON, max_size=5), max_size=4))
@settings(max_examples=40, deadline=None)
def test_encoded_messages_read_back_in_order(messages):
    stream = io.BytesIO(b"".join(encode(m) for m in messages))
    assert [read_message(stream) for _ in messages] == messages
    assert read_message(stream) is None


@given(st.binary(max_size=300) | st.builds(lambda n, body: b"Content-Length: %d\r\n\r\n" % n + body,
                                           st.integers(-5, 400), st.binary(max_size=300)))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_messages_or_one_line_framing_errors(data):
    stream = io.BytesIO(data)
    for _ in range(len(data) + 1):
        try:
            message = read_message(stream)
        except FramingError as exc:
            assert "\n" not in str(exc)
            if exc.fatal:
                return
            continue
        if message is None:
            return
        assert isinstance(message, dict)


def test_fd_input_reads_split_writes(tmp_path):
    import os
    r, w = os.pipe()
    body = json.dumps({"seq": 1, "type": "request", "command": "initialize"}).encode()
    data = b"Content-Length: %d\r\n\r\n" % len(body) + body
    for i in range(0, len(data), 7):             # a message arriving in small pieces
        os.write(w, data[i:i + 7])
    os.close(w)
    source = FdInput(r)
    assert read_message(source)["command"] == "initialize"
    assert read_message(source) is None
    os.close(r)
