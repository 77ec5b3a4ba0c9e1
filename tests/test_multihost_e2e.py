"""Across hosts: the web process and two `qcluster` processes that share only PostgreSQL, Redis and
an S3 bucket (moto's S3 server on 127.0.0.1), each with its own disk.

Every process gets a private VAR_DIR, SCRATCH_DIR, TMPDIR, metrics folder and (unused) local media
folder, as if it ran on its own host. The storyboard is made on host one, whose whole disk is then
wiped; the render runs on host one (restarted empty) and host two together. The job can only
complete if every artefact a step needs comes from the bucket. All media are then downloaded the way
a browser does, through the presigned URLs of the job document, and measured with FFmpeg.

Needs PostgreSQL and Redis (CI's second pass): skipped on the embedded SQLite configuration.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection
from PIL import Image
from rest_framework_simplejwt.tokens import RefreshToken

from tests.workers import QCluster, WebServer, wait_for
from videogen.media.ffmpeg import probe
from videogen.models import JobStatus, VideoJob

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

DURATION = 15
SIZE = (1080, 1080)  # meta, 1:1


@pytest.fixture
def scale_configuration(transactional_db):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        reason = "needs the scale configuration: DATABASE_URL on PostgreSQL and REDIS_URL (CI's second pass)"
        if os.environ.get("REQUIRE_SCALE_TESTS"):
            pytest.fail(f"REQUIRE_SCALE_TESTS is set but this test {reason}")
        pytest.skip(reason)


class Host:
    """One machine's private disk: nothing under `root` is visible to the other processes."""

    def __init__(self, root: Path, bucket):
        self.root = root
        self.bucket = bucket
        self.prepare()

    def prepare(self) -> None:
        for folder in ("var/media", "scratch", "tmp", "metrics"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    def wipe(self) -> None:
        shutil.rmtree(self.root)
        self.prepare()

    def env(self) -> dict[str, str]:
        return {
            **self.bucket.env(),
            "VIDEOGEN_PROVIDER": "local",
            "VAR_DIR": str(self.root / "var"),
            "VIDEO_STORAGE_PATH": str(self.root / "var/media"),
            "SCRATCH_DIR": str(self.root / "scratch"),
            "TMPDIR": str(self.root / "tmp"),
            "PROMETHEUS_MULTIPROC_DIR": str(self.root / "metrics"),
            "Q_WORKERS": "2",
            "Q_LOG_LEVEL": "INFO",  # the test waits for each cluster's "pushing tasks" line
            # With the offline provider a variation's clips, assembly and exports are one task: room
            # for a slow shared CI machine (timeout stays below retry, as django-q2 requires).
            "Q_TIMEOUT": "600",
            "Q_RETRY": "720",
        }

    def files_under(self, folder: str) -> list[Path]:
        return [path for path in (self.root / folder).rglob("*") if path.is_file()]


def job_status(job_id: int, wanted: set[str]) -> str | None:
    status = VideoJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status if status in wanted else None


def download(url: str, target: Path) -> Path:
    response = httpx.get(url, timeout=60)  # no credentials: what an <img> or <video> sends
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    target.write_bytes(response.content)
    return target


def test_a_job_completes_across_hosts_with_every_artefact_in_the_bucket(scale_configuration, tenant, s3_bucket,
                                                                        tmp_path):
    web_host, one, two = (Host(tmp_path / name, s3_bucket) for name in ("web", "one", "two"))
    web = WebServer(tmp_path / "web.log", **web_host.env()).start()
    clusters = [QCluster(tmp_path / "one-storyboard.log", **one.env()).start()]
    api = httpx.Client(base_url=web.base_url, timeout=30, headers={
        "Authorization": f"Bearer {RefreshToken.for_user(tenant.owner).access_token}"})
    try:
        response = api.post("/api/v2/generate", json={
            "campaignId": str(tenant.campaign.id), "clientId": str(tenant.client.id), "videoName": "Across hosts",
            "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
            "duration": DURATION, "platform": "meta", "aspectRatio": "1:1", "numberOfVariations": 2,
            "exportFormats": ["gif", "webm"],
        })
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        reached = wait_for(lambda: job_status(job_id, {"storyboard_complete", "failed", "needs_clarification"}),
                           timeout=240, cluster=clusters[0], what="the storyboard on host one")
        assert reached == JobStatus.STORYBOARD_COMPLETE, VideoJob.objects.get(pk=job_id).error

        # Host one goes away with its disk; the render can only use what is in the bucket.
        clusters[0].stop()
        one.wipe()
        clusters = [QCluster(tmp_path / "one-render.log", **one.env()).start(),
                    QCluster(tmp_path / "two-render.log", **two.env()).start()]
        for cluster in clusters:
            cluster.wait_until_pulling()  # both hosts compete for the two variations' tasks
        assert api.post(f"/api/v2/jobs/{job_id}/render").status_code == 202
        reached = wait_for(lambda: job_status(job_id, {"completed", "partially_completed", "failed"}),
                           timeout=900, cluster=clusters[1], what="the render on hosts one and two")
        assert reached == JobStatus.COMPLETED, VideoJob.objects.get(pk=job_id).error

        document = api.get(f"/api/v2/jobs/{job_id}").json()
        ranged = api.get(f"/api/v2/jobs/{job_id}/data", params={"format": "mp4", "variation": 2},
                         headers={"Range": "bytes=0-1023"})
    finally:
        for cluster in clusters:
            cluster.stop()
        web.stop()
        api.close()

    prefix_2 = f"videos/{job_id}/variation_2"
    expected = {f"storyboards/{job_id}/scene_{n}.png" for n in (1, 2, 3)} | {
        f"{folder}/{name}" for folder in (f"videos/{job_id}", prefix_2)
        for name in ("final.mp4", "final.gif", "final.webm", "thumbnail.jpg")
    } | {f"videos/{job_id}/clips/v{v}_scene_{n}.mp4" for v in (1, 2) for n in (1, 2, 3)}
    assert expected <= set(s3_bucket.keys())

    for scene in document["storyboard"]:
        image = download(scene["imageUrl"], tmp_path / f"scene_{scene['sceneNumber']}.png")
        with Image.open(image) as decoded:
            assert decoded.size == SIZE
    assert [v["status"] for v in document["results"]["variations"]] == ["completed", "completed"]
    for variation in document["results"]["variations"]:
        index = variation["index"]
        first_kb = httpx.get(variation["videoUrl"], headers={"Range": "bytes=0-1023"}, timeout=30)
        assert first_kb.status_code == 206 and len(first_kb.content) == 1024  # <video> seeking
        mp4 = probe(download(variation["videoUrl"], tmp_path / f"v{index}.mp4"))
        assert abs(mp4.duration - DURATION) <= 0.5
        assert (mp4.width, mp4.height) == SIZE
        webm = probe(download(variation["exports"]["webm"], tmp_path / f"v{index}.webm"), count_frames=False)
        assert webm.video_codec == "vp9" and abs(webm.duration - DURATION) <= 0.5
        gif = probe(download(variation["exports"]["gif"], tmp_path / f"v{index}.gif"), count_frames=False)
        assert gif.duration > 1
        thumbnail = download(variation["thumbnailUrl"], tmp_path / f"v{index}.jpg")
        with Image.open(io.BytesIO(thumbnail.read_bytes())) as decoded:
            assert decoded.format == "JPEG"
    assert ranged.status_code == 206  # the web process streams from the bucket too
    assert ranged.content == (tmp_path / "v2.mp4").read_bytes()[:1024]

    for host in (web_host, one, two):
        assert host.files_under("var/media") == [], "media were written to a local disk"
        assert host.files_under("scratch") == [], "scratch copies were left behind"
