"""Bounded parallelism for provider calls (scenes, clips) inside one task."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.db import connections

T = TypeVar("T")


def _closing(fn: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        try:
            return fn()
        finally:
            # Each pool thread has its own database connection: close it, or they leak.
            connections.close_all()

    return run


def run_parallel(calls: list[Callable[[], T]], *, limit: int | None = None) -> list[T]:
    """Runs `calls` with at most PROVIDER_CONCURRENCY at once (inline when the limit is 1) and
    returns their results in order.

    Exceptions propagate after all calls finish, so one bad scene never orphans the others.
    """
    limit = limit or settings.PROVIDER_CONCURRENCY
    if limit <= 1 or len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(limit, len(calls))) as pool:
        # Each call runs in a copy of the caller's context: log lines keep job_id and request_id.
        futures = [pool.submit(contextvars.copy_context().run, _closing(call)) for call in calls]
    return [future.result() for future in futures]
