"""/metrics: the documented metrics (docs/operations.md) under their exact names, merged across
processes (web + qcluster workers), and the gauges read from the database at scrape time."""

from __future__ import annotations

import math
import os
from decimal import Decimal

import pytest
from django.test import Client as DjangoClient
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory, VideoJobFactory
from tests.workers import wait_for
from videogen.models import CostEntry, JobStatus, Prediction, VideoJob
from videogen.observability import DOCUMENTED_METRICS


def scrape() -> dict[str, float]:
    """`/metrics` as the web answers it: {'name{label="v",...}': value}."""
    response = DjangoClient().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def exposition() -> str:
    return DjangoClient().get("/metrics").content.decode()


# --- names and database gauges (this process) -------------------------------------------------------


@pytest.mark.django_db
def test_every_prd_metric_is_exposed_under_its_exact_name():
    page = exposition()
    types = {line.split()[2]: line.split()[3] for line in page.splitlines() if line.startswith("# TYPE ")}

    for name in DOCUMENTED_METRICS:
        assert name in types, f"{name} missing from /metrics"
    assert "_total_total" not in page
    assert types["video_gen_requests_total"] == types["poll_requests_total"] == "counter"
    assert types["storyboard_gen_duration_seconds"] == "histogram"
    assert types["job_status_gauge"] == types["cache_hit_rate"] == types["cost_variance_ratio"] == "gauge"
    assert "video_gen_requests_total{outcome=\"accepted\"}" in page
    assert "\ncost_actual_dollars{" in page  # the documented name, not cost_actual_dollars_total


@pytest.mark.django_db
def test_job_status_gauge_counts_jobs_by_status_from_the_database():
    VideoJobFactory.create_batch(2, status=JobStatus.STORYBOARD_COMPLETE)
    VideoJobFactory(status=JobStatus.FAILED)

    samples = scrape()

    assert samples['job_status_gauge{status="storyboard_complete"}'] == 2
    assert samples['job_status_gauge{status="failed"}'] == 1
    assert samples['job_status_gauge{status="completed"}'] == 0  # every status present


@pytest.mark.django_db
def test_cost_actual_dollars_is_the_ledger_total_by_kind():
    job = VideoJobFactory()
    for kind, amount in ((CostEntry.Kind.STORYBOARD, "0.003"), (CostEntry.Kind.STORYBOARD, "0.003"),
                         (CostEntry.Kind.VIDEO, "1.50")):
        CostEntry.objects.create(job=job, client=job.client, campaign=job.campaign, kind=kind, amount=Decimal(amount))

    samples = scrape()

    assert samples['cost_actual_dollars{kind="storyboard"}'] == pytest.approx(0.006)
    assert samples['cost_actual_dollars{kind="video"}'] == pytest.approx(1.5)
    assert samples['cost_actual_dollars{kind="upscale"}'] == 0


@pytest.mark.django_db
def test_cache_hit_rate_is_hits_over_scene_image_lookups():
    assert math.isnan(scrape()["cache_hit_rate"])  # no lookups yet: undefined, not 0
    job = VideoJobFactory()
    for cache_hit, attempt in ((True, 1), (False, 1), (False, 2), (True, 1), (True, 1)):
        Prediction.objects.create(job=job, purpose=Prediction.Purpose.STORYBOARD, provider="local", model="m",
                                  input_hash="h", attempt=attempt, cache_hit=cache_hit)

    assert scrape()["cache_hit_rate"] == pytest.approx(3 / 4)  # a retry of a miss is not a new lookup


@pytest.mark.django_db(transaction=True)
def test_task_queue_depth_counts_tasks_waiting_in_the_broker():
    from django_q.brokers import get_broker
    from django_q.tasks import async_task

    get_broker().purge_queue()
    before = scrape()["task_queue_depth"]
    async_task("math.floor", 1.5)
    async_task("math.floor", 2.5)

    assert scrape()["task_queue_depth"] == before + 2
    get_broker().purge_queue()


@pytest.mark.django_db
def test_poll_requests_are_counted(api, tenant):
    job = VideoJobFactory(campaign=tenant.campaign)
    before = scrape()["poll_requests_total"]

    api.get(f"/api/v2/jobs/{job.pk}")
    api.get(f"/api/v2/jobs/{job.pk}")

    assert scrape()["poll_requests_total"] == before + 2


def test_metrics_are_multiprocess_and_per_test_process(settings):
    """Tests write into their own temporary directory, never the host's var/prometheus."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    assert folder == str(settings.PROMETHEUS_MULTIPROC_DIR)
    assert os.path.realpath(folder) != os.path.realpath(settings.VAR_DIR / "prometheus")
    assert any(name.endswith(f"_{os.getpid()}.db") for name in os.listdir(folder))


# --- across processes: a real qcluster worker ---------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.xdist_group("e2e")
def test_metrics_recorded_in_a_worker_reach_the_webs_metrics(qcluster, settings, bearer_client):
    settings.VIDEOGEN_PROVIDER = "local"
    user, client = UserFactory(), ClientFactory()
    MembershipFactory(user=user, client=client)
    campaign = CampaignFactory(client=client)
    before = scrape()
    cluster = qcluster()

    response = bearer_client(user).post("/api/v2/generate", {
        "campaignId": str(campaign.id), "clientId": str(client.id), "videoName": "Metrics",
        "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
        "duration": 15, "platform": "meta", "aspectRatio": "1:1", "numberOfVariations": 1,
    }, format="json")
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    wait_for(lambda: VideoJob.objects.filter(pk=job_id, status=JobStatus.STORYBOARD_COMPLETE).exists(),
             timeout=180, cluster=cluster, what="the storyboard")

    # The histogram is observed right after the status change: give the worker that instant.
    key = "storyboard_gen_duration_seconds_count"
    after = wait_for(lambda: (s := scrape())[key] > before[key] and s, timeout=30, cluster=cluster,
                     what="the worker's storyboard histogram on /metrics")

    assert after[key] >= before[key] + 1
    assert after['job_status_gauge{status="storyboard_complete"}'] >= 1
    scenes = Prediction.objects.filter(job_id=job_id, purpose=Prediction.Purpose.STORYBOARD).count()
    latency = 'replicate_api_latency_seconds_count{purpose="storyboard"}'
    assert after[latency] >= before[latency] + scenes  # one observation per scene image, all in the worker
    accepted = 'video_gen_requests_total{outcome="accepted"}'
    assert after[accepted] == before[accepted] + 1  # counted by the web side (this process)
    worker_files = [name for name in os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
                    if not name.endswith(f"_{os.getpid()}.db")]
    assert worker_files, "no metric files from the worker processes"
