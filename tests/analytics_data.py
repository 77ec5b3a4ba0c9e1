"""A hand-computed week of one client's jobs for the analytics tests (API and admin pages).

See tests/test_analytics_api.py for the table of jobs and the figures each test expects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.factories import CampaignFactory, CostEntryFactory, JobEventFactory, VariationFactory, VideoJobFactory
from videogen.models import CostEntry, JobEvent, JobStatus, VariationStatus, VideoJob

S = JobStatus
WEEK = {"from": "2026-03-01", "to": "2026-03-07"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_job(campaign, *, created, platform="tiktok", status=S.GENERATING_STORYBOARD, storyboard=None, approved=None,
             finished=None, videos=0, failed_videos=0, refines=0, ledger=()) -> VideoJob:
    """A job with its timestamps, variations, timeline refines and ledger rows set as given (UTC text)."""
    job = VideoJobFactory(campaign=campaign, platform=platform, status=status, approved=approved is not None,
                          number_of_variations=max(1, videos + failed_videos))
    VideoJob.objects.filter(pk=job.pk).update(
        created_at=utc(created), storyboard_completed_at=storyboard and utc(storyboard),
        approved_at=approved and utc(approved), finished_at=finished and utc(finished),
    )
    statuses = [VariationStatus.COMPLETED] * videos + [VariationStatus.FAILED] * failed_videos
    for index, variation_status in enumerate(statuses, start=1):
        VariationFactory(job=job, index=index, status=variation_status)
    for _ in range(refines):
        JobEventFactory(job=job, kind=JobEvent.REFINE, from_status=S.STORYBOARD_COMPLETE,
                        to_status=S.GENERATING_STORYBOARD)
    for when, amount in ledger:
        entry = CostEntryFactory(job=job, amount=Decimal(amount))
        CostEntry.objects.filter(pk=entry.pk).update(created_at=utc(when))
    return job


def build_week(tenant):
    """J1-J9 of the table in tests/test_analytics_api.py; returns the tenant, both campaigns and the stranger's."""
    spring = tenant.campaign
    spring.name = "Spring launch"
    spring.save()
    summer = CampaignFactory(client=tenant.client, name="Summer drop")
    make_job(spring, created="2026-03-01 00:00:00", storyboard="2026-03-01 00:10", approved="2026-03-01 00:12",
             finished="2026-03-01 01:00", status=S.COMPLETED, videos=2,
             ledger=[("2026-03-01 00:05", "0.025"), ("2026-03-01 00:40", "1.50"), ("2026-03-01 00:41", "1.50")])
    make_job(spring, created="2026-03-02 09:00", platform="meta", storyboard="2026-03-02 10:00",
             approved="2026-03-02 10:05", finished="2026-03-02 11:00", status=S.PARTIALLY_COMPLETED, videos=1,
             failed_videos=1,
             ledger=[("2026-03-02 10:00", "0.275"), ("2026-03-02 10:50", "3.00"), ("2026-03-02 10:55", "1.20")])
    make_job(summer, created="2026-03-03 08:00", platform="youtube", storyboard="2026-03-04 09:00",
             approved="2026-03-04 10:00", finished="2026-03-07 23:59:59", status=S.COMPLETED, videos=1, refines=2,
             ledger=[("2026-03-03 08:01", "0.009"), ("2026-03-04 08:59", "0.009"), ("2026-03-07 23:59:59", "6.00")])
    make_job(summer, created="2026-03-05 08:00", finished="2026-03-05 09:00", status=S.FAILED, refines=1,
             ledger=[("2026-03-05 08:30", "0.006")])
    cancelled = make_job(spring, created="2026-03-06 08:00", storyboard="2026-03-06 12:00",
                         finished="2026-03-06 13:00", status=S.CANCELLED, ledger=[("2026-03-06 08:01", "0.009")])
    JobEventFactory(job=cancelled, kind=JobEvent.RETRY)  # an ops retry is not a refinement
    make_job(spring, created="2026-03-06 09:00", platform="meta", storyboard="2026-03-06 10:00",
             status=S.STORYBOARD_COMPLETE, ledger=[("2026-03-06 09:30", "0.009")])
    make_job(spring, created="2026-02-28 23:59:59", storyboard="2026-02-28 23:59:59", finished="2026-03-01 00:30",
             status=S.COMPLETED, videos=1, refines=1,
             ledger=[("2026-02-28 23:59:59", "0.009"), ("2026-03-01 00:20", "1.50")])
    make_job(spring, created="2026-03-08 00:00:00", ledger=[("2026-03-08 00:00:00", "0.50")])
    stranger = CampaignFactory()
    make_job(stranger, created="2026-03-03 08:00", storyboard="2026-03-03 08:30", approved="2026-03-03 08:31",
             finished="2026-03-03 09:00", status=S.COMPLETED, videos=1, refines=1,
             ledger=[("2026-03-03 09:00", "9.99")])
    return type("Week", (), {"tenant": tenant, "spring": spring, "summer": summer, "stranger": stranger})
