"""The job console in Django admin: the list, the job page, and who may see them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from tests import media_files
from tests.factories import (
    CostEntryFactory,
    JobEventFactory,
    PredictionFactory,
    SceneFactory,
    UserFactory,
    VariationFactory,
    VideoJobFactory,
)
from videogen.models import JobStatus, SceneStatus, VariationStatus
from videogen.storage import save_file, storyboard_image_name

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/videogen/videojob/"


def store(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


def job_page(job) -> str:
    return reverse("admin:videogen_videojob_change", args=[job.pk])


def test_job_list_shows_the_console_columns_and_filters(admin_client):
    job = VideoJobFactory(video_name="Sneaker launch", status=JobStatus.GENERATING_VIDEO, stage="rendering_video",
                          percentage=64)
    VideoJobFactory(platform="youtube")  # a second client, campaign and platform: every filter has a choice

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Sneaker launch", "generating_video", "rendering_video", "64%", job.client.name, job.campaign.name,
                 "tiktok", "Estimate → actual"):
        assert text in body
    filters = body[body.index('id="changelist-filter"'):]
    for title in ("By status", "By platform", "By client", "By campaign", "By created at", "By cost vs estimate"):
        assert title in filters


def test_job_list_highlights_actual_cost_more_than_20_percent_over_the_estimate(admin_client):
    VideoJobFactory(estimated_cost=Decimal("1.00"), actual_cost=Decimal("1.50"))
    VideoJobFactory(estimated_cost=Decimal("1.00"), actual_cost=Decimal("1.10"))

    body = admin_client.get(CHANGELIST).content.decode()

    assert '<span class="vg-badge vg-badge--bad" title="actual vs estimate">+50%</span>' in body
    assert '<span class="vg-badge vg-badge--muted" title="actual vs estimate">+10%</span>' in body


def test_job_list_filters_by_status(admin_client):
    VideoJobFactory(video_name="Stuck one", status=JobStatus.STALLED)
    VideoJobFactory(video_name="Fine one", status=JobStatus.COMPLETED)

    body = admin_client.get(CHANGELIST, {"status__exact": "stalled"}).content.decode()

    assert "Stuck one" in body
    assert "Fine one" not in body


def test_over_estimate_filter_lists_only_overruns(admin_client):
    VideoJobFactory(video_name="Overrun", estimated_cost=Decimal("2.00"), actual_cost=Decimal("2.41"))
    VideoJobFactory(video_name="On budget", estimated_cost=Decimal("2.00"), actual_cost=Decimal("2.40"))

    body = admin_client.get(CHANGELIST, {"variance": "over"}).content.decode()

    assert "Overrun" in body
    assert "On budget" not in body


def test_job_list_search_finds_a_job_by_id(admin_client):
    wanted = VideoJobFactory(video_name="Wanted")
    VideoJobFactory(video_name="Other")

    body = admin_client.get(CHANGELIST, {"q": f"#{wanted.pk}"}).content.decode()

    assert "Wanted" in body
    assert "Other" not in body


def test_job_list_search_finds_a_job_by_prompt_text(admin_client):
    VideoJobFactory(video_name="Beach", creative_prompt="Surfers at sunset on a quiet beach")
    VideoJobFactory(video_name="City")

    body = admin_client.get(CHANGELIST, {"q": "surfers"}).content.decode()

    assert "Beach" in body
    assert "City" not in body


def test_job_list_links_to_cost_review_and_the_task_queue(admin_client):
    body = admin_client.get(CHANGELIST).content.decode()

    assert reverse("admin:videogen_cost_review") in body
    assert reverse("admin:django_q_failure_changelist") in body


def test_job_list_queries_do_not_grow_with_the_number_of_jobs(admin_client, django_assert_max_num_queries):
    VideoJobFactory.create_batch(15)

    with django_assert_max_num_queries(20):
        admin_client.get(CHANGELIST)


def test_job_page_shows_the_storyboard_images_through_signed_urls(admin_client, tmp_path):
    job = VideoJobFactory(status=JobStatus.STORYBOARD_COMPLETE)
    image = save_file(storyboard_image_name(job.pk, 1), media_files.png(tmp_path / "scene.png"))
    SceneFactory(job=job, number=1, description="Runner at dawn", status=SceneStatus.COMPLETED, image=image)

    body = admin_client.get(job_page(job)).content.decode()

    assert 'id="storyboard"' in body
    assert "Runner at dawn" in body
    storyboard = body[body.index('id="storyboard"'):]
    src = storyboard.split('<img src="', 1)[1].split('"', 1)[0]
    assert src.startswith("/media/signed/")
    served = admin_client.get(src)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"


def test_job_page_shows_each_scenes_caption_and_the_openings_of_the_other_variations(admin_client):
    job = VideoJobFactory(status=JobStatus.STORYBOARD_COMPLETE, number_of_variations=3)
    SceneFactory(job=job, number=1, caption="Meet the Aero", hook_variants=[
        {"caption": "Ever run at dawn?", "narration": ""}, {"caption": "The city is your track", "narration": ""}])
    SceneFactory(job=job, number=2, caption="Sprint downtown")

    body = admin_client.get(job_page(job)).content.decode()
    storyboard = body[body.index('id="storyboard"'):]

    assert "“Meet the Aero”" in storyboard and "“Sprint downtown”" in storyboard
    assert "v2: “Ever run at dawn?”" in storyboard and "v3: “The city is your track”" in storyboard


def test_job_page_shows_only_the_openings_of_variations_the_job_has(admin_client):
    job = VideoJobFactory(status=JobStatus.STORYBOARD_COMPLETE, number_of_variations=2)
    SceneFactory(job=job, number=1, caption="Meet the Aero", hook_variants=[
        {"caption": "Ever run at dawn?", "narration": ""}, {"caption": "The city is your track", "narration": ""}])

    body = admin_client.get(job_page(job)).content.decode()

    assert "v2: “Ever run at dawn?”" in body and "The city is your track" not in body


def test_job_page_shows_a_video_player_and_the_export_links(admin_client):
    job = VideoJobFactory(status=JobStatus.COMPLETED)
    base = f"videos/{job.pk}"
    VariationFactory(
        job=job, index=1, status=VariationStatus.COMPLETED, video=store(f"{base}/final.mp4", b"mp4"),
        gif=store(f"{base}/final.gif", b"gif"), webm=store(f"{base}/final.webm", b"webm"),
        thumbnail=store(f"{base}/thumbnail.jpg", b"jpg"),
    )

    body = admin_client.get(job_page(job)).content.decode()

    assert '<video controls preload="metadata" src="/media/signed/' in body
    for label in (">MP4</a>", ">WebM</a>", ">GIF</a>", ">Thumbnail</a>"):
        assert label in body


def test_job_page_shows_export_errors_of_a_variation(admin_client):
    job = VideoJobFactory(status=JobStatus.COMPLETED)
    VariationFactory(job=job, index=1, status=VariationStatus.COMPLETED,
                     export_errors={"gif": "gif export failed: timeout", "upscale": ""})

    body = admin_client.get(job_page(job)).content.decode()

    assert "gif export failed: timeout" in body


def test_job_page_shows_the_timeline_predictions_and_cost_entries(admin_client):
    job = VideoJobFactory(status=JobStatus.FAILED)
    JobEventFactory(job=job, kind="status", from_status="generating_video", to_status="failed",
                    message="render failed")
    JobEventFactory(job=job, kind="provider_error", from_status="", to_status="", message="HTTP 502 from provider")
    prediction = PredictionFactory(job=job, external_id="rep-abc123", status="failed", attempt=2,
                                   error="model crashed", cost=Decimal("0.0030"))
    CostEntryFactory(job=job, prediction=prediction, amount=Decimal("0.0030"), description="scene 1 image")

    body = admin_client.get(job_page(job)).content.decode()

    timeline = body[body.index('id="timeline"'):body.index('id="predictions"')]
    assert "generating_video → failed" in timeline
    assert "HTTP 502 from provider" in timeline
    predictions = body[body.index('id="predictions"'):body.index('id="costs"')]
    for text in ("rep-abc123", "black-forest-labs/flux-schnell", "model crashed", ">2<"):
        assert text in predictions
    assert "scene 1 image" in body[body.index('id="costs"'):]


def test_timeline_details_read_as_key_value_lines_not_python_syntax(admin_client):
    job = VideoJobFactory(status=JobStatus.FAILED)
    JobEventFactory(job=job, kind="exports_rerun", message="variation 1: re-exported gif",
                    data={"variation": 1, "formats": ["gif", "webm"], "failed": [], "by": "ops:ana"})

    body = admin_client.get(job_page(job)).content.decode()

    timeline = body[body.index('id="timeline"'):body.index('id="predictions"')]
    for line in ("variation: 1", "formats: gif, webm", "failed: —", "by: ops:ana"):
        assert line in timeline
    assert "{" not in timeline.split("<pre", 1)[1].split("</pre>", 1)[0]


def test_job_page_is_read_only(admin_client):
    job = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)

    response = admin_client.post(job_page(job), {"status": "completed"})

    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.GENERATING_VIDEO


def test_job_page_offers_only_the_actions_that_apply(admin_client):
    running = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)
    finished = VideoJobFactory(status=JobStatus.COMPLETED)

    running_body = admin_client.get(job_page(running)).content.decode()
    finished_body = admin_client.get(job_page(finished)).content.decode()

    assert 'data-action="cancel_jobs"' in running_body
    assert 'data-action="mark_failed"' in running_body
    assert 'data-action="cancel_jobs"' not in finished_body
    assert 'data-action="mark_failed"' not in finished_body


def test_jobs_cannot_be_added_or_deleted_in_admin(admin_client):
    job = VideoJobFactory()

    assert admin_client.get(reverse("admin:videogen_videojob_add")).status_code == 403
    assert admin_client.get(reverse("admin:videogen_videojob_delete", args=[job.pk])).status_code == 403


def test_non_staff_user_is_sent_to_the_admin_login(client):
    user = UserFactory()
    client.force_login(user)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_job_permission_cannot_open_the_console(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)

    assert client.get(CHANGELIST).status_code == 403


def test_staff_with_view_permission_sees_the_job_page_without_action_buttons(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_videojob"))
    client.force_login(staff)
    job = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)

    response = client.get(job_page(job))

    assert response.status_code == 200
    assert 'data-action="cancel_jobs"' not in response.content.decode()
