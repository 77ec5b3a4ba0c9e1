"""The generation pipeline with the offline provider, driven inline (no broker), outputs measured."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from tests.jobs import generate_body
from videogen.media.ffmpeg import MediaError, probe
from videogen.models import JobEvent, JobStatus, Prediction, SceneStatus, VideoJob
from videogen.pipeline import exports, render, storyboard
from videogen.pipeline.storyboard import run_storyboard_step
from videogen.providers.base import ProviderError
from videogen.providers.local import LocalProvider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.VIDEOGEN_PROVIDER = "local"


def start_job(api, tenant, tasks, **overrides) -> VideoJob:
    response = api.post("/api/v2/generate", generate_body(tenant, **overrides), format="json")
    assert response.status_code == 202, response.json()
    return VideoJob.objects.get(pk=response.json()["job_id"])


def stored_path(name: str) -> Path:
    return Path(default_storage.path(name))


def test_storyboard_fills_scene_by_scene_and_completes_at_fifty_percent(api, tenant, tasks):
    job = start_job(api, tenant, tasks, duration=15)
    tasks.drain()
    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert body["status"] == "storyboard_complete"
    assert body["progress"]["percentage"] == 50
    assert [scene["status"] for scene in body["storyboard"]] == ["completed"] * 3
    assert sum(scene["duration"] for scene in body["storyboard"]) == 15
    for scene in VideoJob.objects.get(pk=job.pk).scenes.all():
        assert stored_path(scene.image.name).stat().st_size > 10_000
        assert scene.image.name == f"storyboards/{job.pk}/scene_{scene.number}.png"


def test_whole_flow_produces_measured_outputs_at_the_platform_size(api, tenant, tasks):
    job = start_job(api, tenant, tasks, duration=15, platform="meta", aspectRatio="1:1",
                    exportFormats=["gif", "webm"])
    tasks.drain()
    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 202
    tasks.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert job.percentage == 100
    variation = job.variations.get()
    mp4 = probe(stored_path(variation.video.name))
    assert abs(mp4.duration - 15) <= 0.5
    assert (mp4.width, mp4.height) == (1080, 1080)
    assert mp4.has_audio
    assert mp4.frame_count == pytest.approx(15 * 24, abs=3)
    assert probe(stored_path(variation.webm.name), count_frames=False).video_codec == "vp9"
    assert stored_path(variation.gif.name).read_bytes()[:6] == b"GIF89a"
    assert stored_path(variation.thumbnail.name).read_bytes()[:3] == b"\xff\xd8\xff"
    assert variation.video.name == f"videos/{job.pk}/final.mp4"


def test_a_thin_prompt_asks_for_clarification_instead_of_guessing(api, tenant, tasks):
    job = start_job(api, tenant, tasks, creativePrompt="sneakers")
    tasks.drain()
    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert body["status"] == "needs_clarification"
    assert len(body["clarification"]["questions"]) >= 2
    assert body["storyboard"] == []


def test_refine_of_one_scene_keeps_the_other_scenes_images(api, tenant, tasks):
    job = start_job(api, tenant, tasks, duration=15)
    tasks.drain()
    before = {s.number: stored_path(s.image.name).read_bytes() for s in job.scenes.all()}
    response = api.post(f"/api/v2/jobs/{job.pk}/refine", {"scenes": [2]}, format="json")
    assert response.status_code == 202
    assert response.json()["approved"] is False
    tasks.drain()
    job.refresh_from_db()
    after = {s.number: stored_path(s.image.name).read_bytes() for s in job.scenes.all()}
    assert job.status == JobStatus.STORYBOARD_COMPLETE
    assert after[1] == before[1] and after[3] == before[3]
    assert after[2] != before[2]


def test_refine_without_scenes_parses_the_new_prompt_again(api, tenant, tasks):
    job = start_job(api, tenant, tasks, duration=15)
    tasks.drain()
    prompt = "Scene 1: a kitchen. Scene 2: a chef plating. Scene 3: a diner smiling. Scene 4: the logo."
    api.post(f"/api/v2/jobs/{job.pk}/refine", {"creativePrompt": prompt}, format="json")
    tasks.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.STORYBOARD_COMPLETE
    assert [s.description for s in job.scenes.all()] == ["A kitchen", "A chef plating", "A diner smiling",
                                                          "The logo"]


def test_cancel_during_the_storyboard_stops_all_further_work(api, tenant, tasks):
    job = start_job(api, tenant, tasks, duration=15)
    assert run_storyboard_step(job.pk, job.run) is False  # parsed, no image yet
    assert api.delete(f"/api/v2/jobs/{job.pk}").json()["status"] == "cancelled"
    tasks.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert not job.scenes.filter(status=SceneStatus.COMPLETED).exists()
    assert Prediction.objects.filter(job=job).count() == 0
    assert JobEvent.objects.filter(job=job).last().to_status == "cancelled"


def test_cancel_during_render_keeps_the_job_cancelled_and_stores_no_video(api, tenant, tasks, monkeypatch):
    job = start_job(api, tenant, tasks, duration=15, platform="meta", aspectRatio="1:1")
    tasks.drain()
    api.post(f"/api/v2/jobs/{job.pk}/render")
    real_assemble = render.assemble

    def user_cancels_while_ffmpeg_runs(*args, **kwargs):
        assert api.delete(f"/api/v2/jobs/{job.pk}").status_code == 200
        real_assemble(*args, **kwargs)

    monkeypatch.setattr(render, "assemble", user_cancels_while_ffmpeg_runs)
    tasks.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert not default_storage.exists(f"videos/{job.pk}/final.mp4")
    assert JobEvent.objects.filter(job=job, kind="status").last().to_status == "cancelled"


def test_a_failed_export_format_is_reported_and_does_not_fail_the_job(api, tenant, tasks, monkeypatch):
    job = start_job(api, tenant, tasks, duration=15, platform="meta", aspectRatio="1:1",
                    exportFormats=["gif", "webm"])
    tasks.drain()
    api.post(f"/api/v2/jobs/{job.pk}/render")
    attempts = []

    def broken_gif(*args, **kwargs):
        attempts.append(1)
        raise MediaError("palettegen exploded")

    monkeypatch.setitem(exports.EXPORTERS, "gif", broken_gif)
    tasks.drain()
    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert body["status"] == "completed"
    assert len(attempts) == 2  # an FFmpeg export is retried once
    assert "gif" in body["results"]["variations"][0]["exportErrors"]
    assert body["results"]["exports"]["gif"] is None
    assert body["results"]["exports"]["webm"]
    assert api.get(f"/api/v2/jobs/{job.pk}/data", {"format": "gif"}).status_code == 409
    assert api.get(f"/api/v2/jobs/{job.pk}/data", {"format": "mp4"}).status_code == 200


class SceneTwoFails(LocalProvider):
    def create_image(self, spec, *, webhook=None):
        if spec.scene_number == 2:
            raise ProviderError("422 Input validation failed", retryable=False, status=422)
        return super().create_image(spec, webhook=webhook)


def test_a_failed_scene_is_marked_and_the_rest_of_the_storyboard_is_kept(api, tenant, tasks, monkeypatch):
    monkeypatch.setattr(storyboard, "get_provider", lambda: SceneTwoFails())
    job = start_job(api, tenant, tasks, duration=15)
    tasks.drain()
    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert body["status"] == "storyboard_complete"
    assert [s["status"] for s in body["storyboard"]] == ["completed", "failed", "completed"]
    assert "Refine" in body["storyboard"][1]["error"]
    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 409
    monkeypatch.setattr(storyboard, "get_provider", lambda: LocalProvider())
    api.post(f"/api/v2/jobs/{job.pk}/refine", {"scenes": [2]}, format="json")
    tasks.drain()
    assert [s.status for s in VideoJob.objects.get(pk=job.pk).scenes.all()] == ["completed"] * 3


class NothingWorks(LocalProvider):
    def create_image(self, spec, *, webhook=None):
        raise ProviderError("402 Insufficient credit", retryable=False, status=402)


def test_a_storyboard_with_no_image_at_all_fails_with_an_actionable_message(api, tenant, tasks, monkeypatch):
    monkeypatch.setattr(storyboard, "get_provider", lambda: NothingWorks())
    job = start_job(api, tenant, tasks, duration=15)
    tasks.drain()
    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert body["status"] == "failed"
    assert "Refine" in body["error"]
    assert "Traceback" not in body["error"]


def test_progress_percentage_never_goes_backwards_within_a_run(api, tenant, tasks):
    job = start_job(api, tenant, tasks, duration=15)
    seen = []
    while not run_storyboard_step(job.pk, job.run):
        seen.append(VideoJob.objects.get(pk=job.pk).percentage)
    seen.append(VideoJob.objects.get(pk=job.pk).percentage)
    assert seen == sorted(seen)
    assert seen[-1] == 50
