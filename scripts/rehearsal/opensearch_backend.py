"""The OpenSearch engine behind the emulator's domains: a loopback stand-in (LocalStack downloads the real one).

LocalStack's ``OPENSEARCH_CUSTOM_BACKEND`` points every domain at this server. It answers the cluster
health probe green and acknowledges any other request: the rehearsal checks that the domain is
*created* as configured; what the set-up function sends is checked against the stateful stand-in
of the tests (``tests/support/opensearch_stub.py``).

Run: ``python opensearch_backend.py PORT_FILE`` binds 127.0.0.1 on a free port and writes the port.
"""
from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.startswith("/_cluster/health"):
            body = {"cluster_name": "rehearsal", "status": "green", "number_of_nodes": 1}
        elif self.path in ("/", ""):
            body = {"name": "rehearsal", "version": {"distribution": "opensearch", "number": "2.19.0"}}
        else:
            body = {"acknowledged": True}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _answer

    def log_message(self, format: str, *args) -> None:  # quiet: the rehearsal prints its own report
        return


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as port_file:
        port_file.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
