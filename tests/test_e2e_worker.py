"""End to end with a real django-q2 worker process: /generate -> storyboard -> /render -> completed,
then the outputs are decoded and measured with FFmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from tests.workers import wait_for
from videogen.media.ffmpeg import probe
from videogen.models import JobStatus, VideoJob

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def status_of(job_id: int, wanted: set[str]) -> str | None:
    status = VideoJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status if status in wanted else None


def test_a_tiktok_job_goes_from_generate_to_completed_in_a_real_worker(qcluster, settings, bearer_client):
    settings.VIDEOGEN_PROVIDER = "local"
    cluster = qcluster()
    user = UserFactory()
    client = ClientFactory()
    MembershipFactory(user=user, client=client)
    campaign = CampaignFactory(client=client)
    api = bearer_client(user)

    response = api.post("/api/v2/generate", {
        "campaignId": str(campaign.id), "clientId": str(client.id), "videoName": "E2E",
        "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
        "duration": 15, "platform": "tiktok", "numberOfVariations": 2, "exportFormats": ["gif", "webm"],
    }, format="json")
    assert response.status_code == 202
    job_id = response.json()["job_id"]

    reached = wait_for(lambda: status_of(job_id, {"storyboard_complete", "failed", "needs_clarification"}),
                       timeout=180, cluster=cluster, what="the storyboard")
    assert reached == JobStatus.STORYBOARD_COMPLETE
    assert api.post(f"/api/v2/jobs/{job_id}/render").status_code == 202
    reached = wait_for(lambda: status_of(job_id, {"completed", "partially_completed", "failed"}),
                       timeout=600, cluster=cluster, what="the render")
    assert reached == JobStatus.COMPLETED, VideoJob.objects.get(pk=job_id).error

    body = api.get(f"/api/v2/jobs/{job_id}").json()
    assert body["progress"]["percentage"] == 100
    variations = body["results"]["variations"]
    assert [v["status"] for v in variations] == ["completed", "completed"]
    job = VideoJob.objects.get(pk=job_id)
    for variation in job.variations.all():
        mp4 = probe(Path(default_storage.path(variation.video.name)))
        assert abs(mp4.duration - 15) <= 0.5
        assert (mp4.width, mp4.height) == (1080, 1920)
        assert mp4.frame_count >= 15 * 24 - 3
        assert probe(Path(default_storage.path(variation.webm.name)), count_frames=False).video_codec == "vp9"
        assert Path(default_storage.path(variation.gif.name)).read_bytes()[:6] == b"GIF89a"
        assert Path(default_storage.path(variation.thumbnail.name)).read_bytes()[:3] == b"\xff\xd8\xff"
    downloaded = b"".join(api.get(f"/api/v2/jobs/{job_id}/data", {"variation": 2}).streaming_content)
    assert downloaded == Path(default_storage.path(job.variations.get(index=2).video.name)).read_bytes()
