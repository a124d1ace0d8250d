"""The only socket code in the stub.

:class:`GdbServer` listens on a TCP port (127.0.0.1 by default; IPv4 or
IPv6, as the host address says), serves one gdb at a time and, unless
``once=True``, keeps listening after a client goes away.  Each connection
gets a fresh :class:`~gdbstub.session.Session`.

Ctrl-C needs two threads: while the session is inside ``Target.resume`` the
main thread is busy, so a reader thread keeps decoding incoming bytes.  When
it sees a bare 0x03 (or the client disconnects) it sets a flag that the
resume's ``should_stop`` callback returns, and queues the event so the main
thread handles everything in arrival order.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading

from .framing import Decoder, FrameEvent, Interrupt
from .session import DEFAULT_PACKET_SIZE, Session
from .target import Target

logger = logging.getLogger(__name__)

_ACCEPT_POLL_SECONDS = 0.2
_RECV_SIZE = 65536
MAX_PENDING_EVENTS = 4096
"""Frame events read but not yet handled, beyond which the client is dropped.

gdb waits for each reply (only 0x03 comes unasked), so a backlog this long
while the target runs is a peer flooding the stub, whose queue would otherwise
grow without bound in memory.
"""


class GdbServer:
    """Serve a :class:`Target` to gdb over TCP.

    The socket is bound in the constructor, so with ``port=0`` the chosen
    port is available from :attr:`port` before serving starts.
    """

    def __init__(
        self,
        target: Target,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        once: bool = False,
        packet_size: int = DEFAULT_PACKET_SIZE,
        rle: bool = False,
    ) -> None:
        self._target = target
        self._once = once
        self._packet_size = packet_size
        self._rle = rle
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._conn: socket.socket | None = None
        # The family from the address itself, so that "::1" or "::" binds IPv6.
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        self._listener = socket.create_server((host, port), family=family)
        self._listener.settimeout(_ACCEPT_POLL_SECONDS)
        self._address: tuple[str, int] = self._listener.getsockname()[:2]
        logger.info("gdb stub listening on %s:%d", *self._address)

    @property
    def address(self) -> tuple[str, int]:
        return self._address

    @property
    def port(self) -> int:
        return self._address[1]

    def __enter__(self) -> GdbServer:  # noqa: PYI034 - typing.Self needs 3.11
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def serve_forever(self) -> None:
        """Serve clients one after another until :meth:`shutdown` (or one client if ``once``)."""
        try:
            while not self._stopping.is_set():
                served = self.serve_one()
                if served and self._once:
                    break
        finally:
            if self._once:
                self._close_listener()

    def serve_one(self) -> bool:
        """Wait for one client and serve it until it leaves; False if shut down first."""
        while not self._stopping.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    break
                raise
            with self._lock:
                if self._stopping.is_set():
                    conn.close()
                    break
                self._conn = conn
            try:
                self._serve_connection(conn, peer)
            finally:
                with self._lock:
                    self._conn = None
            return True
        return False

    def shutdown(self) -> None:
        """Stop serving: interrupt a running resume, drop the client, close the port."""
        self._stopping.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._close_listener()

    def _close_listener(self) -> None:
        try:
            self._listener.close()
        except OSError:  # pragma: no cover
            pass

    # --- one connection ---------------------------------------------------------

    def _serve_connection(self, conn: socket.socket, peer: object) -> None:
        logger.info("gdb connected from %s", peer)
        conn.settimeout(None)
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # pragma: no cover - not a TCP socket
            pass
        interrupt = threading.Event()
        flooded = threading.Event()             # the reader gave up on a flooding peer
        events: queue.Queue[FrameEvent | None] = queue.Queue()

        def should_stop() -> bool:
            return interrupt.is_set() or self._stopping.is_set()

        session = Session(
            self._target, should_stop=should_stop, packet_size=self._packet_size, rle=self._rle
        )
        reader = threading.Thread(
            target=self._read_loop,
            args=(conn, Decoder(self._packet_size), events, interrupt, flooded),
            name="gdbstub-reader",
            daemon=True,
        )
        reader.start()
        try:
            while True:
                event = events.get()
                if event is None or flooded.is_set():
                    break
                if isinstance(event, Interrupt):
                    # Any resume this 0x03 was meant for has already returned.
                    interrupt.clear()
                out = session.handle_event(event)
                if out:
                    conn.sendall(out)
                if session.closed:
                    break
        except OSError as exc:
            logger.info("connection lost: %s", exc)
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
            reader.join(timeout=2.0)
            logger.info("gdb disconnected from %s", peer)

    @staticmethod
    def _read_loop(
        conn: socket.socket,
        decoder: Decoder,
        events: queue.Queue[FrameEvent | None],
        interrupt: threading.Event,
        flooded: threading.Event,
    ) -> None:
        while True:
            try:
                data = conn.recv(_RECV_SIZE)
            except OSError:
                data = b""
            if not data:
                interrupt.set()  # a client that vanished mid-resume stops the resume
                events.put(None)
                return
            for event in decoder.feed(data):
                if isinstance(event, Interrupt):
                    interrupt.set()
                events.put(event)
            if events.qsize() > MAX_PENDING_EVENTS:
                logger.warning("more than %d packets waiting unanswered: dropping the connection",
                               MAX_PENDING_EVENTS)
                flooded.set()
                interrupt.set()
                events.put(None)
                return
