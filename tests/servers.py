"""A real ASGI server (uvicorn, as deployed) in a child process, on the test database.

The socket is bound here on a free port of 127.0.0.1 and handed to uvicorn (`--fd`), so the port
is known before the server starts and nothing else can take it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from django.conf import settings

from tests.workers import ROOT, child_env


class AsgiServer:
    def __init__(self, log_path: Path, **env: str):
        self.log_path = log_path
        defaults = {"VIDEOGEN_PROVIDER": settings.VIDEOGEN_PROVIDER, "EVENTS_POLL_INTERVAL": "0.2",
                    "THROTTLE_POLL": "10000/min"}
        self.env = child_env(**{**defaults, **env})
        self.process: subprocess.Popen | None = None
        self.socket: socket.socket | None = None
        self.base_url = ""

    def start(self, timeout: float = 30) -> AsgiServer:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(256)
        self.base_url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--fd", str(self.socket.fileno()),
             "--lifespan", "off", "--no-access-log"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, pass_fds=[self.socket.fileno()],
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited\n{self.log()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer within {timeout}s\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.socket is not None:
            self.socket.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""


class Receiver:
    """Records every POST; answers the next status code of `answers` (the last one repeats)."""

    def __init__(self, answers: list[int]):
        self.answers = list(answers)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/videogen"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
