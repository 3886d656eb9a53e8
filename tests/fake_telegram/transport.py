"""The HTTP side of the fake: a ThreadingHTTPServer speaking HTTP/1.1 keep-alive, as httpx expects.

Kept apart from `FakeBotAPI` so that the Bot API logic never sees sockets. The server tracks open
connections so that stopping it closes idle keep-alive ones instead of waiting for the client to.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class Responder(Protocol):
    """What the HTTP layer needs from the API: an answer per request, and a place to report bugs."""

    def answer_http(self, path: str, content_type: str | None, body: bytes) -> tuple[int, bytes, str]: ...

    def report_internal_error(self) -> None: ...


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as httpx expects; bodies by Content-Length or chunked."""

    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024  # headers and body leave in one segment: no Nagle/delayed-ACK 40 ms stalls
    server: HttpServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_POST(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(400, b'{"ok":false,"error_code":400,"description":"Bad Request: unreadable body"}')
            return
        status, payload, content_type = self.server.api.answer_http(
            self.path, self.headers.get("Content-Type"), body
        )
        self._send(status, payload, content_type)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests look at `calls`, not at an access log (which would also show the token)."""

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the client gave up (e.g. its read timeout passed during a "slow" fault)
            self.close_connection = True


class HttpServer(ThreadingHTTPServer):
    """Tracks open connections so that stop() can close idle keep-alive ones instead of waiting."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: Responder) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is normal; anything else is a bug of the fake, kept for the test."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        self.api.report_internal_error()
