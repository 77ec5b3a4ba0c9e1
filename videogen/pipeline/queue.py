"""Enqueueing django-q2 tasks, always after the surrounding transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from config.middleware import get_request_id

logger = logging.getLogger(__name__)


# Pipeline steps run several times per job (once per wake-up). A successful run is not kept in
# django-q2's result table: the job's own timeline records what it did, and keeping it would cost
# the cluster's monitor an insert and a pruning pass per step. A failed run is always kept.
STEPS = frozenset({"videogen.pipeline.tasks.build_storyboard", "videogen.pipeline.tasks.render_variation"})


def _dispatch(func_path: str, *args: Any, **kwargs: Any) -> None:
    from django_q.tasks import async_task

    options: dict[str, Any] = {"task_name": f"{func_path.rsplit('.', 1)[-1]}:{args}"}
    if func_path in STEPS:
        options["save"] = False
    async_task(func_path, *args, q_options=options, **kwargs)


# Tests may swap the dispatcher (e.g. to drive tasks inline); production code never does.
dispatcher: Callable[..., None] = _dispatch


def enqueue(func_path: str, *args: Any, **kwargs: Any) -> None:
    """Queues `func_path(*args, **kwargs)` now, carrying the request id for log correlation."""
    kwargs.setdefault("request_id", get_request_id())
    dispatcher(func_path, *args, **kwargs)


def enqueue_on_commit(func_path: str, *args: Any, **kwargs: Any) -> None:
    """Queues only once the job's transaction has committed, so a worker never sees a half-written job."""
    kwargs.setdefault("request_id", get_request_id())
    transaction.on_commit(lambda: enqueue(func_path, *args, **kwargs))
