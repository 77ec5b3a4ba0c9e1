"""Bounded parallelism for provider calls (scenes, clips) inside one task.

The threads are a pool kept for the life of the process (one per worker process, made after the
fork), not one pool per step: a step with five scenes would otherwise start five threads and
open five database connections, every time it runs. Each pool thread closes its connection after
a call only when it is obsolete (`close_old_connections`), so where connections persist (the
workers: `use_persistent_connections`) a thread keeps one open across steps.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

from django.conf import settings
from django.db import close_old_connections, connections

T = TypeVar("T")
_pool_lock = threading.Lock()
_pool: dict[str, object] = {}  # "executor", "pid", "size"
_in_pool = threading.local()


def _closing(fn: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        _in_pool.active = True
        try:
            return fn()
        finally:
            _in_pool.active = False
            # Each pool thread has its own database connection: closed once obsolete, or it leaks.
            close_old_connections()

    return run


def _executor(size: int) -> ThreadPoolExecutor:
    with _pool_lock:
        executor = _pool.get("executor")
        if executor is None or _pool.get("pid") != os.getpid() or _pool.get("size") != size:
            if executor is not None and _pool.get("pid") == os.getpid():
                executor.shutdown(wait=False)  # PROVIDER_CONCURRENCY changed (tests do)
            executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="step")
            _pool.update(executor=executor, pid=os.getpid(), size=size)
        return executor


def run_parallel(calls: list[Callable[[], T]]) -> list[T]:
    """Runs `calls` with at most PROVIDER_CONCURRENCY at once (inline when that is 1, or when called
    from a pool thread: a nested call must not wait on the threads its caller holds) and returns
    their results in order.

    Exceptions propagate after all calls finish, so one bad scene never orphans the others.
    """
    limit = settings.PROVIDER_CONCURRENCY
    if limit <= 1 or len(calls) <= 1 or getattr(_in_pool, "active", False):
        return [call() for call in calls]
    pool = _executor(limit)
    # Each call runs in a copy of the caller's context: log lines keep job_id and request_id.
    futures = [pool.submit(contextvars.copy_context().run, _closing(call)) for call in calls]
    wait(futures)
    return [future.result() for future in futures]


def use_persistent_connections(max_age: int) -> None:
    """Keeps this process's database connections open up to `max_age` seconds between tasks (checked
    before reuse). For worker processes: a task, and each of its pool threads, then reuses the
    connection instead of opening one (a PostgreSQL connection costs a backend process). Not for the
    ASGI web process, where Django opens connections per request thread."""
    for database in settings.DATABASES.values():
        database["CONN_MAX_AGE"] = max_age
        database["CONN_HEALTH_CHECKS"] = True
    for connection in connections.all(initialized_only=True):
        connection.settings_dict["CONN_MAX_AGE"] = max_age
        connection.settings_dict["CONN_HEALTH_CHECKS"] = True
