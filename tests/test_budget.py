"""Daily budget: the hard limit refuses new spend on /generate and /render until UTC midnight,
the soft limit raises a gauge and an admin banner, admin overrides beat the environment, running jobs finish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from tests.factories import BudgetSettingsFactory, CostEntryFactory, SceneFactory, VideoJobFactory
from videogen import costs
from videogen.models import JobStatus, SceneStatus

pytestmark = pytest.mark.django_db
SOFT = Decimal("10.00")
HARD = Decimal("15.00")


@pytest.fixture(autouse=True)
def limits(settings):
    settings.DAILY_BUDGET_SOFT = SOFT
    settings.DAILY_BUDGET_HARD = HARD


def spend(amount: str) -> None:
    CostEntryFactory(amount=Decimal(amount))


def generate(api, tenant):
    return api.post("/api/v2/generate", {
        "campaignId": str(tenant.campaign.id), "clientId": str(tenant.client.id), "videoName": "x",
        "creativePrompt": "Show a runner in the city at dawn, then the shoe close-up, then the crowd cheering",
        "duration": 15, "platform": "tiktok",
    }, format="json")


def seconds_to_utc_midnight() -> float:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return (midnight - now).total_seconds()


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def test_generate_at_exactly_the_hard_limit_is_refused_until_utc_midnight(api, tenant, tasks):
    spend("15.00")

    response = generate(api, tenant)

    assert response.status_code == 429
    assert response.json()["code"] == "budget_exceeded"
    assert abs(int(response["Retry-After"]) - seconds_to_utc_midnight()) <= 2
    assert tasks.queued == []


def test_generate_one_cent_below_the_hard_limit_is_accepted(api, tenant, tasks):
    spend("14.99")

    response = generate(api, tenant)

    assert response.status_code == 202


def test_spend_from_yesterday_does_not_count_today(api, tenant, tasks):
    entry = CostEntryFactory(amount=Decimal("100.00"))
    type(entry).objects.filter(pk=entry.pk).update(created_at=entry.created_at - timedelta(days=1))

    assert generate(api, tenant).status_code == 202


def test_render_at_the_hard_limit_is_refused(api, tenant, tasks):
    job = VideoJobFactory(client=tenant.client, campaign=tenant.campaign, created_by=tenant.owner,
                          status=JobStatus.STORYBOARD_COMPLETE)
    SceneFactory(job=job, number=1, status=SceneStatus.COMPLETED, image="storyboards/1/scene_1.png")
    spend("15.00")

    response = api.post(f"/api/v2/jobs/{job.pk}/render")

    assert response.status_code == 429
    assert response.json()["code"] == "budget_exceeded"
    assert "Retry-After" in response
    job.refresh_from_db()
    assert job.status == JobStatus.STORYBOARD_COMPLETE


def test_soft_limit_reached_still_accepts_new_work(api, tenant, tasks):
    spend("10.00")

    assert generate(api, tenant).status_code == 202


def test_soft_limit_reached_shows_a_banner_in_admin_and_sets_the_gauge(admin_client):
    spend("10.00")

    body = admin_client.get("/admin/").content.decode()

    assert 'id="budget-banner"' in body
    assert "Daily soft budget limit reached" in body
    assert gauge("budget_soft_limit_exceeded") == 1
    assert gauge("budget_hard_limit_exceeded") == 0
    assert gauge("daily_spend_dollars") == 10.0


def test_hard_limit_reached_shows_the_hard_banner_on_the_job_list(admin_client):
    spend("15.00")

    body = admin_client.get("/admin/videogen/videojob/").content.decode()

    assert "Daily hard budget limit reached" in body
    assert "jobs already running finish" in body
    assert gauge("budget_hard_limit_exceeded") == 1


def test_no_banner_below_the_soft_limit(admin_client):
    spend("9.99")

    body = admin_client.get("/admin/").content.decode()

    assert 'id="budget-banner"' not in body
    assert gauge("budget_soft_limit_exceeded") == 0


def test_booking_a_cost_that_crosses_the_soft_limit_sets_the_gauge(django_capture_on_commit_callbacks):
    from videogen import metrics

    metrics.BUDGET_SOFT_LIMIT_EXCEEDED.set(0)  # gauges are process-wide: another test may have set it
    job = VideoJobFactory()
    costs.record_cost(job=job, kind="video", amount=Decimal("5.00"))
    assert gauge("budget_soft_limit_exceeded") == 0 or gauge("budget_soft_limit_exceeded") is None

    with django_capture_on_commit_callbacks(execute=True):
        costs.record_cost(job=job, kind="video", amount=Decimal("5.00"))

    assert gauge("budget_soft_limit_exceeded") == 1
    assert gauge("daily_spend_dollars") == 10.0


def test_budget_settings_override_wins_over_the_environment(api, tenant, tasks):
    BudgetSettingsFactory(daily_hard_limit=Decimal("5.00"))
    spend("5.00")

    response = generate(api, tenant)

    assert response.status_code == 429
    assert "$5.00" in response.json()["detail"]


def test_empty_budget_settings_fall_back_to_the_environment(api, tenant, tasks):
    BudgetSettingsFactory(daily_soft_limit=Decimal("1.00"), daily_hard_limit=None)
    spend("14.00")

    assert costs.budget_limits() == (Decimal("1.00"), HARD)
    assert generate(api, tenant).status_code == 202


def test_a_running_job_is_not_stopped_by_the_hard_limit(settings, tasks):
    from videogen.pipeline.tasks import build_storyboard

    settings.VIDEOGEN_PROVIDER = "local"
    job = VideoJobFactory(status=JobStatus.GENERATING_STORYBOARD, aspect_ratio="1:1")
    spend("50.00")
    assert costs.budget_status().hard_exceeded

    assert build_storyboard(job.pk, job.run) == "done"

    job.refresh_from_db()
    assert job.status == JobStatus.STORYBOARD_COMPLETE
    assert "build_storyboard" not in tasks.names()  # finished, not re-queued
    assert job.scenes.filter(status=SceneStatus.COMPLETED).count() == job.scenes.count() >= 3
