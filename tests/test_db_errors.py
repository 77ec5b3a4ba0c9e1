"""Database errors: the API answers a clean 500 envelope and leaves nothing half-written; a worker's
database blip loses no job (the watchdog re-enqueues it and it finishes once the database is back)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from videogen.models import IdempotencyRecord, JobStatus, Prediction, Scene, VideoJob
from videogen.pipeline import storyboard
from videogen.pipeline import tasks as task_module
from videogen.pipeline.tasks import requeue_expired_jobs

SERVER_ERROR = {"code": "server_error", "detail": "Something went wrong on our side. Please try again."}


def generate_body(tenant) -> dict:
    return {
        "campaignId": str(tenant.campaign.id), "clientId": str(tenant.client.id), "videoName": "Blip",
        "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
        "duration": 15, "platform": "meta", "aspectRatio": "1:1",
    }


def failing(exc: Exception):
    def fail(*args, **kwargs):
        raise exc

    return fail


@pytest.fixture
def quiet_client(tenant, bearer_client) -> APIClient:
    client = bearer_client(tenant.owner)
    client.raise_request_exception = False
    return client


# --- the API ----------------------------------------------------------------------------------------------


def test_database_error_while_creating_the_job_is_a_clean_500_with_no_job_and_no_task(
    quiet_client, tenant, tasks, monkeypatch, caplog
):
    monkeypatch.setattr(VideoJob.objects, "create", failing(OperationalError("could not connect to server")))

    with caplog.at_level(logging.ERROR):
        response = quiet_client.post("/api/v2/generate", generate_body(tenant), format="json")

    assert response.status_code == 500
    assert response.json() == SERVER_ERROR
    assert b"Traceback" not in response.content and b"OperationalError" not in response.content
    assert VideoJob.objects.count() == 0
    assert tasks.queued == []
    assert any(record.levelno == logging.ERROR and record.exc_info for record in caplog.records)


def test_database_error_on_the_idempotency_record_rolls_the_job_back(quiet_client, tenant, tasks, monkeypatch):
    monkeypatch.setattr(IdempotencyRecord.objects, "create", failing(OperationalError("disk I/O error")))

    response = quiet_client.post("/api/v2/generate", generate_body(tenant), format="json",
                                 HTTP_IDEMPOTENCY_KEY="key-1")

    assert response.status_code == 500
    assert response.json() == SERVER_ERROR
    assert VideoJob.objects.count() == 0  # the job row went with the failed transaction
    assert IdempotencyRecord.objects.count() == 0
    assert tasks.queued == []


def test_after_the_blip_the_same_idempotency_key_creates_the_job_once(quiet_client, tenant, tasks, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(IdempotencyRecord.objects, "create", failing(OperationalError("database is locked")))
        assert quiet_client.post("/api/v2/generate", generate_body(tenant), format="json",
                                 HTTP_IDEMPOTENCY_KEY="key-2").status_code == 500

    first = quiet_client.post("/api/v2/generate", generate_body(tenant), format="json", HTTP_IDEMPOTENCY_KEY="key-2")
    again = quiet_client.post("/api/v2/generate", generate_body(tenant), format="json", HTTP_IDEMPOTENCY_KEY="key-2")

    assert first.status_code == again.status_code == 202
    assert first.json()["job_id"] == again.json()["job_id"]
    assert VideoJob.objects.count() == 1
    assert tasks.names() == ["build_storyboard"]


def test_database_error_while_reading_a_job_is_a_clean_500(quiet_client, tenant, monkeypatch):
    from videogen import selectors

    monkeypatch.setattr(selectors, "job_for_detail", failing(OperationalError("server closed the connection")))

    response = quiet_client.get("/api/v2/jobs/1")

    assert response.status_code == 500
    assert response.json() == SERVER_ERROR


def test_database_error_outside_drf_is_a_json_500_too(db, monkeypatch):
    from videogen import observability

    monkeypatch.setattr(observability, "build_registry", failing(OperationalError("gone")))
    client = APIClient()
    client.raise_request_exception = False

    response = client.get("/metrics")  # a plain Django view: Django's handler500

    assert response.status_code == 500
    assert response.json() == SERVER_ERROR


# --- a worker -----------------------------------------------------------------------------------------------


@pytest.fixture
def local_provider(settings):
    settings.VIDEOGEN_PROVIDER = "local"


def _as_if_quiet_for(job_id: int, seconds: int) -> None:
    """What the watchdog sees once the failed task is long gone: no heartbeat, no lease."""
    VideoJob.objects.filter(pk=job_id).update(updated_at=timezone.now() - timedelta(seconds=seconds),
                                              lease_owner="", lease_expires_at=None)


def test_a_database_blip_in_a_storyboard_step_loses_no_job(api, tenant, tasks, local_provider, monkeypatch, settings):
    real_step = task_module.run_storyboard_step
    calls = {"n": 0}

    def blip_once(job_id: int, run: int) -> bool:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_step(job_id, run)

    monkeypatch.setattr(task_module, "run_storyboard_step", blip_once)
    job_id = api.post("/api/v2/generate", generate_body(tenant), format="json").json()["job_id"]

    with pytest.raises(OperationalError):  # django-q2 records the task as failed (ack_failures)
        tasks.drain()

    job = VideoJob.objects.get(pk=job_id)
    assert job.status == JobStatus.GENERATING_STORYBOARD  # not failed, not lost
    assert job.lease_expires_at is None  # the lease was let go on the way out
    assert tasks.queued == []

    _as_if_quiet_for(job_id, settings.WATCHDOG_AFTER_SECONDS + 1)
    assert requeue_expired_jobs() == 1
    tasks.drain()

    assert VideoJob.objects.get(pk=job_id).status == JobStatus.STORYBOARD_COMPLETE


def test_a_blip_between_scenes_keeps_the_finished_scenes_and_pays_for_none_twice(
    api, tenant, tasks, local_provider, monkeypatch, settings
):
    real_advance = storyboard._advance_scene
    calls = {"n": 0}

    def blip_on_second_scene(job, scene, provider):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("could not serialize access")
        return real_advance(job, scene, provider)

    monkeypatch.setattr(storyboard, "_advance_scene", blip_on_second_scene)
    job_id = api.post("/api/v2/generate", generate_body(tenant), format="json").json()["job_id"]

    with pytest.raises(OperationalError):
        tasks.drain()
    done_before = set(Scene.objects.filter(job_id=job_id, status="completed").values_list("number", flat=True))
    assert done_before  # the first scene landed before the blip

    _as_if_quiet_for(job_id, settings.WATCHDOG_AFTER_SECONDS + 1)
    assert requeue_expired_jobs() == 1
    tasks.drain()

    job = VideoJob.objects.get(pk=job_id)
    assert job.status == JobStatus.STORYBOARD_COMPLETE
    scenes = Scene.objects.filter(job_id=job_id)
    assert all(scene.status == "completed" for scene in scenes)
    paid = Prediction.objects.filter(job_id=job_id, purpose="storyboard", status="succeeded", cache_hit=False)
    assert paid.count() == scenes.count()  # one paid image per scene: the finished one was not redone


def test_the_watchdog_leaves_a_job_alone_while_its_heartbeat_is_fresh(api, tenant, tasks, local_provider):
    api.post("/api/v2/generate", generate_body(tenant), format="json")
    tasks.queued.clear()  # the task was lost (e.g. Redis broker restarted) but the job was just touched

    assert requeue_expired_jobs() == 0
