"""What the task queue keeps: django-q2's result table holds schedules and failures, not every step.

Tasks run through django-q2's own worker and monitor (its `sync` mode; a failure is handed to the
monitor directly, since `sync` re-raises it), so the saving rules are django-q2's real ones.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import timezone
from django_q import tasks as django_q_tasks
from django_q.models import Task
from django_q.monitor import save_task
from django_q.signing import SignedPackage

from tests.factories import VideoJobFactory
from videogen.models import JobStatus
from videogen.pipeline import queue
from videogen.pipeline.tasks import BUILD_STORYBOARD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_pipeline_step_that_succeeds_leaves_no_task_result():
    job = VideoJobFactory(status=JobStatus.STORYBOARD_COMPLETE)  # the step finds nothing to do: "done"

    queue._dispatch(BUILD_STORYBOARD, job.pk, job.run, sync=True)

    assert not Task.objects.filter(func=BUILD_STORYBOARD).exists()


def test_a_pipeline_step_that_fails_is_kept_with_its_error(monkeypatch):
    """The package the dispatcher queues, finished as a failure and handed to django-q2's monitor."""
    queued = []
    monkeypatch.setattr(django_q_tasks, "get_broker", lambda *args: SimpleNamespace(
        enqueue=queued.append, list_key="test"))
    queue._dispatch(BUILD_STORYBOARD, 1, 1)
    task = SignedPackage.loads(queued[0])
    task.update(success=False, result="boom", stopped=timezone.now())

    save_task(task, broker=SimpleNamespace(acknowledge=lambda *args: None))

    failed = Task.objects.get(func=BUILD_STORYBOARD)
    assert (failed.success, failed.result) == (False, "boom")


def test_a_task_that_is_not_a_pipeline_step_keeps_its_success():
    queue._dispatch("videogen.pipeline.tasks.requeue_expired_jobs", sync=True)

    assert Task.objects.get(func="videogen.pipeline.tasks.requeue_expired_jobs").success is True
