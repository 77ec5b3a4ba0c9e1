"""What the ops team does to jobs from the admin console, beyond what the API offers.

Every status change still goes through the state machine (`pipeline.state.transition`), so
ops can do nothing a worker could not: an illegal move is refused, never forced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.utils import timezone

from config.logging import bind_job_context
from videogen import metrics, services
from videogen.media.ffmpeg import MediaError
from videogen.models import JobEvent, JobStatus, SceneStatus, Variation, VariationStatus, VideoJob
from videogen.pipeline.exports import EXPORTERS, export_error, export_formats
from videogen.pipeline.queue import enqueue_on_commit
from videogen.pipeline.state import ALLOWED_FROM, REFINABLE, bump_version, record_event

logger = logging.getLogger(__name__)

RERUN_EXPORTS_TASK = "videogen.ops.rerun_failed_exports"
EXPORT_FORMATS = tuple(EXPORTERS)  # gif, webm, thumbnail
FINISHED = (JobStatus.COMPLETED, JobStatus.PARTIALLY_COMPLETED)
CAN_MARK_FAILED = ALLOWED_FROM[JobStatus.FAILED]


@dataclass
class BulkOutcome:
    """What a bulk action did: the jobs it changed and, for each other job, why not."""

    verb: str
    done: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def skip(self, job_id: int, reason: str) -> None:
        self.skipped.append((job_id, reason))

    @property
    def message(self) -> str:
        """E.g. "2 cancelled; 1 skipped: job #5 is completed"."""
        text = f"{len(self.done)} {self.verb}"
        if self.skipped:
            reasons = "; ".join(f"job #{job_id} {reason}" for job_id, reason in self.skipped)
            text += f"; {len(self.skipped)} skipped: {reasons}"
        return text


# --- Retry ------------------------------------------------------------------------------------


def retry(job: VideoJob) -> VideoJob:
    """Refine with no changes: regenerates the scenes that have no image, or the whole storyboard.

    Allowed from the same statuses as the API's refine (failed, stalled, cancelled, ...). It spends,
    so refine checks the daily budget and the circuit breaker (SpendRefused, as for the API).
    """
    scenes = list(job.scenes.values_list("number", "status"))
    missing = [number for number, status in scenes if status != SceneStatus.COMPLETED]
    partial = bool(missing) and len(missing) < len(scenes)
    return services.refine(job, changes={}, scenes=missing if partial else None, event_kind=JobEvent.RETRY)


def can_retry(job: VideoJob) -> bool:
    return job.status in REFINABLE


# --- Mark failed --------------------------------------------------------------------------------


def mark_failed(job: VideoJob, *, reason: str, actor: str) -> VideoJob:
    """Stops a generating or stalled job as failed, with `reason` as the error the marketer sees.

    Raises IllegalTransition from any other status (the state machine decides, not ops).
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("A reason is required.")
    job = services.stop_job(
        job, JobStatus.FAILED, variations_become=VariationStatus.FAILED, variation_error=reason,
        scene_error="Stopped before this scene's image was made.",
        error=reason, message=f"marked failed by {actor}: {reason}", event_data={"by": actor, "reason": reason},
    )
    metrics.JOB_FAILURES_TOTAL.labels(reason="ops").inc()
    logger.warning("job %s marked failed by %s: %s", job.pk, actor, reason)
    return job


# --- Re-run failed exports ----------------------------------------------------------------------


def failed_formats(variation: Variation) -> list[str]:
    """Export formats whose last attempt failed (`export_errors` names them with a message)."""
    errors = variation.export_errors or {}
    return [fmt for fmt in EXPORT_FORMATS if errors.get(fmt)]


def variations_with_failed_exports(job: VideoJob) -> list[Variation]:
    """Finished variations of a finished job that are missing a GIF, WebM or thumbnail."""
    if job.status not in FINISHED:
        return []
    variations = Variation.objects.filter(job=job, run=job.run, status=VariationStatus.COMPLETED).exclude(video="")
    return [variation for variation in variations.order_by("index") if failed_formats(variation)]


def queue_export_rerun(job: VideoJob) -> bool:
    """Queues `rerun_failed_exports` for the job if it has anything to re-export."""
    if not variations_with_failed_exports(job):
        return False
    enqueue_on_commit(RERUN_EXPORTS_TASK, job.pk)
    record_event(job.pk, "exports_rerun_queued", "re-export of failed formats queued")
    return True


def rerun_failed_exports(job_id: int, request_id: str = "") -> dict[int, dict[str, str]]:
    """The task: re-exports every failed format of every finished variation from its MP4.

    Returns `{variation index: {format: "ok" | error}}`. Safe to run twice: a format that
    succeeded is no longer named in `export_errors`, so a second run has nothing to do.
    """
    with bind_job_context(job_id=job_id, request_id=request_id, task="rerun_failed_exports"):
        job = VideoJob.objects.filter(pk=job_id).first()
        if job is None:
            return {}
        return {
            variation.index: _reexport(job, variation, failed_formats(variation))
            for variation in variations_with_failed_exports(job)
        }


def _reexport(job: VideoJob, variation: Variation, formats: list[str]) -> dict[str, str]:
    """Same routine as the render stage's exports (pipeline.exports), for the formats that failed."""
    errors = dict(variation.export_errors or {})
    try:
        exported = export_formats(job.pk, variation.index, variation.video.name, formats)
    except MediaError as exc:  # the MP4 itself cannot be read: nothing to export from
        outcome = {fmt: export_error(fmt, exc) for fmt in formats}
        stored, errors = {}, {**errors, **outcome}
    else:
        stored = exported.stored
        errors = {fmt: message for fmt, message in errors.items() if fmt not in stored} | exported.errors
        outcome = {fmt: exported.errors.get(fmt, "ok") for fmt in formats}
    # Only the variation we read is updated: a render or refine started meanwhile replaced it.
    updated = Variation.objects.filter(pk=variation.pk, run=variation.run, status=VariationStatus.COMPLETED).update(
        export_errors=errors, updated_at=timezone.now(), **stored
    )
    if updated:
        bump_version(job.pk)
        failed = sorted(fmt for fmt, result in outcome.items() if result != "ok")
        record_event(
            job.pk, "exports_rerun",
            f"variation {variation.index}: re-exported {', '.join(formats)}"
            + (f"; still failing: {', '.join(failed)}" if failed else ""),
            variation=variation.index, formats=formats, failed=failed,
        )
    return outcome
