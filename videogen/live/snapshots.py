"""A snapshot of the job document per status change, taken inside the transition's transaction.

Live streams coalesce progress (each event carries the whole document), but a status must never be
skipped: a stream that wakes up after two transitions, or a client that reconnects with an old
`Last-Event-ID`, replays the snapshots in between. Callbacks POST the same document.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from videogen.live.documents import document_json, load_job
from videogen.models import JobStatusSnapshot

logger = logging.getLogger(__name__)


def record_status_change(sender: Any, *, job_id: int, version: int, **kwargs: Any) -> None:
    """Receiver of `state.status_entered`, sent by `state.transition` inside its transaction with the
    row still locked: the document shows the new status, whatever other processes do next.

    Runs in a savepoint and never raises: a snapshot that cannot be written must not undo the
    transition (the stream then still sends the current document; the status may be coalesced).
    """
    from videogen import callbacks

    try:
        with transaction.atomic():
            job = load_job(job_id)
            if job is None:
                return
            document = document_json(job)
            JobStatusSnapshot.objects.create(job_id=job_id, version=version, status=job.status, document=document)
            if job.callback_url:
                callbacks.queue_delivery(job, version=version, document=document)
    except Exception:
        logger.exception("status_snapshot_failed job_id=%s version=%s", job_id, version)


def snapshots_between(job_id: int, after: int, before: int) -> list[tuple[int, str, str]]:
    """(version, status, document) of the status changes with after < version < before, oldest first."""
    return list(
        JobStatusSnapshot.objects.filter(job_id=job_id, version__gt=after, version__lt=before)
        .order_by("version").values_list("version", "status", "document")
    )


PRUNE_BATCH = 5000


def prune_snapshots() -> int:
    """Daily schedule: deletes snapshots older than EVENTS_SNAPSHOT_RETENTION_HOURS, in batches (short
    write locks). Replays only ever need the recent ones; callbacks keep their own copy. Returns how
    many it deleted."""
    cutoff = timezone.now() - timedelta(hours=settings.EVENTS_SNAPSHOT_RETENTION_HOURS)
    deleted = 0
    while True:
        batch = list(JobStatusSnapshot.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH])
        if not batch:
            break
        deleted += JobStatusSnapshot.objects.filter(pk__in=batch).delete()[0]
    if deleted:
        logger.info("status_snapshots_pruned count=%s", deleted)
    return deleted
