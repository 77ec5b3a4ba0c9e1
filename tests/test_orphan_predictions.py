"""Predictions left in `creating` by a worker killed mid-create are resolved by the watchdog (issue 10,
"Also"): marked failed once no live worker owns them, their scene re-created once, nothing booked twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.jobs import generate_body
from videogen.models import CostEntry, JobStatus, Prediction, Scene, VideoJob
from videogen.pipeline.poller import Poller, TickReport, resolve_orphan_creates
from videogen.pipeline.predictions import ORPHAN_ERROR
from videogen.providers.local import LocalProvider

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for SIGKILL inside the provider's create call: nothing after it runs."""


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.VIDEOGEN_PROVIDER = "local"
    settings.PROVIDER_BACKOFF_SCALE = 0.001


def _killed_while_creating_scene_2(api, tenant, tasks, monkeypatch) -> VideoJob:
    real_create = LocalProvider.create_image

    def dies_on_scene_2(self, spec, **kwargs):
        if spec.scene_number == 2:
            raise WorkerKilled()
        return real_create(self, spec, **kwargs)

    monkeypatch.setattr(LocalProvider, "create_image", dies_on_scene_2)
    response = api.post("/api/v2/generate", generate_body(tenant), format="json")
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    with pytest.raises(WorkerKilled):
        tasks.drain()
    monkeypatch.setattr(LocalProvider, "create_image", real_create)
    # What a SIGKILL leaves: the row in `creating` without a provider id, the lease past its expiry (the
    # poller frees it), no wake-up; a couple of minutes pass.
    orphan = Prediction.objects.get(job=job, status=Prediction.Status.CREATING)
    assert orphan.external_id == ""
    Prediction.objects.filter(pk=orphan.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    VideoJob.objects.filter(pk=job.pk).update(
        lease_owner="dead-worker", lease_expires_at=timezone.now() - timedelta(seconds=1), wake_at=None,
        updated_at=timezone.now() - timedelta(minutes=2),
    )
    return job


def test_the_watchdog_fails_an_orphan_create_and_the_scene_is_made_once_more(api, tenant, tasks, monkeypatch):
    job = _killed_while_creating_scene_2(api, tenant, tasks, monkeypatch)
    orphan = Prediction.objects.get(job=job, status=Prediction.Status.CREATING)

    Poller().tick()
    tasks.drain()

    job.refresh_from_db()
    orphan.refresh_from_db()
    assert job.status == JobStatus.STORYBOARD_COMPLETE
    assert (orphan.status, orphan.error) == (Prediction.Status.FAILED, ORPHAN_ERROR)
    attempts = list(Prediction.objects.filter(job=job, scene=orphan.scene).order_by("attempt")
                    .values_list("attempt", "status"))
    assert attempts == [(1, "failed"), (2, "succeeded")]
    assert not CostEntry.objects.filter(prediction=orphan).exists()
    assert Scene.objects.get(pk=orphan.scene_id).image


def test_a_create_still_owned_by_a_live_worker_is_left_alone(api, tenant, tasks, monkeypatch):
    job = _killed_while_creating_scene_2(api, tenant, tasks, monkeypatch)
    VideoJob.objects.filter(pk=job.pk).update(lease_owner="live-worker",
                                              lease_expires_at=timezone.now() + timedelta(minutes=1))
    report = TickReport()

    owners = resolve_orphan_creates(report)

    assert owners == set() and report.orphans == 0
    assert Prediction.objects.filter(job=job, status=Prediction.Status.CREATING).count() == 1


def test_a_recent_create_is_left_alone(api, tenant, tasks, monkeypatch):
    job = _killed_while_creating_scene_2(api, tenant, tasks, monkeypatch)
    Prediction.objects.filter(job=job, status=Prediction.Status.CREATING).update(created_at=timezone.now())

    assert resolve_orphan_creates(TickReport()) == set()
    assert Prediction.objects.filter(job=job, status=Prediction.Status.CREATING).count() == 1


def test_a_create_answered_after_the_watchdog_gave_it_up_is_cancelled_not_revived(api, tenant, tasks, monkeypatch):
    """The worker was only slow: its create answers after the row was failed. The answer must not turn
    the failed row back into an in-flight one (two paid predictions for one scene)."""
    real_create = LocalProvider.create_image
    cancelled: list[str] = []

    def slow_create(self, spec, **kwargs):
        result = real_create(self, spec, **kwargs)
        Prediction.objects.filter(status=Prediction.Status.CREATING).update(
            status=Prediction.Status.FAILED, error=ORPHAN_ERROR)  # the watchdog, meanwhile
        return result

    monkeypatch.setattr(LocalProvider, "create_image", slow_create)
    monkeypatch.setattr(LocalProvider, "cancel", lambda self, external_id: cancelled.append(external_id))
    response = api.post("/api/v2/generate", generate_body(tenant), format="json")
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    tasks.drain(limit=2)

    failed = Prediction.objects.filter(job=job, error=ORPHAN_ERROR)
    assert failed.exists()
    assert set(failed.values_list("status", flat=True)) == {Prediction.Status.FAILED}
    assert len(cancelled) == failed.count()
    assert not CostEntry.objects.filter(prediction__in=failed).exists()
