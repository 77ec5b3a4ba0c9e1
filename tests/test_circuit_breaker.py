"""The provider circuit breaker: 3+ consecutive failures across different jobs open the
circuit; new work answers 503 with Retry-After 300; queued work waits; a half-open probe
that succeeds closes it and work resumes; ops get a CRITICAL log and a metric."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest

from tests.helpers import using_fake_replicate
from tests.jobs import generate_body, storyboard_complete_job
from videogen import metrics
from videogen.models import JobStatus, VideoJob
from videogen.pipeline.storyboard import run_storyboard_step
from videogen.providers import circuit

FLUX = "black-forest-labs/flux-schnell"
FAKE_REPLICATE_LATENCY = 0.1


@pytest.fixture
def fake(fake_server, settings, tasks, clean_caches):
    fake_server.reset()
    with using_fake_replicate(settings, fake_server, REPLICATE_STORYBOARD_MODEL=FLUX, PROVIDER_BACKOFF_SCALE=0.001,
                              POLLER_INTERVAL=0.02):
        yield fake_server


def parsed_job(api, tenant) -> VideoJob:
    response = api.post("/api/v2/generate", generate_body(tenant, duration=15), format="json")
    assert response.status_code == 202, response.json()
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    run_storyboard_step(job.pk, job.run)  # parse the brief into scenes
    return job


def fail_on_jobs(api, tenant, fake, count: int, status=500) -> list[VideoJob]:
    """`count` different jobs each hit provider failures (after the call-level retries)."""
    jobs = [parsed_job(api, tenant) for _ in range(count)]
    fake.always("create", status)
    for job in jobs:
        run_storyboard_step(job.pk, job.run)
    fake.clear_faults()
    return jobs


def later(monkeypatch, seconds: float) -> None:
    real = time.time
    monkeypatch.setattr(circuit, "time", SimpleNamespace(time=lambda: real() + seconds))


def test_three_failures_across_different_jobs_open_it_and_generate_answers_503_retry_after_300(api, tenant, fake):
    fail_on_jobs(api, tenant, fake, 3)

    response = api.post("/api/v2/generate", generate_body(tenant), format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "provider_unavailable"
    assert response["Retry-After"] == "300"


def test_render_answers_503_while_it_is_open(api, tenant, fake):
    job = storyboard_complete_job(tenant)
    fail_on_jobs(api, tenant, fake, 3)

    response = api.post(f"/api/v2/jobs/{job.pk}/render")

    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert VideoJob.objects.get(pk=job.pk).status == JobStatus.STORYBOARD_COMPLETE


def test_failures_within_one_job_do_not_open_it(api, tenant, fake):
    fail_on_jobs(api, tenant, fake, 1)  # three scenes, all failing: still one job

    assert circuit.current_state().state == "closed"
    assert api.post("/api/v2/generate", generate_body(tenant), format="json").status_code == 202


def test_two_failing_jobs_then_a_success_do_not_open_it(api, tenant, fake):
    fail_on_jobs(api, tenant, fake, 2)
    healthy = parsed_job(api, tenant)
    run_storyboard_step(healthy.pk, healthy.run)
    fail_on_jobs(api, tenant, fake, 2)

    assert circuit.current_state().state == "closed"


def test_refused_inputs_do_not_count_as_an_outage(api, tenant, fake):
    fail_on_jobs(api, tenant, fake, 3, status=422)

    assert circuit.current_state().state == "closed"


def test_no_credit_counts_as_an_outage(api, tenant, fake):
    fail_on_jobs(api, tenant, fake, 3, status=402)

    assert circuit.current_state().is_open


def test_opening_alerts_ops_with_a_critical_log_and_a_metric(api, tenant, fake, caplog):
    opened_before = metrics.CIRCUIT_OPENED_TOTAL._value.get()

    with caplog.at_level(logging.CRITICAL, logger="videogen.circuit"):
        fail_on_jobs(api, tenant, fake, 4)

    assert metrics.CIRCUIT_OPENED_TOTAL._value.get() - opened_before == 1
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1 and "circuit opened" in critical[0].getMessage()


def test_queued_work_waits_while_it_is_open(api, tenant, fake):
    waiting = parsed_job(api, tenant)
    fail_on_jobs(api, tenant, fake, 3)
    creates = fake.create_count()

    for _ in range(3):
        assert run_storyboard_step(waiting.pk, waiting.run) is False

    assert fake.create_count() == creates
    waiting.refresh_from_db()
    assert waiting.status == JobStatus.GENERATING_STORYBOARD
    assert set(waiting.scenes.values_list("status", flat=True)) <= {"pending", "generating"}


def test_a_successful_half_open_probe_closes_it_and_queued_work_resumes(api, tenant, fake, tasks, monkeypatch):
    waiting = parsed_job(api, tenant)
    fail_on_jobs(api, tenant, fake, 3)
    later(monkeypatch, 301)
    assert circuit.current_state().state == "half_open"
    tasks.queued.clear()

    from videogen.pipeline.queue import enqueue
    from videogen.pipeline.tasks import BUILD_STORYBOARD

    enqueue(BUILD_STORYBOARD, waiting.pk, waiting.run)
    tasks.drain()

    assert circuit.current_state().state == "closed"
    assert VideoJob.objects.get(pk=waiting.pk).status == JobStatus.STORYBOARD_COMPLETE
    assert api.post("/api/v2/generate", generate_body(tenant), format="json").status_code == 202


def test_only_one_caller_gets_the_half_open_probe(fake, monkeypatch):
    for job in ("job:1", "job:2", "job:3"):
        circuit.record_failure(job)
    later(monkeypatch, 301)

    assert [circuit.allow_call() for _ in range(3)] == [True, False, False]


def test_a_failed_probe_opens_it_again_for_another_300_seconds(api, tenant, fake, monkeypatch):
    waiting = parsed_job(api, tenant)
    fail_on_jobs(api, tenant, fake, 3)
    later(monkeypatch, 301)
    fake.always("create", 503)

    run_storyboard_step(waiting.pk, waiting.run)

    assert circuit.current_state() == circuit.CircuitState("open", 300)
    assert fake.create_count(accepted=True) == 0
