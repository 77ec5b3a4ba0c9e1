"""Liveness and readiness probes (JSON)."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    for alias in {"default", settings.SHARED_CACHE_ALIAS}:
        cache = caches[alias]
        key = f"readyz:{uuid.uuid4().hex}"
        cache.set(key, "1", 5)
        if cache.get(key) != "1":
            raise RuntimeError(f"cache {alias} did not return what was stored")
        cache.delete(key)


def _check_broker() -> None:
    from django_q.brokers import get_broker

    broker = get_broker()
    if not broker.ping():
        raise RuntimeError("task broker did not answer")


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
    results: dict[str, dict[str, object]] = {}
    for name, check in checks.items():
        started = time.monotonic()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by name
            results[name] = {"ok": False, "error": exc.__class__.__name__}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    ready = all(result["ok"] for result in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
