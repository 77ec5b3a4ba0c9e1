"""Publishes every `job_changed` (sent after commit, in whichever process made the change) to the
serving processes' listeners: Redis pub/sub, or PostgreSQL NOTIFY. On the embedded SQLite default
nothing is published; the serving processes check versions instead (see `hub`).

Connected in `VideogenConfig.ready()`, so web, qcluster and management commands all publish.
Publishing never blocks a worker for long (1 s socket timeouts) and never raises into it.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

# PostgreSQL NOTIFY channels are per database, so one fixed name is enough (tests use their own database).
PG_CHANNEL = "videogen_job_changed"

_redis_client: Any = None
_redis_lock = threading.Lock()


def _redis() -> Any:
    global _redis_client
    with _redis_lock:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        return _redis_client


def message(job_id: int, version: int, status_changed: bool) -> str:
    return json.dumps({"j": job_id, "v": version, "s": bool(status_changed)}, separators=(",", ":"))


def parse_message(raw: str | bytes) -> tuple[int, int] | None:
    try:
        data = json.loads(raw)
        return int(data["j"]), int(data["v"])
    except (ValueError, TypeError, KeyError):
        return None


def publish_job_changed(sender: Any, *, job_id: int, version: int, status_changed: bool = False, **kwargs: Any) -> None:
    backend = settings.EVENTS_BACKEND
    payload = message(job_id, version, status_changed)
    try:
        if backend == "redis":
            _redis().publish(settings.EVENTS_CHANNEL, payload)
        elif backend == "postgres":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [PG_CHANNEL, payload])
    except Exception:
        # The streams' periodic version check picks the change up; the writer carries on.
        logger.warning("job_changed_publish_failed job_id=%s version=%s backend=%s", job_id, version, backend,
                       exc_info=True)
