"""An HTTP server on 127.0.0.1 that answers every request 200, then trickles its body a byte at a time.

Each byte comes well within any per-operation socket timeout, so only a bound on the request as a
whole (a deadline checked between reads) ends such a request in time.
"""
from __future__ import annotations

import socket
import threading
import time

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n"
        b"Connection: close\r\n\r\n")


class TrickleServer:
    """``with TrickleServer(interval_s=0.2) as server``: ``server.url``; ``server.requests`` counts requests."""

    def __init__(self, *, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        self._stop = threading.Event()
        self.requests = 0
        self._thread = threading.Thread(target=self._accept, name="trickle-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    body += connection.recv(65536)
                self.requests += 1
                connection.sendall(HEAD)
                while not self._stop.is_set():
                    connection.sendall(b" ")
                    time.sleep(self.interval_s)
            except OSError:  # the client gave up
                return

    def __enter__(self) -> "TrickleServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
