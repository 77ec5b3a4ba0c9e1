"""Stuck jobs: `manage.py cleanup_stalled_jobs` (15 min -> stalled, stalled > 1 h -> failed,
--dry-run changes nothing) and the hourly django-q2 schedule the data migration creates once."""

from __future__ import annotations

import importlib
import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from tests.factories import VideoJobFactory
from videogen.models import JobStatus, VideoJob

pytestmark = pytest.mark.django_db


def job_untouched_for(minutes: float, status=JobStatus.GENERATING_STORYBOARD, **fields) -> VideoJob:
    job = VideoJobFactory(status=status, **fields)
    VideoJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes))
    return job


def cleanup(*args: str) -> str:
    out = io.StringIO()
    call_command("cleanup_stalled_jobs", *args, stdout=out)
    return out.getvalue()


def status_of(job: VideoJob) -> str:
    return VideoJob.objects.get(pk=job.pk).status


@pytest.mark.parametrize("status", [JobStatus.GENERATING_STORYBOARD, JobStatus.GENERATING_VIDEO])
def test_a_generating_job_untouched_for_15_minutes_becomes_stalled(status):
    job = job_untouched_for(16, status=status)

    output = cleanup()

    assert status_of(job) == JobStatus.STALLED
    assert f"marked 1 job(s) stalled (no progress for 15 min): {job.pk}" in output
    assert "Refine" in VideoJob.objects.get(pk=job.pk).error


def test_a_job_with_recent_progress_is_left_alone():
    job = job_untouched_for(14)

    cleanup()

    assert status_of(job) == JobStatus.GENERATING_STORYBOARD


def test_finished_jobs_are_never_marked_however_old():
    job = job_untouched_for(600, status=JobStatus.STORYBOARD_COMPLETE)

    cleanup()

    assert status_of(job) == JobStatus.STORYBOARD_COMPLETE


def test_a_job_stalled_for_over_an_hour_becomes_failed():
    job = job_untouched_for(61, status=JobStatus.STALLED)

    output = cleanup()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Refine" in job.error
    assert f"marked 1 job(s) failed (stalled over 60 min): {job.pk}" in output


def test_a_job_stalled_for_less_than_an_hour_stays_stalled():
    job = job_untouched_for(59, status=JobStatus.STALLED)

    cleanup()

    assert status_of(job) == JobStatus.STALLED


def test_dry_run_lists_what_it_would_mark_and_changes_nothing():
    stuck = job_untouched_for(16)
    long_stalled = job_untouched_for(61, status=JobStatus.STALLED)

    output = cleanup("--dry-run")

    assert (status_of(stuck), status_of(long_stalled)) == (JobStatus.GENERATING_STORYBOARD, JobStatus.STALLED)
    assert f"would mark 1 job(s) stalled (no progress for 15 min): {stuck.pk}" in output
    assert f"would mark 1 job(s) failed (stalled over 60 min): {long_stalled.pk}" in output


def test_with_nothing_stuck_it_says_so():
    assert cleanup().splitlines() == [
        "marked 0 job(s) stalled (no progress for 15 min): none",
        "marked 0 job(s) failed (stalled over 60 min): none",
    ]


def test_a_stalled_job_can_be_retried_with_refine(api, tenant, tasks):
    job = job_untouched_for(16, campaign=tenant.campaign, created_by=tenant.owner)
    cleanup()

    response = api.post(f"/api/v2/jobs/{job.pk}/refine", {}, format="json")

    assert response.status_code == 202
    assert status_of(job) == JobStatus.GENERATING_STORYBOARD


# --- The hourly schedule ------------------------------------------------------------------------

MIGRATION = importlib.import_module("videogen.migrations.0002_shared_cache_and_schedules")


def test_the_migration_created_the_hourly_cleanup_schedule_exactly_once():
    schedules = Schedule.objects.filter(name="cleanup_stalled_jobs")

    assert schedules.count() == 1
    schedule = schedules.get()
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "videogen.pipeline.tasks.cleanup_stalled_jobs_task", Schedule.HOURLY, -1
    )


def test_running_the_schedule_migration_again_keeps_one_of_each():
    MIGRATION.create_schedules(apps, None)
    MIGRATION.create_schedules(apps, None)

    for name in ("cleanup_stalled_jobs", "requeue_expired_jobs"):
        assert Schedule.objects.filter(name=name).count() == 1


def test_the_scheduled_task_runs_the_cleanup():
    from videogen.pipeline.tasks import cleanup_stalled_jobs_task

    job = job_untouched_for(16)

    assert cleanup_stalled_jobs_task() == {"stalled": [job.pk], "failed": []}
