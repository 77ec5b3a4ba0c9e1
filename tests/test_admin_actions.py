"""Ops actions on jobs: every change goes through services / the state machine, refusals are reported."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from tests import media_files
from tests.factories import SceneFactory, UserFactory, VariationFactory, VideoJobFactory
from videogen.models import JobEvent, JobStatus, SceneStatus, VariationStatus
from videogen.pipeline.tasks import BUILD_STORYBOARD, CANCEL_PREDICTIONS
from videogen.storage import output_name, save_file

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/videogen/videojob/"


@pytest.fixture
def queued(tasks):
    """What the code under test enqueued (after commit), as (func_path, *args); nothing reaches django-q."""

    class Queued:
        def __contains__(self, call: tuple) -> bool:
            return call in [(func, *args) for func, args, _ in tasks.queued]

        def __eq__(self, other: object) -> bool:
            return [(func, *args) for func, args, _ in tasks.queued] == other

    return Queued()


def run_action(client, action: str, jobs, **extra):
    data = {"action": action, "_selected_action": [job.pk for job in jobs], **extra}
    return client.post(CHANGELIST, data, follow=True)


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Cancel ---------------------------------------------------------------------------------------


def test_cancel_action_cancels_a_running_job_through_the_state_machine(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)

    response = run_action(admin_client, "cancel_jobs", [job])

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    event = JobEvent.objects.get(job=job, to_status=JobStatus.CANCELLED)
    assert event.from_status == JobStatus.GENERATING_VIDEO
    assert event.message == "cancelled by ops:admin"
    assert (CANCEL_PREDICTIONS, job.pk) in queued
    assert message_texts(response) == ["1 cancelled"]


def test_cancel_action_refuses_a_completed_job_with_a_message(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.COMPLETED)

    response = run_action(admin_client, "cancel_jobs", [job])

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert message_texts(response) == [f"0 cancelled; 1 skipped: job #{job.pk} is completed"]


def test_bulk_cancel_reports_how_many_were_cancelled_and_why_others_were_not(admin_client, queued):
    running = VideoJobFactory(status=JobStatus.GENERATING_STORYBOARD)
    stalled = VideoJobFactory(status=JobStatus.STALLED)
    done = VideoJobFactory(status=JobStatus.COMPLETED)

    response = run_action(admin_client, "cancel_jobs", [running, stalled, done])

    assert message_texts(response) == [f"2 cancelled; 1 skipped: job #{done.pk} is completed"]


def test_cancel_from_the_job_page_returns_to_the_job_page(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.STORYBOARD_COMPLETE)

    response = admin_client.post(CHANGELIST, {"action": "cancel_jobs", "_selected_action": [job.pk],
                                              "_from_change": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:videogen_videojob_change", args=[job.pk])


def test_staff_with_only_view_permission_cannot_run_actions(client, queued):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_videojob"))
    client.force_login(staff)
    job = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)

    run_action(client, "cancel_jobs", [job])

    job.refresh_from_db()
    assert job.status == JobStatus.GENERATING_VIDEO


def test_staff_with_change_permission_may_cancel(client, queued):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_videojob"))
    client.force_login(staff)
    job = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)

    run_action(client, "cancel_jobs", [job])

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


# --- Mark failed ------------------------------------------------------------------------------------


def test_mark_failed_first_asks_for_a_reason(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.GENERATING_VIDEO, video_name="Dawn run")

    response = admin_client.post(CHANGELIST, {"action": "mark_failed", "_selected_action": [job.pk]})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Reason" in body and 'name="reason"' in body
    assert "Dawn run" in body
    job.refresh_from_db()
    assert job.status == JobStatus.GENERATING_VIDEO


def test_mark_failed_with_a_reason_fails_the_job_with_that_error(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)
    VariationFactory(job=job, index=1, status=VariationStatus.RENDERING)
    reason = "The provider lost this render. Use Refine to try again."

    response = run_action(admin_client, "mark_failed", [job], apply="Mark failed", reason=reason)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == reason
    assert job.variations.get().status == VariationStatus.FAILED
    assert JobEvent.objects.filter(job=job, to_status=JobStatus.FAILED, message__contains=reason).exists()
    assert (CANCEL_PREDICTIONS, job.pk) in queued
    assert message_texts(response) == ["1 marked failed"]


def test_mark_failed_without_a_reason_shows_the_form_again(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.STALLED)

    response = admin_client.post(CHANGELIST, {"action": "mark_failed", "_selected_action": [job.pk],
                                              "apply": "Mark failed", "reason": "  "})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.STALLED


def test_mark_failed_is_refused_where_the_state_machine_forbids_it(admin_client, queued):
    stalled = VideoJobFactory(status=JobStatus.STALLED)
    finished = VideoJobFactory(status=JobStatus.COMPLETED)

    response = run_action(admin_client, "mark_failed", [stalled, finished], apply="Mark failed",
                          reason="Stuck for hours.")

    stalled.refresh_from_db()
    finished.refresh_from_db()
    assert stalled.status == JobStatus.FAILED
    assert finished.status == JobStatus.COMPLETED
    assert message_texts(response) == [
        f"1 marked failed; 1 skipped: job #{finished.pk} is completed "
        "(only generating or stalled jobs can be marked failed)"
    ]


def test_mark_failed_page_lists_the_jobs_it_will_skip(admin_client, queued):
    finished = VideoJobFactory(status=JobStatus.CANCELLED, video_name="Old cancelled")

    body = admin_client.post(CHANGELIST, {"action": "mark_failed", "_selected_action": [finished.pk]}).content.decode()

    assert "these will be skipped" in body
    assert "Old cancelled" in body


# --- Retry --------------------------------------------------------------------------------------------


def test_retry_restarts_a_failed_job_as_a_refine_with_no_changes(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.FAILED, creative_prompt="Keep this prompt exactly")

    response = run_action(admin_client, "retry_jobs", [job])

    job.refresh_from_db()
    assert job.status == JobStatus.GENERATING_STORYBOARD
    assert job.creative_prompt == "Keep this prompt exactly"
    assert (BUILD_STORYBOARD, job.pk, job.run) in queued
    assert message_texts(response) == ["1 retried"]


def test_retry_regenerates_only_the_scenes_without_an_image(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.STALLED)
    kept = SceneFactory(job=job, number=1, status=SceneStatus.COMPLETED, image="storyboards/x/scene_1.png")
    missing = SceneFactory(job=job, number=2, status=SceneStatus.FAILED, error="provider error")

    run_action(admin_client, "retry_jobs", [job])

    kept.refresh_from_db()
    missing.refresh_from_db()
    assert kept.status == SceneStatus.COMPLETED
    assert missing.status == SceneStatus.PENDING


def test_retry_skips_a_running_job(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)

    response = run_action(admin_client, "retry_jobs", [job])

    job.refresh_from_db()
    assert job.status == JobStatus.GENERATING_VIDEO
    assert message_texts(response) == [
        f"0 retried; 1 skipped: job #{job.pk} is generating_video (only stopped or finished jobs can be retried)"
    ]


def test_retry_is_refused_when_the_daily_hard_limit_is_reached(admin_client, queued, settings):
    from tests.factories import CostEntryFactory

    settings.DAILY_BUDGET_SOFT = Decimal("1")
    settings.DAILY_BUDGET_HARD = Decimal("2")
    CostEntryFactory(amount=Decimal("2.00"))
    job = VideoJobFactory(status=JobStatus.FAILED)

    response = run_action(admin_client, "retry_jobs", [job])

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    [text] = message_texts(response)
    assert text.startswith(f"0 retried; 1 skipped: job #{job.pk} was not retried: Today's spending limit")


# --- Re-run failed exports ------------------------------------------------------------------------------


def test_rerun_failed_exports_queues_the_export_task(admin_client, queued):
    job = VideoJobFactory(status=JobStatus.COMPLETED)
    VariationFactory(job=job, index=1, status=VariationStatus.COMPLETED, video=f"videos/{job.pk}/final.mp4",
                     export_errors={"gif": "gif export failed: timed out"})

    response = run_action(admin_client, "rerun_failed_exports", [job])

    assert ("videogen.ops.rerun_failed_exports", job.pk) in queued
    assert message_texts(response) == ["1 queued for re-export"]


def test_rerun_failed_exports_skips_jobs_without_failed_exports(admin_client, queued):
    clean = VideoJobFactory(status=JobStatus.COMPLETED)
    VariationFactory(job=clean, index=1, status=VariationStatus.COMPLETED, video=f"videos/{clean.pk}/final.mp4",
                     export_errors={"upscale": ""})
    running = VideoJobFactory(status=JobStatus.GENERATING_VIDEO)

    response = run_action(admin_client, "rerun_failed_exports", [clean, running])

    assert queued == []
    assert message_texts(response) == [
        f"0 queued for re-export; 2 skipped: job #{clean.pk} has no failed exports; "
        f"job #{running.pk} is generating_video (only finished jobs have exports)"
    ]


# --- The re-export task itself (real FFmpeg on a tiny MP4) ------------------------------------------


@pytest.fixture
def finished_job_missing_exports(tmp_path):
    job = VideoJobFactory(status=JobStatus.COMPLETED, export_formats=["mp4", "gif"])
    video = save_file(output_name(job.pk, 1, "mp4"), media_files.mp4(tmp_path / "final.mp4"))
    variation = VariationFactory(
        job=job, index=1, status=VariationStatus.COMPLETED, video=video,
        export_errors={"gif": "gif export failed: timed out", "thumbnail": "thumbnail export failed", "upscale": ""},
    )
    return job, variation


def test_rerun_failed_exports_makes_the_missing_files_and_clears_their_errors(finished_job_missing_exports):
    from django.core.files.storage import default_storage

    from videogen import ops

    job, variation = finished_job_missing_exports

    outcome = ops.rerun_failed_exports(job.pk)

    assert outcome == {1: {"gif": "ok", "thumbnail": "ok"}}
    variation.refresh_from_db()
    assert variation.gif.name == f"videos/{job.pk}/final.gif"
    assert variation.thumbnail.name == f"videos/{job.pk}/thumbnail.jpg"
    assert default_storage.open(variation.gif.name).read(6) == b"GIF89a"
    assert variation.export_errors == {"upscale": ""}
    assert JobEvent.objects.filter(job=job, kind="exports_rerun").exists()


def test_rerun_failed_exports_twice_has_nothing_to_do_the_second_time(finished_job_missing_exports):
    from videogen import ops

    job, _ = finished_job_missing_exports
    ops.rerun_failed_exports(job.pk)

    assert ops.rerun_failed_exports(job.pk) == {}


def test_rerun_failed_exports_keeps_the_error_when_the_export_fails_again(finished_job_missing_exports, monkeypatch):
    from videogen import ops
    from videogen.media.ffmpeg import MediaError
    from videogen.pipeline import exports

    def broken(*args, **kwargs):
        raise MediaError("encoder crashed")

    monkeypatch.setitem(exports.EXPORTERS, "gif", broken)
    job, variation = finished_job_missing_exports

    outcome = ops.rerun_failed_exports(job.pk)

    assert outcome[1]["gif"] == "gif export failed: encoder crashed"
    assert outcome[1]["thumbnail"] == "ok"
    variation.refresh_from_db()
    assert variation.export_errors["gif"] == "gif export failed: encoder crashed"
    assert not variation.gif
