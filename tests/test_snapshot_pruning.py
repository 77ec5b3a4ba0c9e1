"""Status snapshots are kept for replays for EVENTS_SNAPSHOT_RETENTION_HOURS, then pruned daily."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from tests.factories import VideoJobFactory
from videogen.live import snapshots
from videogen.models import JobStatusSnapshot

pytestmark = pytest.mark.django_db


def snapshot(job, version: int, hours_old: float) -> JobStatusSnapshot:
    row = JobStatusSnapshot.objects.create(job=job, version=version, status=job.status, document="{}")
    JobStatusSnapshot.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(hours=hours_old))
    return row


def test_snapshots_older_than_the_retention_are_deleted_and_recent_ones_kept(settings):
    settings.EVENTS_SNAPSHOT_RETENTION_HOURS = 24
    job = VideoJobFactory()
    snapshot(job, 1, hours_old=30)
    snapshot(job, 2, hours_old=25)
    kept = snapshot(job, 3, hours_old=2)

    assert snapshots.prune_snapshots() == 2
    assert list(JobStatusSnapshot.objects.values_list("pk", flat=True)) == [kept.pk]


def test_pruning_deletes_in_batches_until_nothing_old_is_left(settings, monkeypatch):
    settings.EVENTS_SNAPSHOT_RETENTION_HOURS = 1
    monkeypatch.setattr(snapshots, "PRUNE_BATCH", 2)
    job = VideoJobFactory()
    for version in range(1, 6):
        snapshot(job, version, hours_old=3)

    assert snapshots.prune_snapshots() == 5
    assert not JobStatusSnapshot.objects.exists()


def test_migrate_creates_the_daily_prune_schedule():
    schedule = Schedule.objects.get(func="videogen.live.snapshots.prune_snapshots")

    assert (schedule.schedule_type, schedule.repeats) == (Schedule.DAILY, -1)
