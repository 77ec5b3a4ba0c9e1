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


class QCluster:
    def __init__(self, log_path: Path, **env: str):
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database_url(),
            "VIDEO_STORAGE_PATH": str(settings.MEDIA_ROOT),
            "SCRATCH_DIR": str(settings.SCRATCH_DIR),
            "VIDEOGEN_PROVIDER": settings.VIDEOGEN_PROVIDER,
            "Q_POLL": "0.1",
            **env,
        }
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
