"""Settings for the test suite: production settings plus what parallel test processes need apart.

pytest (pyproject.toml) and the qcluster workers the end-to-end tests start (tests/workers.py)
both use this module; each pytest-xdist worker gets its own metrics directory, test database
file, cache key prefix and task queue, and the worker processes it starts inherit them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Before config.settings: prometheus_client picks its multiprocess directory when first imported.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_OWNER = _WORKER or "main"
if os.environ.get("VIDEOGEN_PROMETHEUS_TEST_OWNER") != _OWNER or not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # A fresh directory per test process (a developer's exported one is not reused); the worker
    # processes its tests start inherit the variables and so share it.
    _metrics_dir = tempfile.mkdtemp(prefix=f"videogen-prometheus-{_OWNER}-")
    atexit.register(shutil.rmtree, _metrics_dir, True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
    os.environ["VIDEOGEN_PROMETHEUS_TEST_OWNER"] = _OWNER

from config.settings import *  # noqa: E402,F403
from config.settings import CACHES, DATABASES, EVENTS_CHANNEL, Q_CLUSTER, VAR_DIR  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not SQLite's in-memory test database: the qcluster worker processes open it too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

# Parallel test processes share one Redis and one broker: keep their keys and task queues apart.
for _cache in {id(cache): cache for cache in CACHES.values() if "KEY_PREFIX" in cache}.values():
    _cache["KEY_PREFIX"] += _WORKER
Q_CLUSTER["name"] += _WORKER
EVENTS_CHANNEL += _WORKER

# Password hashing is deliberately slow; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
