"""django-q2 tasks. Each is a short, resumable step that is safe to run twice.

A task takes the job's (or variation's) lease and runs its step until the step is done or has to
wait on the provider; then it returns and frees the worker. Nothing here sleeps or polls: the
webhook and the poller (pipeline/poller.py) queue the step again when a prediction finishes, and
the poller queues it when a timed wake-up is due (pipeline/wakes.py). A worker killed mid-step
loses nothing: the poller takes back its expired lease and queues the step, and recorded
predictions are waited for, not created again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db.models import Model

from config.logging import bind_job_context
from videogen.models import Variation, VideoJob
from videogen.pipeline import wakes
from videogen.pipeline.leases import job_lease, variation_lease
from videogen.pipeline.render import run_variation_step
from videogen.pipeline.storyboard import run_storyboard_step

logger = logging.getLogger(__name__)
BUILD_STORYBOARD = "videogen.pipeline.tasks.build_storyboard"
RENDER_VARIATION = "videogen.pipeline.tasks.render_variation"
CANCEL_PREDICTIONS = "videogen.pipeline.tasks.cancel_predictions"


def _advance(step: Callable[[], bool], model: type[Model], pk: int) -> bool:
    """Runs `step` while it has something to do now. True when done; False when it waits on the provider.

    The loop goes on after a step that made progress without leaving a reason to wait (the brief was
    parsed: ask for the images at once), or when a wake-up arrived while it ran. STEP_BUDGET_SECONDS
    only guards against a step that never settles: the poller queues it again.
    """
    deadline = time.monotonic() + settings.STEP_BUDGET_SECONDS
    while True:
        if step():
            return True
        if wakes.is_waiting(model, pk):
            return False
        if time.monotonic() >= deadline:
            wakes.request_wake(model, pk)
            return False


def build_storyboard(job_id: int, run: int, request_id: str = "") -> str:
    with bind_job_context(job_id=job_id, request_id=request_id, task="build_storyboard"):
        with job_lease(job_id) as acquired:
            if not acquired:
                # Another worker is on it; it (or the poller, once the lease is free) runs the step again.
                wakes.request_wake(VideoJob, job_id)
                return "busy"
            done = _advance(lambda: run_storyboard_step(job_id, run), VideoJob, job_id)
        return "done" if done else "waiting"


def render_variation(job_id: int, index: int, run: int, request_id: str = "") -> str:
    with bind_job_context(job_id=job_id, request_id=request_id, task="render_variation", variation=index):
        variation = Variation.objects.filter(job_id=job_id, index=index, run=run).first()
        if variation is None:
            return "gone"
        with variation_lease(variation.pk, job_id) as acquired:
            if not acquired:
                wakes.request_wake(Variation, variation.pk)
                return "busy"
            done = _advance(lambda: run_variation_step(job_id, index, run), Variation, variation.pk)
        return "done" if done else "waiting"


def cancel_predictions(job_id: int, request_id: str = "") -> int:
    from videogen.pipeline.predictions import cancel_in_flight
    from videogen.providers import get_provider

    with bind_job_context(job_id=job_id, request_id=request_id, task="cancel_predictions"):
        job = VideoJob.objects.get(pk=job_id)
        return cancel_in_flight(job, get_provider())


def requeue_expired_jobs() -> int:
    """Watchdog pass: frees the leases of workers that died, queues due wake-ups and lost work.

    The poller runs it every tick; the one-minute schedule is a backstop should no poller run.
    Returns how many steps it queued.
    """
    from videogen.pipeline.poller import watchdog_pass

    report = watchdog_pass()
    if report.enqueued:
        logger.warning("watchdog re-enqueued %s stalled task(s)", report.enqueued)
    return report.enqueued


def requeue_expired_jobs_task() -> int:
    """The one-minute schedule: a backstop for the poller. If no poller holds its lease (every qcluster
    main process died, or POLLER_IN_QCLUSTER is off with no `run_poller`), it does one poller pass
    itself, so predictions in flight still finish, at the schedule's pace."""
    from videogen.pipeline.poller import Poller

    poller = Poller()
    if poller.hold_lease():
        logger.warning("no provider poller holds the lease: the watchdog schedule polls once")
        try:
            return poller.tick().enqueued
        finally:
            poller.release_lease()
    return requeue_expired_jobs()


def cleanup_stalled_jobs_task() -> dict:
    from videogen.pipeline.stalls import cleanup_stalled_jobs

    return cleanup_stalled_jobs()
