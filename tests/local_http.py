"""A real HTTP server on 127.0.0.1 (free port) for tests of outbound fetches; records what it was asked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[str], tuple[int, dict[str, str], bytes]]


class LocalHTTPServer:
    """`with LocalHTTPServer(routes) as server:` serves `routes(path) -> (status, headers, body)` on
    `server.port` and records each request's path and Host header in `server.requests`."""

    def __init__(self, routes: Route):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                outer.requests.append({"path": self.path, "host": self.headers.get("Host")})
                status, headers, body = routes(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LocalHTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
