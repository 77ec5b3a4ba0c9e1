"""Reads behind the v2 job endpoints: the job document the frontend polls, built in few queries."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, QuerySet
from rest_framework.request import Request

from config.tenancy import scope_to_user
from videogen.api.signing import sign_media_url
from videogen.costs import to_cents
from videogen.models import JobStatus, Scene, Variation, VariationStatus, VideoJob


def jobs_for(user: Any) -> QuerySet[VideoJob]:
    return scope_to_user(VideoJob.objects.all(), user)


def job_for_detail(user: Any, job_id: int) -> VideoJob:
    """Raises VideoJob.DoesNotExist for unknown ids and other tenants' jobs alike (404, no leak)."""
    return jobs_for(user).prefetch_related(
        Prefetch("scenes", queryset=Scene.objects.order_by("number")),
        Prefetch("variations", queryset=Variation.objects.order_by("index")),
    ).get(pk=job_id)


def poll_after(job: VideoJob) -> int:
    """PRD 2.3 adaptive polling: 2 s while parsing, 5 s during the storyboard, 10 s during render."""
    if job.status == JobStatus.GENERATING_STORYBOARD:
        return 2 if job.stage in ("queued", "parsing_brief") else 5
    if job.status == JobStatus.GENERATING_VIDEO:
        return 10
    return 30


def _money(value: Any) -> Decimal:
    return to_cents(Decimal(str(value or 0)))


def _url(name: str, request: Request | None, filename: str | None = None) -> str | None:
    return sign_media_url(name, request=request, filename=filename) if name else None


def progress_payload(job: VideoJob) -> dict[str, Any]:
    return {
        "stage": job.stage,
        "percentage": job.percentage,
        "currentScene": job.current_scene,
        "estimatedTimeRemaining": job.estimated_time_remaining,
        "cost": _money(job.actual_cost),
    }


def _cost_breakdown(job: VideoJob) -> dict[str, Decimal]:
    stored = job.cost_breakdown or {}
    return {key: _money(stored.get(key, 0)) for key in ("storyboard", "video", "upscale", "total")}


def _variation_payload(variation: Variation, request: Request | None) -> dict[str, Any]:
    exports = {
        "mp4": _url(variation.video.name, request),
        "gif": _url(variation.gif.name, request),
        "webm": _url(variation.webm.name, request),
    }
    return {
        "index": variation.index,
        "status": variation.status,
        "videoUrl": exports["mp4"],
        "thumbnailUrl": _url(variation.thumbnail.name, request),
        "durationSeconds": variation.duration_seconds,
        "exports": exports,
        "exportErrors": {key: value for key, value in (variation.export_errors or {}).items() if value},
        "error": variation.error,
    }


def _results(job: VideoJob, request: Request | None) -> dict[str, Any]:
    variations = [_variation_payload(v, request) for v in job.variations.all() if v.run == job.run or
                  job.status in (JobStatus.CANCELLED, JobStatus.STALLED)]
    first_ok = next((v for v in variations if v["status"] == VariationStatus.COMPLETED), None)
    return {
        "videoUrl": first_ok["videoUrl"] if first_ok else None,
        "thumbnailUrl": first_ok["thumbnailUrl"] if first_ok else None,
        "variations": variations,
        "exports": first_ok["exports"] if first_ok else {"mp4": None, "gif": None, "webm": None},
    }


def _storyboard(job: VideoJob, request: Request | None) -> list[dict[str, Any]]:
    return [
        {
            "sceneNumber": scene.number,
            "imageUrl": _url(scene.image.name, request),
            "description": scene.description,
            "prompt": scene.prompt,
            "timestamp": scene.start_seconds,
            "duration": scene.duration_seconds,
            "status": scene.status,
            "error": scene.error,
        }
        for scene in job.scenes.all()
    ]


def _job_common(job: VideoJob) -> dict[str, Any]:
    return {
        "job_id": job.pk,
        "status": job.status,
        "videoName": job.video_name,
        "campaignId": job.campaign_id,
        "clientId": job.client_id,
        "platform": job.platform,
        "aspectRatio": job.aspect_ratio,
        "duration": job.duration,
        "numberOfVariations": job.number_of_variations,
        "approved": job.approved,
        "estimatedCost": _money(job.estimated_cost),
        "actualCost": _money(job.actual_cost),
        "progress": progress_payload(job),
        "error": job.error or None,
        "createdAt": job.created_at,
        "updatedAt": job.updated_at,
    }


def job_payload(job: VideoJob, request: Request | None = None) -> dict[str, Any]:
    """The job document of GET /jobs/{job_id}."""
    return {
        **_job_common(job),
        "costBreakdown": _cost_breakdown(job),
        "storyboard": _storyboard(job, request),
        "results": _results(job, request),
        "clarification": job.clarification or None,
        "pollAfter": poll_after(job),
    }


def job_summary(job: VideoJob, request: Request | None = None) -> dict[str, Any]:
    """One row of GET /jobs/."""
    thumbnail = next((v.thumbnail.name for v in job.variations.all() if v.thumbnail), "")
    return {**_job_common(job), "thumbnailUrl": _url(thumbnail, request)}


def etag_for(payload: dict[str, Any]) -> str:
    body = json.dumps(payload, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


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
