"""Builders for jobs: a generate request body, and jobs in a given state with real files in storage
(without running the pipeline)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests import media_files
from tests.factories import SceneFactory, VariationFactory, VideoJobFactory
from videogen.models import JobStatus, SceneStatus, VariationStatus
from videogen.storage import output_name, save_file, storyboard_image_name


def generate_body(tenant, **overrides) -> dict:
    """A valid POST /generate body for the tenant's campaign; `overrides` replace fields."""
    body = {
        "campaignId": str(tenant.campaign.id),
        "clientId": str(tenant.client.id),
        "videoName": "Spring launch",
        "creativePrompt": "Show a runner in the city at dawn, then the shoe close-up, then the crowd cheering",
        "duration": 30,
        "platform": "tiktok",
    }
    return {**body, **overrides}


def storyboard_complete_job(tenant, **fields):
    job = VideoJobFactory(campaign=tenant.campaign, created_by=tenant.owner, status=JobStatus.STORYBOARD_COMPLETE,
                          stage="storyboard_complete", percentage=50, **fields)
    with tempfile.TemporaryDirectory() as tmp:
        for number in (1, 2, 3):
            image = media_files.png(Path(tmp) / f"s{number}.png")
            SceneFactory(job=job, number=number, start_seconds=(number - 1) * 5, duration_seconds=5,
                         status=SceneStatus.COMPLETED, image=save_file(storyboard_image_name(job.pk, number), image))
    return job


def completed_job(tenant, *, formats=("mp4", "gif", "webm"), **fields):
    job = storyboard_complete_job(tenant, **fields)
    job.status, job.stage, job.percentage, job.approved = JobStatus.COMPLETED, "completed", 100, True
    job.save()
    with tempfile.TemporaryDirectory() as tmp:
        video = media_files.mp4(Path(tmp) / "final.mp4", seconds=2)
        files = {"video": save_file(output_name(job.pk, 1, "mp4"), video)}
        if "gif" in formats:
            files["gif"] = save_file(output_name(job.pk, 1, "gif"), video)  # bytes only matter for download tests
        if "webm" in formats:
            files["webm"] = save_file(output_name(job.pk, 1, "webm"), video)
        thumb = media_files.jpeg(Path(tmp) / "thumb.jpg")
        files["thumbnail"] = save_file(output_name(job.pk, 1, "thumbnail"), thumb)
        VariationFactory(job=job, index=1, run=job.run, status=VariationStatus.COMPLETED, percentage=100,
                         duration_seconds=2.0, **files)
    return job
