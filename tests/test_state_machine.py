"""The job state machine: the only writer of status; illegal moves refused; progress only forward."""

from __future__ import annotations

import pytest

from tests.factories import VideoJobFactory
from videogen.models import JobEvent, JobStatus, VideoJob
from videogen.pipeline.state import ALLOWED_FROM, IllegalTransition, report_progress, transition

pytestmark = pytest.mark.django_db
S = JobStatus


def test_a_cancelled_job_never_becomes_completed():
    job = VideoJobFactory(status=S.CANCELLED)
    with pytest.raises(IllegalTransition):
        transition(job.pk, S.COMPLETED)
    assert VideoJob.objects.get(pk=job.pk).status == S.CANCELLED


@pytest.mark.parametrize(("current", "target"), [
    (current, target) for target, sources in ALLOWED_FROM.items() for current in S.values if current not in sources
])
def test_every_transition_outside_the_table_is_refused_and_leaves_no_trace(current, target):
    job = VideoJobFactory(status=current)
    with pytest.raises(IllegalTransition):
        transition(job.pk, target)
    assert VideoJob.objects.get(pk=job.pk).status == current
    assert not JobEvent.objects.filter(job=job).exists()


def test_a_legal_transition_writes_a_timeline_event():
    job = VideoJobFactory(status=S.GENERATING_STORYBOARD)
    transition(job.pk, S.STORYBOARD_COMPLETE, message="all scenes in")
    event = JobEvent.objects.get(job=job)
    assert (event.from_status, event.to_status, event.message) == ("generating_storyboard", "storyboard_complete",
                                                                   "all scenes in")


def test_a_transition_for_an_older_run_is_refused():
    job = VideoJobFactory(status=S.GENERATING_STORYBOARD, run=3)
    with pytest.raises(IllegalTransition):
        transition(job.pk, S.STORYBOARD_COMPLETE, expected_run=2)


def test_a_new_run_increments_the_run_number():
    job = VideoJobFactory(status=S.STORYBOARD_COMPLETE, run=1)
    assert transition(job.pk, S.GENERATING_STORYBOARD, new_run=True).run == 2


def test_finishing_sets_percentage_to_100_and_the_final_stage():
    job = VideoJobFactory(status=S.GENERATING_VIDEO, percentage=93)
    job = transition(job.pk, S.COMPLETED)
    assert (job.percentage, job.stage, job.estimated_time_remaining) == (100, "completed", 0)
    assert job.finished_at is not None


def test_progress_never_moves_backwards():
    job = VideoJobFactory(status=S.GENERATING_STORYBOARD, run=1)
    report_progress(job.pk, run=1, percentage=30)
    report_progress(job.pk, run=1, percentage=20, stage="generating_scene_2")
    job.refresh_from_db()
    assert job.percentage == 30
    assert job.stage == "generating_scene_2"


def test_progress_of_a_stale_run_or_finished_job_is_ignored():
    job = VideoJobFactory(status=S.GENERATING_STORYBOARD, run=2)
    assert report_progress(job.pk, run=1, percentage=40) is False
    VideoJob.objects.filter(pk=job.pk).update(status=S.CANCELLED)
    assert report_progress(job.pk, run=2, percentage=40) is False
    assert VideoJob.objects.get(pk=job.pk).percentage == 0
