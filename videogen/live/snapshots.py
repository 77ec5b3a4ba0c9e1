"""A snapshot of the job document per status change, taken inside the transition's transaction.

Live streams coalesce progress (each event carries the whole document), but a status must never be
skipped: a stream that wakes up after two transitions, or a client that reconnects with an old
`Last-Event-ID`, replays the snapshots in between. Callbacks POST the same document.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

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
