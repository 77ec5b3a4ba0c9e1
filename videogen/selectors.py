"""Reads behind the v2 job endpoints: the rows the job document is rendered from, in few queries.

These return model instances and querysets; the api package renders them (videogen.api.serializers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from config.tenancy import scope_to_user
from videogen.models import JobStatus, Scene, Variation, VariationStatus, VideoJob


def jobs_for(user: Any) -> QuerySet[VideoJob]:
    return scope_to_user(VideoJob.objects.all(), user)


def jobs_for_list(user: Any) -> QuerySet[VideoJob]:
    """The caller's jobs with their variations (for each row's thumbnail), newest first."""
    return jobs_for(user).prefetch_related(
        Prefetch("variations", queryset=Variation.objects.order_by("index"))
    ).order_by("-created_at", "-id")


def job_version(user: Any, job_id: int) -> int | None:
    """The job's version if the user may read it (None otherwise): one query, for conditional polls."""
    return jobs_for(user).filter(pk=job_id).values_list("version", flat=True).first()


def job_for_detail(user: Any, job_id: int) -> VideoJob:
    """Raises VideoJob.DoesNotExist for unknown ids and other tenants' jobs alike (404, no leak)."""
    return jobs_for(user).prefetch_related(
        Prefetch("scenes", queryset=Scene.objects.order_by("number")),
        Prefetch("variations", queryset=Variation.objects.order_by("index")),
    ).get(pk=job_id)


def poll_after(job: VideoJob) -> int:
    """Adaptive polling: 2 s while parsing, 5 s during the storyboard, 10 s during render, else 30 s."""
    if job.status == JobStatus.GENERATING_STORYBOARD:
        return 2 if job.stage in ("queued", "parsing_brief") else 5
    if job.status == JobStatus.GENERATING_VIDEO:
        return 10
    return 30


@dataclass(frozen=True)
class JobResults:
    """The variations a job shows, and the first finished one (the job's video, if any)."""

    variations: list[Variation]
    first_completed: Variation | None


def job_results(job: VideoJob) -> JobResults:
    """Variations of the current run (all of them once the job is cancelled or stalled)."""
    shows_all = job.status in (JobStatus.CANCELLED, JobStatus.STALLED)
    variations = [v for v in job.variations.all() if v.run == job.run or shows_all]
    first = next((v for v in variations if v.status == VariationStatus.COMPLETED), None)
    return JobResults(variations=variations, first_completed=first)


def list_thumbnail_name(job: VideoJob) -> str:
    """The job list's thumbnail: the first variation that has one, whatever its run."""
    return next((v.thumbnail.name for v in job.variations.all() if v.thumbnail), "")


def media_for_download(job: VideoJob, *, fmt: str, variation_index: int | None) -> tuple[Variation | None, str]:
    """The stored file for /data: (variation, storage name), name empty if not produced yet."""
    variations = [v for v in job.variations.all() if v.status == VariationStatus.COMPLETED]
    if variation_index is not None:
        variations = [v for v in variations if v.index == variation_index]
    variation = variations[0] if variations else None
    if variation is None:
        return None, ""
    field = {"mp4": variation.video, "gif": variation.gif, "webm": variation.webm}[fmt]
    return variation, field.name or ""


def thumbnail_name(job: VideoJob) -> str:
    for variation in job.variations.all():
        if variation.status == VariationStatus.COMPLETED and variation.thumbnail:
            return variation.thumbnail.name
    first_scene = next((s for s in job.scenes.all() if s.image), None)
    return first_scene.image.name if first_scene else ""


# --- For the logs (registered with config.logging in VideogenConfig.ready) ----------------------


def job_log_labels(job_id: int) -> dict[str, str]:
    """The campaign and client a job's task log lines carry."""
    row = VideoJob.objects.filter(pk=job_id).values_list("campaign_id", "client_id").first()
    return {} if row is None else {"campaign_id": str(row[0]), "client_id": str(row[1])}
