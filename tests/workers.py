"""Real django-q2 worker processes for end-to-end tests (not sync mode).

The worker is `manage.py qcluster` in a child process pointed at the test database, the
test's media folder and the same cache/broker, so it sees exactly what the test wrote.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database the test is using right now (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**overrides: str) -> dict[str, str]:
    """The environment of a child process (worker, web server) that sees what the test sees:
    the test settings, the test database, the test's media folder and its scratch folder."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(),
        "VIDEO_STORAGE_PATH": str(settings.MEDIA_ROOT),
        "SCRATCH_DIR": str(settings.SCRATCH_DIR),
        **overrides,
    }


class QCluster:
    def __init__(self, log_path: Path, **env: str):
        self.log_path = log_path
        defaults = {"VIDEOGEN_PROVIDER": settings.VIDEOGEN_PROVIDER, "VIDEOGEN_PLANNER": settings.VIDEOGEN_PLANNER,
                    "Q_POLL": "0.1"}
        self.env = child_env(**{**defaults, **env})
        self.process: subprocess.Popen | None = None

    def start(self) -> QCluster:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole cluster (sentinel and workers): a worker dying mid-task."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Graceful stop: SIGTERM to the cluster's main process only, which then stops its workers
        (signalling the whole group makes qcluster wait out its full shutdown timeout)."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def wait_until_pulling(self, timeout: float = 60) -> None:
        """Blocks until the cluster takes tasks from the broker (started with Q_LOG_LEVEL=INFO)."""
        wait_for(lambda: self.log_path.exists() and "pushing tasks at" in self.log_path.read_text(errors="replace"),
                 timeout=timeout, interval=0.2, cluster=self, what="the cluster's pusher")


def wait_for(predicate, *, timeout: float, interval: float = 0.5, cluster: QCluster | None = None, what: str = ""):
    """Polls `predicate` until it returns something truthy; fails with the worker log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    log = cluster.log() if cluster else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n--- worker log ---\n{log}")


class WebServer:
    """The web process as the Dockerfile runs it (gunicorn with uvicorn workers serving config.asgi),
    on 127.0.0.1, on a port the OS picked.

    The listening socket is opened here and handed to gunicorn (`fd://`), so there is no window in
    which another process could take the port.
    """

    def __init__(self, log_path: Path, **env: str):
        self.log_path = log_path
        self.env = child_env(**env)
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def start(self, *, timeout: float = 60) -> WebServer:
        import socket

        import httpx

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.asgi:application", "--worker-class",
                 "uvicorn_worker.UvicornWorker", "--bind", f"fd://{listener.fileno()}", "--workers", "2",
                 "--timeout", "120", "--graceful-timeout", "10"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(listener.fileno(),),
                start_new_session=True,
            )
        finally:
            listener.close()  # gunicorn holds its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"the web process did not come up\n--- web log ---\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # gunicorn's graceful shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""
