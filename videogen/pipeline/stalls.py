"""Stuck-job rules: untouched `generating_*` jobs for 15 min become `stalled`;
stalled jobs older than an hour become `failed`. Run hourly (schedule) or by hand."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from videogen import metrics
from videogen.models import JobStatus, VideoJob
from videogen.pipeline.state import IllegalTransition, transition

logger = logging.getLogger(__name__)

STALLED_MESSAGE = "This job stopped making progress. Use Refine to try again."
FAILED_MESSAGE = "This job stalled for over an hour and was stopped. Use Refine to start it again."


def stalled_candidates():
    cutoff = timezone.now() - timedelta(minutes=settings.STALL_AFTER_MINUTES)
    return VideoJob.objects.filter(
        status__in=[JobStatus.GENERATING_STORYBOARD, JobStatus.GENERATING_VIDEO], updated_at__lt=cutoff
    )


def expired_stalled():
    cutoff = timezone.now() - timedelta(minutes=settings.STALLED_FAIL_AFTER_MINUTES)
    return VideoJob.objects.filter(status=JobStatus.STALLED, updated_at__lt=cutoff)


def cleanup_stalled_jobs(*, dry_run: bool = False) -> dict:
    """Returns the ids it marked (or would mark): `{"stalled": [...], "failed": [...]}`."""
    stalled_ids = list(stalled_candidates().values_list("pk", flat=True))
    failed_ids = list(expired_stalled().values_list("pk", flat=True))
    if dry_run:
        return {"stalled": stalled_ids, "failed": failed_ids}
    marked_stalled, marked_failed = [], []
    for job_id in stalled_ids:
        try:
            transition(job_id, JobStatus.STALLED, error=STALLED_MESSAGE,
                       message=f"no progress for {settings.STALL_AFTER_MINUTES} minutes")
            marked_stalled.append(job_id)
        except IllegalTransition:
            continue
    for job_id in failed_ids:
        try:
            transition(job_id, JobStatus.FAILED, error=FAILED_MESSAGE, stage="failed",
                       message=f"stalled for over {settings.STALLED_FAIL_AFTER_MINUTES} minutes")
            metrics.JOB_FAILURES_TOTAL.labels(reason="stalled").inc()
            marked_failed.append(job_id)
        except IllegalTransition:
            continue
    if marked_stalled or marked_failed:
        logger.error("stalled jobs: marked %s stalled, %s failed", marked_stalled, marked_failed)
    return {"stalled": marked_stalled, "failed": marked_failed}
