"""The job state machine: the only writer of `VideoJob.status`.

Every write is a conditional UPDATE (`WHERE status IN allowed_from`), so two processes
racing (a worker finishing while the user cancels) cannot both win, and a cancelled job
never becomes completed. Progress only moves forward within a run.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.dispatch import Signal
from django.utils import timezone

from videogen.errors import IllegalTransition  # raised here; importable from here as before
from videogen.models import JobEvent, JobStatus, VideoJob

logger = logging.getLogger(__name__)
S = JobStatus

# to_status -> statuses it may be entered from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    S.GENERATING_STORYBOARD: (
        S.NEEDS_CLARIFICATION, S.STORYBOARD_COMPLETE, S.FAILED, S.STALLED, S.PARTIALLY_COMPLETED, S.CANCELLED,
    ),
    S.NEEDS_CLARIFICATION: (S.GENERATING_STORYBOARD,),
    S.STORYBOARD_COMPLETE: (S.GENERATING_STORYBOARD,),
    S.GENERATING_VIDEO: (S.STORYBOARD_COMPLETE,),
    S.COMPLETED: (S.GENERATING_VIDEO,),
    S.PARTIALLY_COMPLETED: (S.GENERATING_VIDEO,),
    S.FAILED: (S.GENERATING_STORYBOARD, S.GENERATING_VIDEO, S.STALLED),
    S.CANCELLED: (
        S.GENERATING_STORYBOARD, S.NEEDS_CLARIFICATION, S.STORYBOARD_COMPLETE, S.GENERATING_VIDEO,
        S.PARTIALLY_COMPLETED, S.FAILED, S.STALLED,
    ),
    S.STALLED: (S.GENERATING_STORYBOARD, S.GENERATING_VIDEO),
}
ACTIVE = (S.GENERATING_STORYBOARD, S.GENERATING_VIDEO)
REFINABLE = ALLOWED_FROM[S.GENERATING_STORYBOARD]
TERMINAL_STAGE = {S.COMPLETED: "completed", S.PARTIALLY_COMPLETED: "completed", S.FAILED: "failed",
                  S.CANCELLED: "cancelled", S.STORYBOARD_COMPLETE: "storyboard_complete"}


# Sent after commit whenever a job's version moved: `job_id`, `version` (at least this one) and
# `status_changed` (True for a status transition). Live streams and callbacks listen to it; the
# sender never waits on them (receivers run robustly, after the write is durable).
job_changed = Signal()

# Sent inside the transition's transaction, the job row still locked: `job_id`, `version` (exactly the
# version of this transition), `from_status`, `to_status`. Receivers record what must be exact and
# must not be lost (videogen.live.snapshots: the document at this status, the callbacks to send); they
# catch their own errors in a savepoint, since a failed receiver must not undo the transition.
status_entered = Signal()


def _announce(job_id: int, *, status_changed: bool) -> None:
    def send() -> None:
        version = VideoJob.objects.filter(pk=job_id).values_list("version", flat=True).first()
        if version is not None:
            job_changed.send_robust(VideoJob, job_id=job_id, version=version, status_changed=status_changed)

    transaction.on_commit(send, robust=True)


def bump_version(job_id: int) -> None:
    """Marks a change a poller could see that is not a status or progress write (a scene landed,
    a variation moved). Call it after the write, in the same transaction when there is one."""
    VideoJob.objects.filter(pk=job_id).update(version=F("version") + 1, changed_at=timezone.now())
    _announce(job_id, status_changed=False)


def can_transition(current: str, to_status: str) -> bool:
    return current in ALLOWED_FROM.get(to_status, ())


def transition(
    job_id: int,
    to_status: str,
    *,
    expected_run: int | None = None,
    new_run: bool = False,
    message: str = "",
    event_data: dict[str, Any] | None = None,
    **fields: Any,
) -> VideoJob:
    """Moves the job to `to_status` if that is legal from where it is now; raises IllegalTransition otherwise.

    `new_run` starts a new run (refine, render): progress restarts and older tasks stop.
    Extra `fields` are written in the same UPDATE.
    """
    updates: dict[str, Any] = {
        "status": to_status, "updated_at": timezone.now(), "version": F("version") + 1,
        "changed_at": timezone.now(), **fields
    }
    if to_status in TERMINAL_STAGE and "stage" not in updates:
        updates["stage"] = TERMINAL_STAGE[to_status]
    if to_status in (S.COMPLETED, S.PARTIALLY_COMPLETED):
        updates.setdefault("percentage", 100)
    if to_status in (S.COMPLETED, S.PARTIALLY_COMPLETED, S.FAILED, S.CANCELLED):
        updates.setdefault("finished_at", timezone.now())
        updates.setdefault("estimated_time_remaining", 0)
        updates.setdefault("lease_owner", "")
    if new_run:
        updates["run"] = F("run") + 1
    with transaction.atomic():
        current = VideoJob.objects.select_for_update().filter(pk=job_id).values_list("status", "run", "version").first()
        if current is None:
            raise VideoJob.DoesNotExist(job_id)
        status, run, version = current
        if not can_transition(status, to_status) or (expected_run is not None and run != expected_run):
            raise IllegalTransition(job_id, to_status, status)
        VideoJob.objects.filter(pk=job_id).update(**updates)
        JobEvent.objects.create(
            job_id=job_id, kind="status", from_status=status, to_status=to_status,
            message=message[:2000], data=event_data or {},
        )
        # The row is locked, so the new version is exactly version + 1.
        status_entered.send_robust(VideoJob, job_id=job_id, version=version + 1, from_status=status,
                                   to_status=to_status)
        _announce(job_id, status_changed=True)
    logger.info("job_status_changed job_id=%s from=%s to=%s", job_id, status, to_status)
    return VideoJob.objects.get(pk=job_id)


def report_progress(
    job_id: int,
    *,
    run: int,
    stage: str | None = None,
    percentage: int | None = None,
    current_scene: int | None = None,
    estimated_time_remaining: int | None = None,
) -> bool:
    """Updates progress of an active job in `run`. Percentage never goes backwards. Doubles as heartbeat.

    The version moves (and `job_changed` is sent) only when a field a client sees changed: a step
    that reports the same progress again only touches `updated_at`, so pollers keep their 304s.
    Returns whether the job is active in `run` (it was touched).
    """
    now = timezone.now()
    updates: dict[str, Any] = {"updated_at": now}
    visible_change = Q()
    if stage is not None:
        updates["stage"] = stage
        visible_change |= ~Q(stage=stage)
    if percentage is not None:
        wanted = max(0, min(100, int(percentage)))
        updates["percentage"] = Greatest(F("percentage"), wanted)
        visible_change |= Q(percentage__lt=wanted)
    if current_scene is not None:
        updates["current_scene"] = current_scene
        visible_change |= ~Q(current_scene=current_scene)
    if estimated_time_remaining is not None:
        updates["estimated_time_remaining"] = max(0, int(estimated_time_remaining))
        visible_change |= ~Q(estimated_time_remaining=updates["estimated_time_remaining"])
    active = VideoJob.objects.filter(pk=job_id, run=run, status__in=ACTIVE)
    if visible_change and active.filter(visible_change).update(**updates, version=F("version") + 1, changed_at=now):
        _announce(job_id, status_changed=False)
        return True
    return bool(active.update(**updates))


def record_event(job_id: int, kind: str, message: str = "", **data: Any) -> None:
    """Timeline entries that are not status changes: provider calls, errors, ops actions."""
    JobEvent.objects.create(job_id=job_id, kind=kind, message=message[:2000], data=data)
