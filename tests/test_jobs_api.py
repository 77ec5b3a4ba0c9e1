"""The v2 job endpoints as docs/api.md specifies them (pipeline work is recorded, not run)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clients.models import Membership
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory, VideoJobFactory
from tests.jobs import completed_job, generate_body, storyboard_complete_job
from videogen import services, signed_urls
from videogen.models import IdempotencyRecord, JobEvent, JobStatus, VideoJob
from videogen.pipeline.state import report_progress

pytestmark = pytest.mark.django_db


# --- POST /generate -------------------------------------------------------------------------


def test_generate_answers_202_with_estimate_location_and_queues_the_storyboard(api, tenant, tasks, settings):
    settings.VIDEOGEN_PROVIDER = "replicate"
    response = api.post("/api/v2/generate", generate_body(tenant), format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["estimatedCost"] == 3.02
    assert body["costBreakdown"] == {"storyboard": 0.02, "video": 3.0, "upscale": 0.0, "voiceover": 0.0,
                                     "total": 3.02, "replicateEquivalent": 3.02}
    assert body["status"] == "generating_storyboard"
    assert body["pollAfter"] == 2
    assert response["Location"] == f"/api/v2/jobs/{body['job_id']}"
    assert tasks.names() == ["build_storyboard"]


def test_generate_stores_the_request_with_platform_default_aspect_ratio(api, tenant, tasks):
    response = api.post("/api/v2/generate", generate_body(tenant, platform="meta", exportFormats=["gif"]),
                        format="json")
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    assert job.aspect_ratio == "4:5"
    assert job.export_formats == ["mp4", "gif"]
    assert job.captions is True and job.voiceover is None


def test_the_offline_provider_estimates_nothing_and_shows_the_replicate_price_beside_it(api, tenant, tasks,
                                                                                          settings):
    settings.VIDEOGEN_PROVIDER = "local"
    body = api.post("/api/v2/generate", generate_body(tenant), format="json").json()
    assert body["estimatedCost"] == 0
    assert body["costBreakdown"]["total"] == 0
    assert body["costBreakdown"]["replicateEquivalent"] == 3.02
    assert VideoJob.objects.get(pk=body["job_id"]).estimated_cost == Decimal("0")


def test_a_voiceover_request_is_stored_on_the_job_and_priced(api, tenant, tasks, settings):
    settings.VIDEOGEN_PROVIDER = "replicate"
    voiceover = {"enabled": True, "script": "Lace up. Own the city.", "voice": "af_bella"}
    body = api.post("/api/v2/generate", generate_body(tenant, captions=False,
                                                      audioControls={"volume": 0.5, "voiceover": voiceover}),
                    format="json").json()
    job = VideoJob.objects.get(pk=body["job_id"])
    assert job.captions is False
    assert job.voiceover == {"enabled": True, "voice": "af_bella", "script": "Lace up. Own the city.",
                             "seconds": None}
    assert job.audio_controls == {"volume": 0.5}
    assert body["costBreakdown"]["voiceover"] == 0.01  # 6 lines x $0.002 = $0.012, rounded to cents
    document = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert document["voiceover"] == job.voiceover


def test_a_script_too_long_for_the_video_is_refused_naming_audio_controls(api, tenant, tasks):
    script = " ".join(["Our new sneaker is made from recycled materials."] * 12)  # ~84 words, ~35 s
    response = api.post("/api/v2/generate", generate_body(tenant, duration=15, audioControls={
        "voiceover": {"enabled": True, "script": script}}), format="json")
    assert response.status_code == 400
    assert "audioControls" in response.json()["fields"]
    assert not VideoJob.objects.exists()


def test_a_script_that_fits_is_accepted(api, tenant, tasks):
    script = "Lace up at dawn. The city is your track. Shop the Aero today."
    response = api.post("/api/v2/generate", generate_body(tenant, duration=15, audioControls={
        "voiceover": {"enabled": True, "script": script}}), format="json")
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"duration": 20}, "duration"),
        ({"platform": "myspace"}, "platform"),
        ({"numberOfVariations": 4}, "numberOfVariations"),
        ({"aspectRatio": "3:2"}, "aspectRatio"),
        ({"exportFormats": ["avi"]}, "exportFormats[0]"),
        ({"audioControls": {"volume": 2}}, "audioControls.volume"),
        ({"campaignId": "not-a-uuid"}, "campaignId"),
        ({"videoName": ""}, "videoName"),
    ],
)
def test_generate_rejects_invalid_fields_with_camel_case_field_errors(api, tenant, tasks, override, field):
    response = api.post("/api/v2/generate", generate_body(tenant, **override), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["fields"]
    assert VideoJob.objects.count() == 0
    assert tasks.queued == []


def test_generate_for_a_campaign_of_another_client_is_404(api, tenant, tasks):
    other_campaign = CampaignFactory()
    response = api.post("/api/v2/generate", generate_body(tenant, campaignId=str(other_campaign.id)), format="json")
    assert response.status_code == 404
    assert VideoJob.objects.count() == 0


def test_generate_with_an_unknown_asset_is_400(api, tenant, tasks):
    body = generate_body(tenant, assets=[{"id": "00000000-0000-0000-0000-000000000001", "sceneNumber": 1}])
    response = api.post("/api/v2/generate", body, format="json")
    assert response.status_code == 400
    assert "assets" in response.json()["fields"]


def test_same_idempotency_key_returns_the_first_job_without_a_second_one(api, tenant, tasks):
    first = api.post("/api/v2/generate", generate_body(tenant), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    second = api.post("/api/v2/generate", generate_body(tenant), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert VideoJob.objects.count() == 1
    assert tasks.names() == ["build_storyboard"]


def test_idempotency_keys_are_per_user(api, tenant, tasks, bearer_client):
    colleague = UserFactory()
    MembershipFactory(user=colleague, client=tenant.client, role=Membership.Role.EDITOR)
    api.post("/api/v2/generate", generate_body(tenant), format="json", HTTP_IDEMPOTENCY_KEY="k")
    bearer_client(colleague).post("/api/v2/generate", generate_body(tenant), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert VideoJob.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 2


# --- GET /jobs/{id} ------------------------------------------------------------------------


def test_poll_returns_the_contract_document(api, tenant):
    job = storyboard_complete_job(tenant)
    body = api.get(f"/api/v2/jobs/{job.pk}").json()
    assert body["job_id"] == job.pk
    assert body["status"] == "storyboard_complete"
    assert set(body["progress"]) == {"stage", "percentage", "currentScene", "estimatedTimeRemaining", "cost"}
    assert [scene["sceneNumber"] for scene in body["storyboard"]] == [1, 2, 3]
    assert body["storyboard"][1]["timestamp"] == 5
    assert body["storyboard"][0]["imageUrl"].startswith("http://testserver/media/signed/")
    assert body["results"]["videoUrl"] is None
    assert body["pollAfter"] == 30


def test_storyboard_image_url_works_without_authorization(api, anon, tenant):
    job = storyboard_complete_job(tenant)
    url = api.get(f"/api/v2/jobs/{job.pk}").json()["storyboard"][0]["imageUrl"]
    response = anon.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_poll_with_current_etag_answers_304_without_body(api, tenant):
    job = storyboard_complete_job(tenant)
    first = api.get(f"/api/v2/jobs/{job.pk}")
    again = api.get(f"/api/v2/jobs/{job.pk}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_etag_changes_when_the_job_changes(api, tenant):
    job = storyboard_complete_job(tenant)
    first = api.get(f"/api/v2/jobs/{job.pk}")
    services.approve(job)
    again = api.get(f"/api/v2/jobs/{job.pk}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again.json()["approved"] is True
    assert again["ETag"] != first["ETag"]


def test_a_heartbeat_alone_keeps_the_etag(api, tenant):
    job = VideoJobFactory(campaign=tenant.campaign, created_by=tenant.owner,
                          status=JobStatus.GENERATING_STORYBOARD, stage="generating_scene_2")
    first = api.get(f"/api/v2/jobs/{job.pk}")
    report_progress(job.pk, run=job.run, stage="generating_scene_2")  # the same progress again
    again = api.get(f"/api/v2/jobs/{job.pk}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_the_etag_is_strong_and_a_heartbeat_leaves_the_document_byte_identical(api, tenant):
    job = VideoJobFactory(campaign=tenant.campaign, created_by=tenant.owner,
                          status=JobStatus.GENERATING_STORYBOARD, stage="generating_scene_2")
    report_progress(job.pk, run=job.run, stage="generating_scene_3")
    first = api.get(f"/api/v2/jobs/{job.pk}")
    report_progress(job.pk, run=job.run, stage="generating_scene_3")  # a heartbeat: updated_at moves
    again = api.get(f"/api/v2/jobs/{job.pk}")
    assert not first["ETag"].startswith("W/")
    assert again["ETag"] == first["ETag"]
    assert again.content == first.content


def test_progress_a_client_can_see_changes_the_etag(api, tenant):
    job = VideoJobFactory(campaign=tenant.campaign, created_by=tenant.owner,
                          status=JobStatus.GENERATING_STORYBOARD, stage="generating_scene_2")
    first = api.get(f"/api/v2/jobs/{job.pk}")
    report_progress(job.pk, run=job.run, stage="generating_scene_3")
    again = api.get(f"/api/v2/jobs/{job.pk}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again.json()["progress"]["stage"] == "generating_scene_3"


def test_the_etag_changes_when_the_media_urls_are_signed_anew(api, tenant, monkeypatch):
    job = storyboard_complete_job(tenant)
    first = api.get(f"/api/v2/jobs/{job.pk}")
    later = signed_urls._now() + 600  # past the signing step: new URLs
    monkeypatch.setattr(signed_urls, "_now", lambda: later)
    again = api.get(f"/api/v2/jobs/{job.pk}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again.json()["storyboard"][0]["imageUrl"] != first.json()["storyboard"][0]["imageUrl"]


def test_a_conditional_poll_of_another_tenants_job_is_404_not_304(api, tenant):
    other = storyboard_complete_job(type("T", (), {"campaign": CampaignFactory(), "owner": UserFactory()}))
    response = api.get(f"/api/v2/jobs/{other.pk}", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 404


@pytest.mark.parametrize(("status", "stage", "poll_after"), [
    (JobStatus.GENERATING_STORYBOARD, "parsing_brief", 2),
    (JobStatus.GENERATING_STORYBOARD, "generating_scene_2", 5),
    (JobStatus.GENERATING_VIDEO, "rendering_video", 10),
])
def test_poll_after_follows_the_stage(api, tenant, status, stage, poll_after):
    job = VideoJobFactory(campaign=tenant.campaign, status=status, stage=stage)
    assert api.get(f"/api/v2/jobs/{job.pk}").json()["pollAfter"] == poll_after


def test_another_tenants_job_is_404(api):
    job = VideoJobFactory()
    assert api.get(f"/api/v2/jobs/{job.pk}").status_code == 404


def test_polling_30_times_a_minute_per_job_is_allowed_but_not_31(api, tenant):
    job = VideoJobFactory(campaign=tenant.campaign)
    other = VideoJobFactory(campaign=tenant.campaign)
    codes = [api.get(f"/api/v2/jobs/{job.pk}").status_code for _ in range(31)]
    assert codes[:30] == [200] * 30
    assert codes[30] == 429
    assert api.get(f"/api/v2/jobs/{other.pk}").status_code == 200


# --- GET /jobs/ --------------------------------------------------------------------------------


def test_job_list_is_paginated_and_scoped_to_the_users_clients(api, tenant):
    mine = [VideoJobFactory(campaign=tenant.campaign) for _ in range(3)]
    VideoJobFactory()
    body = api.get("/api/v2/jobs/").json()
    assert body["count"] == 3
    assert {item["job_id"] for item in body["results"]} == {job.pk for job in mine}


def test_job_list_filters_by_status_and_campaign(api, tenant):
    other_campaign = CampaignFactory(client=tenant.client)
    wanted = VideoJobFactory(campaign=tenant.campaign, status=JobStatus.FAILED)
    VideoJobFactory(campaign=tenant.campaign)
    VideoJobFactory(campaign=other_campaign, status=JobStatus.FAILED)
    body = api.get("/api/v2/jobs/", {"status": "failed", "campaignId": str(tenant.campaign.id)}).json()
    assert [item["job_id"] for item in body["results"]] == [wanted.pk]


def test_job_list_rejects_an_unknown_status_filter(api, tenant):
    response = api.get("/api/v2/jobs/", {"status": "done"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


# --- approve / render / refine / cancel transitions --------------------------------------------

NOT_READY_FOR_RENDER = [JobStatus.GENERATING_STORYBOARD, JobStatus.NEEDS_CLARIFICATION, JobStatus.GENERATING_VIDEO,
                        JobStatus.COMPLETED, JobStatus.PARTIALLY_COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED,
                        JobStatus.STALLED]


@pytest.mark.parametrize("status", NOT_READY_FOR_RENDER)
def test_approve_outside_storyboard_complete_is_409(api, tenant, status):
    job = VideoJobFactory(campaign=tenant.campaign, status=status)
    response = api.post(f"/api/v2/jobs/{job.pk}/approve")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    job.refresh_from_db()
    assert job.approved is False


@pytest.mark.parametrize("status", NOT_READY_FOR_RENDER)
def test_render_outside_storyboard_complete_is_409(api, tenant, tasks, status):
    job = VideoJobFactory(campaign=tenant.campaign, status=status)
    response = api.post(f"/api/v2/jobs/{job.pk}/render")
    assert response.status_code == 409
    assert VideoJob.objects.get(pk=job.pk).status == status
    assert tasks.queued == []


@pytest.mark.parametrize("status", [JobStatus.GENERATING_STORYBOARD, JobStatus.GENERATING_VIDEO, JobStatus.COMPLETED])
def test_refine_while_a_stage_runs_or_after_completion_is_409(api, tenant, tasks, status):
    job = VideoJobFactory(campaign=tenant.campaign, status=status)
    response = api.post(f"/api/v2/jobs/{job.pk}/refine", {"creativePrompt": "new idea for the ad please"},
                        format="json")
    assert response.status_code == 409
    assert VideoJob.objects.get(pk=job.pk).creative_prompt != "new idea for the ad please"


def test_delete_of_a_completed_job_is_409(api, tenant):
    job = VideoJobFactory(campaign=tenant.campaign, status=JobStatus.COMPLETED)
    assert api.delete(f"/api/v2/jobs/{job.pk}").status_code == 409
    assert VideoJob.objects.get(pk=job.pk).status == JobStatus.COMPLETED


def test_approve_sets_approved_and_returns_the_job(api, tenant):
    job = storyboard_complete_job(tenant)
    response = api.post(f"/api/v2/jobs/{job.pk}/approve")
    assert response.status_code == 200
    assert response.json()["approved"] is True


def test_render_approves_implicitly_and_queues_one_render_per_variation(api, tenant, tasks):
    job = storyboard_complete_job(tenant, number_of_variations=3)
    response = api.post(f"/api/v2/jobs/{job.pk}/render")
    assert response.status_code == 202
    assert response.json()["status"] == "generating_video"
    job.refresh_from_db()
    assert job.approved is True
    assert job.variations.count() == 3
    assert tasks.names() == ["render_variation"] * 3
    assert sorted(args[1] for _, args, _ in tasks.queued) == [1, 2, 3]


def test_render_with_a_failed_scene_is_409_until_it_is_refined(api, tenant, tasks):
    job = storyboard_complete_job(tenant)
    job.scenes.filter(number=2).update(status="failed", image="")
    response = api.post(f"/api/v2/jobs/{job.pk}/render")
    assert response.status_code == 409
    assert response.json()["code"] == "scenes_incomplete"


def test_delete_cancels_and_is_idempotent(api, tenant, tasks):
    job = VideoJobFactory(campaign=tenant.campaign, status=JobStatus.GENERATING_STORYBOARD)
    first = api.delete(f"/api/v2/jobs/{job.pk}")
    second = api.delete(f"/api/v2/jobs/{job.pk}")
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "cancelled"
    assert JobEvent.objects.filter(job=job, to_status="cancelled").count() == 1
    assert tasks.names() == ["cancel_predictions"]


def test_refine_with_unknown_scene_numbers_is_400_and_changes_nothing(api, tenant, tasks):
    job = storyboard_complete_job(tenant)
    response = api.post(f"/api/v2/jobs/{job.pk}/refine", {"scenes": [7]}, format="json")
    assert response.status_code == 400
    assert VideoJob.objects.get(pk=job.pk).status == JobStatus.STORYBOARD_COMPLETE


def test_a_viewer_reads_a_job(tenant, member_api):
    job = storyboard_complete_job(tenant)

    response = member_api(Membership.Role.VIEWER).get(f"/api/v2/jobs/{job.pk}")

    assert response.status_code == 200
    assert response.json()["job_id"] == job.pk


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v2/generate"),
    ("post", "/api/v2/jobs/{job_id}/approve"),
    ("post", "/api/v2/jobs/{job_id}/render"),
    ("post", "/api/v2/jobs/{job_id}/refine"),
    ("delete", "/api/v2/jobs/{job_id}"),
])
def test_a_viewer_may_not_start_or_change_jobs(tenant, tasks, member_api, method, path):
    job = storyboard_complete_job(tenant)
    body = generate_body(tenant) if path.endswith("/generate") else {}

    response = getattr(member_api(Membership.Role.VIEWER), method)(path.format(job_id=job.pk), body, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert list(VideoJob.objects.values_list("pk", "status", "approved")) == [
        (job.pk, JobStatus.STORYBOARD_COMPLETE, False)]
    assert tasks.queued == []


# --- /data and /thumbnail ---------------------------------------------------------------------


def test_data_before_the_video_exists_is_409_not_ready(api, tenant):
    job = storyboard_complete_job(tenant)
    response = api.get(f"/api/v2/jobs/{job.pk}/data")
    assert response.status_code == 409
    assert response.json()["code"] == "not_ready"


def test_data_serves_the_mp4_as_an_attachment(api, tenant):
    job = completed_job(tenant)
    response = api.get(f"/api/v2/jobs/{job.pk}/data")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"ftyp" in b"".join(response.streaming_content)[:16]


def test_data_answers_range_requests_with_206(api, tenant):
    job = completed_job(tenant)
    full = b"".join(api.get(f"/api/v2/jobs/{job.pk}/data").streaming_content)
    response = api.get(f"/api/v2/jobs/{job.pk}/data", HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-19/{len(full)}"
    assert b"".join(response.streaming_content) == full[10:20]


def test_data_with_unknown_format_is_400(api, tenant):
    job = completed_job(tenant)
    assert api.get(f"/api/v2/jobs/{job.pk}/data", {"format": "avi"}).status_code == 400


def test_data_of_a_format_that_was_not_exported_is_409(api, tenant):
    job = completed_job(tenant, formats=("mp4",))
    assert api.get(f"/api/v2/jobs/{job.pk}/data", {"format": "webm"}).status_code == 409


def test_thumbnail_before_render_is_the_first_scene_as_jpeg(api, tenant):
    job = storyboard_complete_job(tenant)
    response = api.get(f"/api/v2/jobs/{job.pk}/thumbnail")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff"


def test_thumbnail_with_no_scene_image_is_409(api, tenant):
    job = VideoJobFactory(campaign=tenant.campaign)
    assert api.get(f"/api/v2/jobs/{job.pk}/thumbnail").status_code == 409


def test_completed_job_results_carry_signed_exports(api, tenant):
    job = completed_job(tenant)
    results = api.get(f"/api/v2/jobs/{job.pk}").json()["results"]
    assert results["videoUrl"] == results["exports"]["mp4"]
    assert results["exports"]["gif"] and results["exports"]["webm"]
    assert results["variations"][0]["durationSeconds"] == 2.0


def test_unknown_api_route_is_a_json_404(api):
    response = api.get("/api/v2/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("url", ["/api/v2/generate", "/api/v2/jobs/", "/api/v2/jobs/1"])
def test_job_routes_refuse_anonymous_callers(anon, url):
    response = anon.get(url) if url.startswith("/api/v2/jobs") else anon.post(url, {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_budget_and_client_ids_are_consistent_for_campaign_filter(api, tenant):
    other_client = ClientFactory()
    assert api.get("/api/v2/jobs/", {"clientId": str(other_client.id)}).json()["count"] == 0


def test_refine_is_refused_once_the_daily_hard_budget_is_spent(api, tenant, tasks, settings):
    from tests.factories import CostEntryFactory

    job = storyboard_complete_job(tenant)
    CostEntryFactory(job=job, amount=settings.DAILY_BUDGET_HARD)
    response = api.post(f"/api/v2/jobs/{job.pk}/refine", {"scenes": [1]}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "budget_exceeded"
    assert VideoJob.objects.get(pk=job.pk).status == JobStatus.STORYBOARD_COMPLETE
    assert tasks.queued == []
