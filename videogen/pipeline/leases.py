"""Leases: at most one worker advances a job's storyboard (or one variation) at a time.

django-q2 may hand a task to a second worker (retry after a crash, watchdog re-enqueue);
the loser of the conditional UPDATE simply returns. A background heartbeat extends the
lease and touches `updated_at` during long steps (FFmpeg), so only truly stuck jobs stall.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Model, Q
from django.utils import timezone

from videogen.models import Variation, VideoJob
from videogen.pipeline.state import ACTIVE

logger = logging.getLogger(__name__)
OWNER_PREFIX = f"{socket.gethostname()}:{os.getpid()}"


def _try_acquire(model: type[Model], pk: int, owner: str) -> bool:
    now = timezone.now()
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now) | Q(lease_owner=owner)
    expires = now + timedelta(seconds=settings.LEASE_SECONDS)
    return bool(model.objects.filter(free, pk=pk).update(lease_owner=owner, lease_expires_at=expires))


def _extend(model: type[Model], pk: int, owner: str, job_id: int) -> None:
    expires = timezone.now() + timedelta(seconds=settings.LEASE_SECONDS)
    model.objects.filter(pk=pk, lease_owner=owner).update(lease_expires_at=expires)
    VideoJob.objects.filter(pk=job_id, status__in=ACTIVE).update(updated_at=timezone.now())


def _release(model: type[Model], pk: int, owner: str) -> None:
    model.objects.filter(pk=pk, lease_owner=owner).update(lease_owner="", lease_expires_at=None)


@contextmanager
def _leased(model: type[Model], pk: int, job_id: int) -> Iterator[bool]:
    owner = f"{OWNER_PREFIX}:{uuid.uuid4().hex[:8]}"
    if not _try_acquire(model, pk, owner):
        yield False
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(max(1.0, settings.LEASE_SECONDS / 4)):
                try:
                    _extend(model, pk, owner, job_id)
                except DatabaseError as exc:  # a blip: the next beat tries again
                    logger.warning("lease heartbeat for %s %s failed: %s", model.__name__, pk, exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"lease-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join(timeout=5)
        _release(model, pk, owner)


def job_lease(job_id: int):
    return _leased(VideoJob, job_id, job_id)


def variation_lease(variation_id: int, job_id: int):
    return _leased(Variation, variation_id, job_id)
