"""GET /api/v2/analytics against a hand-computed week of one client's jobs (docs/api.md, Analytics).

The week is 2026-03-01..2026-03-07 (UTC, both days included), built by tests/analytics_data.py. The
client's campaigns "spring" and "summer"; the numbers each test expects are worked out in its comments.
Times are UTC, 2026:

    job campaign platform created      storyboard   approved (+s)    finished               videos    refines
    J1  spring   tiktok   03-01 00:00  03-01 00:10  00:12 (+120)     03-01 01:00 completed  2 ok      0
    J2  spring   meta     03-02 09:00  03-02 10:00  10:05 (+300)     03-02 11:00 partial    1 ok 1 x  0
    J3  summer   youtube  03-03 08:00  03-04 09:00  10:00 (+3600)    03-07 23:59:59 compl.  1 ok      2
    J4  summer   tiktok   03-05 08:00  -            -                03-05 09:00 failed     -         1
    J5  spring   tiktok   03-06 08:00  03-06 12:00  -                03-06 13:00 cancelled  -         0 (1 ops retry)
    J6  spring   meta     03-06 09:00  03-06 10:00  -                - (storyboard_complete)          0
    J7  spring   tiktok   02-28 23:59:59 (storyboard too)            03-01 00:30 completed  1 ok      1
    J8  spring   tiktok   03-08 00:00:00                             -                      -         0
    J9  another client, inside the week: completed, 1 video, refined, $9.99 on 03-03: never counted.

    ledger ($): J1 03-01 00:05 .025, 00:40 1.50, 00:41 1.50 | J2 03-02 .275, 3.00, 1.20 |
                J3 03-03 .009, 03-04 .009, 03-07 23:59:59 6.00 | J4 03-05 .006 | J5 03-06 .009 | J6 03-06 .009 |
                J7 02-28 23:59:59 .009, 03-01 00:20 1.50 | J8 03-08 00:00:00 .50
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from clients.models import Membership
from tests.analytics_data import WEEK, build_week, make_job
from tests.factories import MembershipFactory, UserFactory, VideoJobFactory
from tests.jobs import generate_body, storyboard_complete_job
from videogen.models import JobEvent, JobStatus, VideoJob

pytestmark = pytest.mark.django_db
S = JobStatus


@pytest.fixture
def week(tenant):
    return build_week(tenant)


def analytics(api, client, **params):
    return api.get("/api/v2/analytics", {"clientId": str(client.pk), **params})


def week_report(api, week, **params) -> dict:
    response = analytics(api, week.tenant.client, **{**WEEK, **params})
    assert response.status_code == 200, response.json()
    return response.json()


# --- The numbers ------------------------------------------------------------------------------------


def test_echoes_the_client_and_the_window(api, week):
    body = week_report(api, week)

    assert (body["clientId"], body["from"], body["to"]) == (str(week.tenant.client.pk), "2026-03-01", "2026-03-07")


def test_jobs_started_and_finished_in_the_window_count_by_outcome(api, week):
    # started: J1-J6 (J7 began a second before the week, J8 at the first second after it);
    # completed: J1, J3 (last second of the week) and J7 (started before, finished inside); J2 partial;
    # J4 failed; J5 cancelled; J6 still waits for approval.
    assert week_report(api, week)["jobs"] == {
        "started": 6, "completed": 3, "partiallyCompleted": 1, "failed": 1, "cancelled": 1,
    }


def test_approval_rate_is_approved_over_completed_storyboards(api, week):
    # Storyboards completed in the week: J1, J2, J3, J5, J6 (J4 never got one, J7's was done on 02-28);
    # approved: J1, J2, J3 -> 3 / 5.
    assert week_report(api, week)["approvalRate"] == 0.6


def test_refinements_per_job_counts_refine_requests_of_the_jobs_started(api, week):
    # J3 twice + J4 once over the 6 jobs started; J7's refine (started before) and J5's ops retry do not count.
    assert week_report(api, week)["refinementsPerJob"] == 0.5


def test_median_seconds_from_storyboard_to_approval(api, week):
    # J1 120 s, J2 300 s, J3 3600 s.
    assert week_report(api, week)["medianSecondsToApprove"] == 300.0


def test_median_of_an_even_number_of_approvals_is_the_mean_of_the_middle_two(api, tenant):
    for approved in ("00:01", "00:03", "00:10", "01:00"):  # 60, 180, 600, 3600 s after 00:00
        make_job(tenant.campaign, created="2026-03-02 00:00", storyboard="2026-03-02 00:00",
                 approved=f"2026-03-02 {approved}", status=S.STORYBOARD_COMPLETE)

    body = analytics(api, tenant.client, **WEEK).json()

    assert body["medianSecondsToApprove"] == 390.0
    assert body["approvalRate"] == 1.0


def test_average_cost_per_finished_video_counts_all_spend_of_the_finished_jobs(api, week):
    # Finished in the week: J1 ($3.025, 2 videos), J2 ($4.475, 1 video: the failed variation is not a video
    # but its spend counts), J3 ($6.018, 1), J7 ($1.509 with its 02-28 storyboard, 1) -> $15.027 / 5 = 3.0054.
    assert week_report(api, week)["avgCostPerVideo"] == 3.01


def test_cost_by_day_lists_every_day_of_the_window_in_half_up_cents(api, week):
    # 03-01: J1 .025 + 1.50 + 1.50 + J7 1.50 = 4.525 -> 4.53 (half-up; half-even would say 4.52).
    assert week_report(api, week)["costByDay"] == [
        {"date": "2026-03-01", "cost": 4.53},
        {"date": "2026-03-02", "cost": 4.48},
        {"date": "2026-03-03", "cost": 0.01},
        {"date": "2026-03-04", "cost": 0.01},
        {"date": "2026-03-05", "cost": 0.01},
        {"date": "2026-03-06", "cost": 0.02},
        {"date": "2026-03-07", "cost": 6.0},
    ]


def test_cost_by_campaign_is_spend_in_the_window_with_finished_videos(api, week):
    # spring: J1 3.025 + J7 1.50 (not its 02-28 row) + J2 4.475 + J5 .009 + J6 .009 = 9.018; videos J1 2, J2 1, J7 1.
    # summer: J3 6.018 + J4 .006 = 6.024; video J3.
    assert week_report(api, week)["costByCampaign"] == [
        {"campaignId": str(week.spring.pk), "name": "Spring launch", "videos": 4, "cost": 9.02},
        {"campaignId": str(week.summer.pk), "name": "Summer drop", "videos": 1, "cost": 6.02},
    ]


def test_by_platform_counts_jobs_started_and_spend_in_the_window(api, week):
    # tiktok: J1, J4, J5 started; J1 3.025 + J7 1.50 + J4 .006 + J5 .009 = 4.54. meta: J2, J6: 4.484.
    assert week_report(api, week)["byPlatform"] == [
        {"platform": "tiktok", "jobs": 3, "cost": 4.54},
        {"platform": "meta", "jobs": 2, "cost": 4.48},
        {"platform": "youtube", "jobs": 1, "cost": 6.02},
        {"platform": "custom", "jobs": 0, "cost": 0.0},
    ]


def test_campaign_filter_narrows_every_figure_to_that_campaign(api, week):
    body = week_report(api, week, campaignId=str(week.summer.pk))

    assert body["jobs"] == {"started": 2, "completed": 1, "partiallyCompleted": 0, "failed": 1, "cancelled": 0}
    assert body["approvalRate"] == 1.0
    assert body["refinementsPerJob"] == 1.5
    assert body["medianSecondsToApprove"] == 3600.0
    assert body["avgCostPerVideo"] == 6.02
    assert [row["campaignId"] for row in body["costByCampaign"]] == [str(week.summer.pk)]
    assert sum(day["cost"] for day in body["costByDay"]) == pytest.approx(0.01 + 0.01 + 0.01 + 6.0)


def test_a_single_day_window_includes_its_first_and_last_second(api, week):
    body = week_report(api, week, **{"from": "2026-03-07", "to": "2026-03-07"})

    assert body["jobs"]["completed"] == 1  # J3 at 23:59:59
    assert body["costByDay"] == [{"date": "2026-03-07", "cost": 6.0}]


def test_a_window_without_activity_has_zeros_and_null_rates(api, week):
    body = week_report(api, week, **{"from": "2025-01-01", "to": "2025-01-02"})

    assert body["jobs"] == {"started": 0, "completed": 0, "partiallyCompleted": 0, "failed": 0, "cancelled": 0}
    assert [body[key] for key in ("approvalRate", "refinementsPerJob", "medianSecondsToApprove",
                                  "avgCostPerVideo")] == [None, None, None, None]
    assert body["costByCampaign"] == []
    assert body["costByDay"] == [{"date": "2025-01-01", "cost": 0.0}, {"date": "2025-01-02", "cost": 0.0}]
    assert {row["jobs"] for row in body["byPlatform"]} == {0}


def test_default_window_is_the_last_30_utc_days(api, tenant):
    today = datetime.now(UTC).date()

    body = analytics(api, tenant.client).json()

    assert (body["from"], body["to"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    assert len(body["costByDay"]) == 30


def test_only_from_given_runs_to_today(api, tenant):
    start = datetime.now(UTC).date() - timedelta(days=3)

    body = analytics(api, tenant.client, **{"from": start.isoformat()}).json()

    assert [day["date"] for day in body["costByDay"]][0] == start.isoformat()
    assert len(body["costByDay"]) == 4


# --- Tenancy ----------------------------------------------------------------------------------------


def test_another_tenants_client_is_404(api, week):
    response = analytics(api, week.stranger.client, **WEEK)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_client_is_404(api, db):
    response = api.get("/api/v2/analytics", {"clientId": "3f2b6a7e-0000-4000-8000-000000000009"})

    assert response.status_code == 404


def test_a_campaign_of_another_client_is_404(api, week):
    response = analytics(api, week.tenant.client, campaignId=str(week.stranger.pk), **WEEK)

    assert response.status_code == 404


def test_a_viewer_may_read_the_analytics(week, bearer_client):
    viewer = UserFactory()
    MembershipFactory(user=viewer, client=week.tenant.client, role=Membership.Role.VIEWER)

    response = analytics(bearer_client(viewer), week.tenant.client, **WEEK)

    assert response.status_code == 200
    assert response.json()["jobs"]["started"] == 6


def test_without_credentials_is_401(anon, tenant):
    assert analytics(anon, tenant.client).status_code == 401


# --- Bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "field"), [
    ({}, "clientId"),
    ({"clientId": "not-a-uuid"}, "clientId"),
    ({"campaignId": "nope"}, "campaignId"),
    ({"from": "2026-02-30"}, "from"),
    ({"to": "01/03/2026"}, "to"),
    ({"from": "2026-03-08", "to": "2026-03-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-03-01"}, "from"),
    ({"to": "1999-12-31"}, "to"),
    ({"from": "3000-01-01"}, "from"),
])
def test_bad_parameters_are_400_naming_the_field(api, tenant, params, field):
    query = {"clientId": str(tenant.client.pk), **params} if "clientId" not in params and params else params

    response = api.get("/api/v2/analytics", query)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == [field]


def test_a_range_of_exactly_366_days_is_accepted(api, tenant):
    end = date(2026, 3, 1)

    response = analytics(api, tenant.client, **{"from": (end - timedelta(days=365)).isoformat(), "to": end.isoformat()})

    assert response.status_code == 200
    assert len(response.json()["costByDay"]) == 366


# --- Where the figures come from: approval times and refine entries written by the job endpoints -------


def test_approve_records_when_the_storyboard_was_approved(api, tenant):
    job = storyboard_complete_job(tenant)
    before = datetime.now(UTC)

    assert api.post(f"/api/v2/jobs/{job.pk}/approve").status_code == 200

    job.refresh_from_db()
    assert before <= job.approved_at <= datetime.now(UTC)


def test_approving_twice_keeps_the_first_approval_time(api, tenant):
    job = storyboard_complete_job(tenant)
    api.post(f"/api/v2/jobs/{job.pk}/approve")
    first = VideoJob.objects.get(pk=job.pk).approved_at

    api.post(f"/api/v2/jobs/{job.pk}/approve")

    assert VideoJob.objects.get(pk=job.pk).approved_at == first


def test_render_approves_implicitly_with_a_time_unless_already_approved(api, tenant, tasks):
    implicit, explicit = storyboard_complete_job(tenant), storyboard_complete_job(tenant)
    api.post(f"/api/v2/jobs/{explicit.pk}/approve")
    approved_first = VideoJob.objects.get(pk=explicit.pk).approved_at

    assert api.post(f"/api/v2/jobs/{implicit.pk}/render").status_code == 202
    assert api.post(f"/api/v2/jobs/{explicit.pk}/render").status_code == 202

    assert VideoJob.objects.get(pk=implicit.pk).approved_at is not None
    assert VideoJob.objects.get(pk=explicit.pk).approved_at == approved_first


def test_refine_records_a_refine_entry_and_clears_the_approval(api, tenant, tasks):
    job = storyboard_complete_job(tenant)
    api.post(f"/api/v2/jobs/{job.pk}/approve")

    assert api.post(f"/api/v2/jobs/{job.pk}/refine", {"scenes": [2]}, format="json").status_code == 202

    job.refresh_from_db()
    assert (job.approved, job.approved_at) == (False, None)
    refine = JobEvent.objects.get(job=job, kind=JobEvent.REFINE)
    assert refine.data == {"scenes": [2], "changed": []}


def test_an_ops_retry_is_recorded_as_a_retry_not_a_refine(tenant, tasks):
    from videogen import ops

    job = VideoJobFactory(campaign=tenant.campaign, status=S.FAILED)

    ops.retry(job)

    assert list(JobEvent.objects.filter(job=job).exclude(kind="status").values_list("kind", flat=True)) == ["retry"]



def test_a_job_driven_through_the_api_is_counted_from_what_the_pipeline_recorded(api, tenant, tasks, settings):
    # generate -> storyboard (local provider) -> refine one scene -> storyboard again -> approve -> render.
    settings.VIDEOGEN_PROVIDER = "local"
    response = api.post("/api/v2/generate", generate_body(tenant, duration=15), format="json")
    job_id = response.json()["job_id"]
    tasks.drain()
    assert api.post(f"/api/v2/jobs/{job_id}/refine", {"scenes": [2]}, format="json").status_code == 202
    tasks.drain()
    assert api.post(f"/api/v2/jobs/{job_id}/approve").status_code == 200
    assert api.post(f"/api/v2/jobs/{job_id}/render").status_code == 202
    tasks.drain()
    job = VideoJob.objects.get(pk=job_id)
    assert job.status == S.COMPLETED

    body = analytics(api, tenant.client).json()

    assert body["jobs"] == {"started": 1, "completed": 1, "partiallyCompleted": 0, "failed": 0, "cancelled": 0}
    assert (body["approvalRate"], body["refinementsPerJob"]) == (1.0, 1.0)
    waited = (job.approved_at - job.storyboard_completed_at).total_seconds()
    assert body["medianSecondsToApprove"] == pytest.approx(waited, abs=0.05)
    # The offline provider is free: one finished video at $0.00 (not null: there is a video); the money
    # paths are the hand-computed week's.
    assert body["avgCostPerVideo"] == 0.0
    assert body["costByCampaign"] == [{"campaignId": str(tenant.campaign.pk), "name": tenant.campaign.name,
                                       "videos": 1, "cost": 0.0}]

# --- Schema -----------------------------------------------------------------------------------------------


def test_schema_describes_the_query_and_the_report(tmp_path):
    import yaml
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    operation = schema["paths"]["/api/v2/analytics"]["get"]
    report = schema["components"]["schemas"]["Analytics"]

    assert {(p["name"], p.get("required", False)) for p in operation["parameters"]} == {
        ("clientId", True), ("campaignId", False), ("from", False), ("to", False)}
    assert {"200", "400", "401", "404", "429"} <= set(operation["responses"])
    assert set(report["required"]) == {"clientId", "from", "to", "jobs", "approvalRate", "refinementsPerJob",
                                       "medianSecondsToApprove", "avgCostPerVideo", "costByCampaign", "costByDay",
                                       "byPlatform"}
    assert report["properties"]["approvalRate"]["nullable"] is True
    assert "storyboards approved / storyboards completed" in report["properties"]["approvalRate"]["description"].lower()
