"""Log context that follows a job from its API call into its tasks (request id, job id)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from config.middleware import current_request_id


@contextmanager
def bind_job_context(*, job_id: int, request_id: str = "", **extra: Any) -> Iterator[None]:
    """Binds job_id/request_id (and extras) to every log line emitted inside the block."""
    token = current_request_id.set(request_id or current_request_id.get())
    with structlog.contextvars.bound_contextvars(job_id=job_id, request_id=request_id, **extra):
        try:
            yield
        finally:
            current_request_id.reset(token)
