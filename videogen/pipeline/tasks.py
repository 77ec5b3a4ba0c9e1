"""django-q2 tasks. Each is a short, resumable step loop that is safe to run twice:

it takes the job's (or variation's) lease, advances until done or its time budget is
spent, then re-enqueues itself. A worker killed mid-step loses nothing: the watchdog
re-enqueues jobs whose lease expired, and recorded predictions are polled, not recreated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from config.logging import bind_job_context
from videogen.models import JobStatus, Variation, VariationStatus, VideoJob
from videogen.pipeline.leases import job_lease, variation_lease
from videogen.pipeline.queue import enqueue
from videogen.pipeline.render import run_variation_step
from videogen.pipeline.storyboard import run_storyboard_step

logger = logging.getLogger(__name__)
BUILD_STORYBOARD = "videogen.pipeline.tasks.build_storyboard"
RENDER_VARIATION = "videogen.pipeline.tasks.render_variation"
CANCEL_PREDICTIONS = "videogen.pipeline.tasks.cancel_predictions"


def _loop(step: Callable[[], bool], *, pause_after_first: bool = True) -> bool:
    """Runs `step` until it reports done or the step budget is spent. True when done.

    `pause_after_first=False` runs the second step at once: a new storyboard's first step
    only parses the brief, and waiting a poll interval before asking for the images is pure
    latency (a resumed task pays one early poll instead).
    """
    deadline = time.monotonic() + settings.STEP_BUDGET_SECONDS
    steps = 0
    while True:
        if step():
            return True
        steps += 1
        if time.monotonic() >= deadline:
            return False
        if pause_after_first or steps > 1:
            time.sleep(settings.PROVIDER_POLL_INTERVAL)


def build_storyboard(job_id: int, run: int, request_id: str = "") -> str:
    with bind_job_context(job_id=job_id, request_id=request_id, task="build_storyboard"):
        with job_lease(job_id) as acquired:
            if not acquired:
                return "busy"
            done = _loop(lambda: run_storyboard_step(job_id, run), pause_after_first=False)
        if not done:
            enqueue(BUILD_STORYBOARD, job_id, run, request_id=request_id)
            return "continued"
        return "done"


def render_variation(job_id: int, index: int, run: int, request_id: str = "") -> str:
    with bind_job_context(job_id=job_id, request_id=request_id, task="render_variation", variation=index):
        variation = Variation.objects.filter(job_id=job_id, index=index, run=run).first()
        if variation is None:
            return "gone"
        with variation_lease(variation.pk, job_id) as acquired:
            if not acquired:
                return "busy"
            done = _loop(lambda: run_variation_step(job_id, index, run))
        if not done:
            enqueue(RENDER_VARIATION, job_id, index, run, request_id=request_id)
            return "continued"
        return "done"


def cancel_predictions(job_id: int, request_id: str = "") -> int:
    from videogen.pipeline.predictions import cancel_in_flight
    from videogen.providers import get_provider

    with bind_job_context(job_id=job_id, request_id=request_id, task="cancel_predictions"):
        job = VideoJob.objects.get(pk=job_id)
        return cancel_in_flight(job, get_provider())


def requeue_expired_jobs() -> int:
    """Watchdog: re-enqueues active work whose lease holder died (SIGKILL, lost Redis task).

    Runs every minute, well before the 15-minute stall rule would mark such a job stalled.
    """
    quiet_since = timezone.now() - timedelta(seconds=settings.WATCHDOG_AFTER_SECONDS)
    now = timezone.now()
    requeued = 0
    stale = VideoJob.objects.filter(status__in=[JobStatus.GENERATING_STORYBOARD, JobStatus.GENERATING_VIDEO],
                                    updated_at__lt=quiet_since)
    for job in stale:
        if job.status == JobStatus.GENERATING_STORYBOARD:
            if job.lease_expires_at is None or job.lease_expires_at < now:
                enqueue(BUILD_STORYBOARD, job.pk, job.run, request_id=job.request_id)
                requeued += 1
            continue
        for variation in Variation.objects.filter(job=job, run=job.run).exclude(
            status__in=[VariationStatus.COMPLETED, VariationStatus.FAILED, VariationStatus.CANCELLED]
        ):
            if variation.lease_expires_at is None or variation.lease_expires_at < now:
                enqueue(RENDER_VARIATION, job.pk, variation.index, job.run, request_id=job.request_id)
                requeued += 1
    if requeued:
        logger.warning("watchdog re-enqueued %s stalled task(s)", requeued)
    return requeued


def requeue_expired_jobs_task() -> int:
    return requeue_expired_jobs()


def cleanup_stalled_jobs_task() -> dict:
    from videogen.pipeline.stalls import cleanup_stalled_jobs

    return cleanup_stalled_jobs()
