"""The provider poller and the watchdog, one pass at a time (tasks recorded, run inline), against the fake."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import PredictionFactory
from tests.helpers import using_fake_replicate
from tests.jobs import generate_body
from videogen.models import Prediction, ServiceLease, VideoJob
from videogen.pipeline import tasks as pipeline_tasks
from videogen.pipeline.poller import LEASE_NAME, Poller, usual_run_times

pytestmark = pytest.mark.django_db

FLUX = "black-forest-labs/flux-schnell"
FAKE_REPLICATE_LATENCY = 60.0  # predictions finish when a test says so (fake.finish)


@pytest.fixture
def fake(fake_server, settings, tasks):
    fake_server.reset()
    with using_fake_replicate(settings, fake_server, REPLICATE_STORYBOARD_MODEL=FLUX, PROVIDER_BACKOFF_SCALE=0.2):
        yield fake_server


def started_storyboard(api, tenant, tasks) -> VideoJob:
    """A job whose first task ran: brief parsed, one prediction per scene created, the task returned."""
    job_id = api.post("/api/v2/generate", generate_body(tenant, duration=15), format="json").json()["job_id"]
    (func, args, kwargs), = tasks.queued
    tasks.queued.clear()
    assert pipeline_tasks.build_storyboard(*args, **kwargs) == "waiting"
    return VideoJob.objects.get(pk=job_id)


def finished_at_the_provider(fake, job: VideoJob) -> None:
    ids = list(Prediction.objects.filter(job=job).values_list("external_id", flat=True))
    for external_id in ids:
        fake.finish(external_id)


def test_a_step_creates_its_predictions_and_returns_without_waiting_for_them(api, tenant, tasks, fake):
    job = started_storyboard(api, tenant, tasks)

    assert set(Prediction.objects.filter(job=job).values_list("status", flat=True)) <= {"starting", "processing"}
    assert Prediction.objects.filter(job=job).count() == 3
    assert fake.gets == 0  # the step never polled
    assert tasks.queued == []  # and queued nothing: the poller or the webhook wakes it


def test_a_poll_that_finds_finished_predictions_queues_the_owners_step_once(api, tenant, tasks, fake):
    job = started_storyboard(api, tenant, tasks)
    finished_at_the_provider(fake, job)

    Poller().tick()

    assert set(Prediction.objects.filter(job=job).values_list("status", flat=True)) == {"succeeded"}
    assert tasks.names() == ["build_storyboard"]


def test_a_poll_that_finds_nothing_new_queues_nothing(api, tenant, tasks, fake):
    started_storyboard(api, tenant, tasks)

    Poller().tick()

    assert fake.gets == 3
    assert tasks.queued == []


def test_one_poller_holds_the_lease_and_a_standby_takes_over_once_it_expires(db):
    active, standby = Poller(), Poller()
    assert active.hold_lease()
    assert not standby.hold_lease()

    ServiceLease.objects.filter(name=LEASE_NAME).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert standby.hold_lease()
    assert not active.hold_lease()


def test_the_lease_of_a_worker_that_died_is_taken_back_and_its_step_queued(api, tenant, tasks, fake):
    job = started_storyboard(api, tenant, tasks)
    VideoJob.objects.filter(pk=job.pk).update(lease_owner="host:1:dead", lease_expires_at=timezone.now() - timedelta(1))

    Poller().tick()

    job.refresh_from_db()
    assert (job.lease_owner, job.lease_expires_at) == ("", None)
    assert tasks.names() == ["build_storyboard"]


def test_a_task_that_finds_the_lease_taken_leaves_a_wake_up_queued_once_the_lease_is_free(api, tenant, tasks, fake):
    job = started_storyboard(api, tenant, tasks)
    finished_at_the_provider(fake, job)
    Poller().tick()  # the predictions finished: build_storyboard is queued
    VideoJob.objects.filter(pk=job.pk).update(lease_owner="other", lease_expires_at=timezone.now() + timedelta(60))

    assert pipeline_tasks.build_storyboard(job.pk, job.run) == "busy"
    tasks.queued.clear()
    Poller().tick()
    assert tasks.queued == []  # the other worker still holds it

    VideoJob.objects.filter(pk=job.pk).update(lease_owner="", lease_expires_at=None)
    Poller().tick()
    assert tasks.names() == ["build_storyboard"]
    tasks.drain()
    assert VideoJob.objects.get(pk=job.pk).status == "storyboard_complete"


def test_a_failed_image_is_retried_by_a_timed_wake_up_after_its_backoff(api, tenant, tasks, fake):
    fake.script("create", ["fail"], model=FLUX)  # the first scene's first attempt fails at the provider
    job = started_storyboard(api, tenant, tasks)
    finished_at_the_provider(fake, job)
    Poller().tick()
    tasks.drain(limit=1)  # collects two images; the failed scene waits for its backoff
    assert VideoJob.objects.get(pk=job.pk).wake_at is not None
    assert tasks.queued == []

    time.sleep(1.1)  # the backoff: 5 s x 0.2
    Poller().tick()  # the wake-up is due: the step is queued
    tasks.drain(limit=1)  # and creates the second attempt
    finished_at_the_provider(fake, job)
    Poller().tick()
    tasks.drain()

    assert Prediction.objects.filter(job=job).count() == 4
    assert VideoJob.objects.get(pk=job.pk).status == "storyboard_complete"


def test_with_no_poller_alive_the_watchdog_schedule_polls_once_itself(api, tenant, tasks, fake):
    job = started_storyboard(api, tenant, tasks)
    finished_at_the_provider(fake, job)

    pipeline_tasks.requeue_expired_jobs_task()

    assert set(Prediction.objects.filter(job=job).values_list("status", flat=True)) == {"succeeded"}
    assert tasks.names() == ["build_storyboard"]


def test_with_a_live_poller_the_watchdog_schedule_leaves_the_polling_to_it(api, tenant, tasks, fake):
    started_storyboard(api, tenant, tasks)
    assert Poller().hold_lease()

    pipeline_tasks.requeue_expired_jobs_task()

    assert fake.gets == 0


# --- The poll schedule: a prediction is asked about at a pace set by its model's usual run time ---


def learned_run_time(seconds: float, *, samples: int = 5) -> None:
    """Recent history: `samples` predictions of the model that finished `seconds` after they were made."""
    finished = timezone.now() - timedelta(seconds=5)
    for _ in range(samples):
        prediction = PredictionFactory(model=FLUX, completed_at=finished)
        Prediction.objects.filter(pk=prediction.pk).update(created_at=finished - timedelta(seconds=seconds))


def aged(job: VideoJob, seconds: float) -> None:
    Prediction.objects.filter(job=job).update(created_at=timezone.now() - timedelta(seconds=seconds))


@pytest.fixture
def paced(settings):
    settings.POLLER_INTERVAL = 1.0
    settings.POLLER_SLOW_INTERVAL = 5.0


def test_a_prediction_well_before_its_models_usual_run_time_is_not_asked_about(api, tenant, tasks, fake, paced):
    learned_run_time(60)
    started_storyboard(api, tenant, tasks)

    Poller().tick()

    assert fake.gets == 0


def test_a_young_prediction_is_asked_about_once_per_slow_interval(api, tenant, tasks, fake, paced):
    learned_run_time(60)
    job = started_storyboard(api, tenant, tasks)
    poller = Poller()
    aged(job, 6)  # past POLLER_SLOW_INTERVAL, far from the usual 60 s

    poller.tick()
    poller.tick()

    assert fake.gets == 3  # once each: the second tick comes before the next slow interval


def test_a_prediction_near_its_models_usual_run_time_is_asked_about_every_tick(api, tenant, tasks, fake, paced):
    learned_run_time(60)
    job = started_storyboard(api, tenant, tasks)
    poller = Poller()
    aged(job, 59.5)  # within one POLLER_INTERVAL of the usual run time

    poller.tick()
    poller.tick()

    assert fake.gets == 6


def test_a_finished_prediction_found_on_the_slow_pace_wakes_its_step(api, tenant, tasks, fake, paced):
    learned_run_time(60)
    job = started_storyboard(api, tenant, tasks)
    finished_at_the_provider(fake, job)  # much sooner than usual
    aged(job, 6)

    Poller().tick()

    assert set(Prediction.objects.filter(job=job).values_list("status", flat=True)) == {"succeeded"}
    assert tasks.names() == ["build_storyboard"]


def test_a_model_with_too_little_history_is_asked_about_every_tick(api, tenant, tasks, fake, paced):
    learned_run_time(60, samples=2)
    started_storyboard(api, tenant, tasks)
    poller = Poller()

    poller.tick()
    poller.tick()

    assert fake.gets == 6


def test_the_usual_run_time_is_the_fast_end_of_recent_run_times(db):
    for seconds in (30, 40, 50, 60, 70, 80, 90, 100, 110, 120):
        learned_run_time(seconds, samples=1)

    assert usual_run_times(timezone.now()) == {FLUX: 40.0}
