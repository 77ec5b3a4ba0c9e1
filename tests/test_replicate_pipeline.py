"""The pipeline with the Replicate provider against the fake server, tasks driven inline:
prediction-level retries and timeouts, partial results, cancel, the scene cache and the ledger."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from tests.helpers import using_fake_replicate
from tests.jobs import generate_body
from videogen import metrics
from videogen.models import CostEntry, JobStatus, Prediction, SceneStatus, VideoJob
from videogen.pipeline import storyboard
from videogen.pipeline.queue import enqueue
from videogen.pipeline.render import run_variation_step
from videogen.pipeline.tasks import BUILD_STORYBOARD

pytestmark = pytest.mark.django_db

FLUX = "black-forest-labs/flux-schnell"
WAN = "wavespeedai/wan-2.1-i2v-480p"
SCALE = 0.02  # backoff 0.1 / 0.3 / 0.9 s


@pytest.fixture
def fake(fake_server, settings, tasks):
    fake_server.reset()
    with using_fake_replicate(settings, fake_server, REPLICATE_STORYBOARD_MODEL=FLUX, REPLICATE_VIDEO_MODEL=WAN,
                              PROVIDER_BACKOFF_SCALE=SCALE, POLLER_INTERVAL=0.02):
        yield fake_server
    assert fake_server.server_errors == []


def start_job(api, tenant, **overrides) -> VideoJob:
    response = api.post("/api/v2/generate", generate_body(tenant, duration=15, **overrides), format="json")
    assert response.status_code == 202, response.json()
    return VideoJob.objects.get(pk=response.json()["job_id"])


def storyboard_done(api, tenant, tasks, **overrides) -> VideoJob:
    job = start_job(api, tenant, **overrides)
    tasks.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.STORYBOARD_COMPLETE, job.error
    return job


def scene_prompt(job: VideoJob, number: int) -> str:
    return job.scenes.get(number=number).prompt


def attempts(job: VideoJob, number: int) -> list[Prediction]:
    return list(Prediction.objects.filter(job=job, scene__number=number, purpose="storyboard").order_by("attempt"))


# --- Storyboard -----------------------------------------------------------------------------------


def test_a_storyboard_makes_exactly_one_prediction_per_scene(api, tenant, tasks, fake):
    job = storyboard_done(api, tenant, tasks)

    assert fake.create_count(FLUX) == 3
    for scene in job.scenes.all():
        assert fake.create_count(FLUX, {"prompt": scene.prompt}) == 1
        assert scene.status == SceneStatus.COMPLETED and scene.image.name


def test_storyboard_images_are_booked_at_0_003_each(api, tenant, tasks, fake):
    job = storyboard_done(api, tenant, tasks)

    assert job.actual_cost == Decimal("0.009")
    assert sorted(CostEntry.objects.filter(job=job).values_list("amount", flat=True)) == [Decimal("0.003")] * 3
    assert api.get(f"/api/v2/jobs/{job.pk}").json()["actualCost"] == 0.01


def test_a_failing_image_prediction_is_retried_three_times_with_backoff_then_the_scene_fails(
    api, tenant, tasks, fake
):
    fake.script("create", ["fail", "ok", "ok", "fail", "fail", "fail"], model=FLUX)

    job = storyboard_done(api, tenant, tasks)

    tries = attempts(job, 1)
    assert [p.attempt for p in tries] == [1, 2, 3, 4]
    assert fake.create_count(FLUX, {"prompt": scene_prompt(job, 1)}) == 4
    for before, after, wait in zip(tries, tries[1:], (5 * SCALE, 15 * SCALE, 45 * SCALE), strict=False):
        assert (after.created_at - before.completed_at).total_seconds() >= wait
    assert job.scenes.get(number=1).status == SceneStatus.FAILED


def test_a_partial_storyboard_completes_and_refining_the_failed_scene_fixes_it(api, tenant, tasks, fake):
    fake.script("create", ["ok", "fail", "ok", "fail", "fail", "fail"], model=FLUX)
    job = storyboard_done(api, tenant, tasks)
    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert [scene["status"] for scene in body["storyboard"]] == ["completed", "failed", "completed"]
    assert job.actual_cost == Decimal("0.006")  # failed predictions cost nothing

    assert api.post(f"/api/v2/jobs/{job.pk}/refine", {"scenes": [2]}, format="json").status_code == 202
    tasks.drain()

    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert body["status"] == "storyboard_complete"
    assert [scene["status"] for scene in body["storyboard"]] == ["completed"] * 3
    assert fake.create_count(FLUX, {"prompt": scene_prompt(job, 1)}) == 1


def test_a_hung_prediction_times_out_and_is_cancelled_at_the_provider(api, tenant, tasks, fake, settings):
    # 120 s -> 2.4 s: a dozen times the fake's latency, so the retry itself never times out on a
    # loaded machine (at 0.6 s it sometimes did, and the scene failed after three attempts).
    settings.PROVIDER_TIMEOUT_SCALE = 0.02
    fake.script("create", ["hang", "ok", "ok"], model=FLUX)

    job = storyboard_done(api, tenant, tasks)

    hung, retried = attempts(job, 1)
    assert fake.cancels == [hung.external_id]
    assert fake.prediction(hung.external_id)["status"] == "canceled"
    assert "timed out" in hung.error
    assert retried.status == Prediction.Status.SUCCEEDED
    assert job.scenes.get(number=1).status == SceneStatus.COMPLETED


def test_a_refused_input_is_not_retried_and_fails_only_its_scene(api, tenant, tasks, fake):
    fake.script("create", ["ok", 422, "ok"], model=FLUX)

    job = storyboard_done(api, tenant, tasks)

    assert fake.create_count(FLUX, {"prompt": scene_prompt(job, 2)}) == 1
    assert [s.status for s in job.scenes.order_by("number")] == ["completed", "failed", "completed"]


def test_a_repeat_job_with_the_same_scenes_costs_nothing_and_creates_no_prediction(api, tenant, tasks, fake):
    first = storyboard_done(api, tenant, tasks)
    assert fake.create_count() == 3

    repeat = storyboard_done(api, tenant, tasks, videoName="Same brief again")

    assert fake.create_count() == 3
    assert repeat.actual_cost == Decimal("0")
    assert not CostEntry.objects.filter(job=repeat).exists()
    assert Prediction.objects.filter(job=repeat, cache_hit=True).count() == 3
    assert [s.image.name for s in repeat.scenes.all()] != [s.image.name for s in first.scenes.all()]


def test_an_image_collected_twice_is_booked_once(api, tenant, tasks, fake, monkeypatch):
    """A worker that dies between booking a scene and storing it collects it again on resume."""
    real_store = storyboard._store_scene_image
    crashed = []

    def crash_once(job, scene, path):
        if not crashed:
            crashed.append(scene.number)
            raise RuntimeError("worker killed")
        return real_store(job, scene, path)

    monkeypatch.setattr(storyboard, "_store_scene_image", crash_once)
    job = start_job(api, tenant)
    with pytest.raises(RuntimeError):
        tasks.drain()
    enqueue(BUILD_STORYBOARD, job.pk, job.run)  # what the watchdog does for a dead worker
    tasks.drain()

    job.refresh_from_db()
    assert job.status == JobStatus.STORYBOARD_COMPLETE
    assert fake.create_count() == 3
    assert CostEntry.objects.filter(job=job).count() == 3
    assert job.actual_cost == Decimal("0.009")


def test_spend_above_120_percent_of_the_estimate_logs_a_warning(api, tenant, tasks, fake, caplog):
    job = start_job(api, tenant)
    VideoJob.objects.filter(pk=job.pk).update(estimated_cost=Decimal("0.005"))

    with caplog.at_level(logging.WARNING, logger="videogen.costs"):
        tasks.drain()

    overruns = [r.getMessage() for r in caplog.records if "cost_overrun" in r.getMessage()]
    assert overruns and f"job_id={job.pk}" in overruns[0]


# --- Render -------------------------------------------------------------------------------------


def render_body(**overrides):
    return {"platform": "meta", "aspectRatio": "1:1", **overrides}


def test_variation_two_failing_makes_the_job_partially_completed_and_serves_variation_one(
    api, tenant, tasks, fake
):
    job = storyboard_done(api, tenant, tasks, **render_body(numberOfVariations=2))
    # Variation 1's three clips succeed; every clip of variation 2 fails (3 attempts each at most).
    fake.script("create", ["ok"] * 3 + ["fail"] * 9, model=WAN)

    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 202
    tasks.drain()

    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert body["status"] == "partially_completed"
    assert [v["status"] for v in body["results"]["variations"]] == ["completed", "failed"]
    assert body["results"]["videoUrl"]
    assert api.get(f"/api/v2/jobs/{job.pk}/data").status_code == 200
    job.refresh_from_db()
    # Ledger: 3 images + variation 1's three clips at $0.10/s; failed clips cost nothing. The three
    # scenes share 13 s (the end card has the last 2 s) and each clip runs 0.5 s into its crossfade:
    # 104 + 12 frames at 24 fps = 4.8333 s, $0.4833 each.
    assert job.actual_cost == Decimal("0.009") + 3 * Decimal("0.4833")
    video_entries = CostEntry.objects.filter(job=job, kind="video")
    assert sorted(video_entries.values_list("amount", flat=True)) == [Decimal("0.4833")] * 3
    assert {e.prediction.variation.index for e in video_entries} == {1}
    assert metrics.COST_VARIANCE_RATIO._value.get() == pytest.approx(float(job.actual_cost / job.estimated_cost))


def test_cancel_during_render_cancels_in_flight_clips_and_creates_nothing_more(api, tenant, tasks, fake):
    job = storyboard_done(api, tenant, tasks, **render_body())
    fake.latency = 30  # clips stay in flight
    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 202
    tasks.queued.clear()  # the render tasks are driven by hand below
    job.refresh_from_db()
    assert run_variation_step(job.pk, 1, job.run) is False
    in_flight = list(Prediction.objects.filter(job=job, purpose="video").values_list("external_id", flat=True))
    assert len(in_flight) == 3

    assert api.delete(f"/api/v2/jobs/{job.pk}").status_code == 200
    tasks.drain()
    creates = fake.create_count(WAN)
    assert run_variation_step(job.pk, 1, job.run) is True  # a late task finds the job cancelled

    assert sorted(fake.cancels) == sorted(in_flight)
    assert fake.create_count(WAN) == creates == 3
    assert set(Prediction.objects.filter(job=job, purpose="video").values_list("status", flat=True)) == {"canceled"}
    assert VideoJob.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_a_clip_failing_for_good_cancels_the_variations_other_clips(api, tenant, tasks, fake):
    job = storyboard_done(api, tenant, tasks, **render_body())
    # Scene 1's clip fails on every attempt; scenes 2 and 3 hang (they would bill until cancelled).
    fake.script("create", ["fail", "hang", "hang", "fail", "fail"], model=WAN)
    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 202
    tasks.drain()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    hung = Prediction.objects.filter(job=job, purpose="video", scene__number__in=[2, 3])
    assert {p.status for p in hung} == {"canceled"}
    assert set(fake.cancels) >= {p.external_id for p in hung}
    assert fake.create_count(WAN) == 5
