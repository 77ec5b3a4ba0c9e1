"""Campaign analytics: one client's jobs, approvals, refinements and spend over a range of UTC days.

Read by `GET /api/v2/analytics` and the admin analytics page. Everything is computed by the
database (conditional counts, sums grouped by campaign/day/platform, a median), in a fixed
number of queries whatever the number of jobs; Python only divides the totals and fills in the
days without spend.

Definitions. The window is `from` 00:00 UTC up to (not including) the day after `to`, 00:00 UTC.
- jobs.started: jobs created in the window.
- jobs.completed / partiallyCompleted / failed / cancelled: jobs in that status now that reached it
  in the window (their `finished_at`). A job refined since then counts where it is now.
- approvalRate: storyboards approved / storyboards completed, over the jobs whose current storyboard
  was completed in the window; approved means the approve call or the implicit approval of /render.
  A refine replaces the storyboard, so each job counts once, with its latest storyboard.
- refinementsPerJob: refine requests (the timeline's `refine` entries, whenever made) on the jobs
  started in the window, divided by the number of those jobs. Ops retries from the admin are not refines.
- medianSecondsToApprove: the median of (approved_at - storyboard_completed_at) over the approved
  storyboards of approvalRate.
- avgCostPerVideo: a finished video is a completed variation of a job that finished (completed or
  partially completed) in the window; the cost of those jobs is everything the ledger booked for them,
  storyboard and failed variations included (what it took to get the videos), divided by their videos.
- costByCampaign: per campaign, what the ledger booked in the window (`cost`) and the finished videos
  (`videos`); campaigns with neither are left out; most spent first.
- costByDay: what the ledger booked on each UTC day of the window, every day listed.
- byPlatform: for each platform: jobs started in the window and what the ledger booked in the window
  for jobs on that platform. Every platform is listed.
Rates are null when their denominator is zero; money is Decimal dollars rounded half-up to cents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Aggregate, Count, DateField, FloatField, Func, Q, QuerySet, Sum

from campaigns.models import Campaign
from videogen.models import CostEntry, JobEvent, JobStatus, Platform, Variation, VariationStatus, VideoJob
from videogen.pricing import to_cents
from videogen.reports import utc_today, window

ZERO = Decimal("0")
DEFAULT_DAYS = 30
MAX_DAYS = 366
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
FINISHED_STATUSES = (JobStatus.COMPLETED, JobStatus.PARTIALLY_COMPLETED)


# --- Database expressions -------------------------------------------------------------------------


class SecondsBetween(Func):
    """`end - start` in seconds (float), computed by the database."""

    arity = 2
    output_field = FloatField()

    def __init__(self, end: str, start: str) -> None:
        super().__init__(end, start)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
                              arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # Django stores SQLite datetimes as UTC text; julianday() is SQLite's own (C) date arithmetic.
        return super().as_sql(compiler, connection, template="((julianday(%(expressions)s)) * 86400.0)",
                              arg_joiner=") - julianday(", **extra)


class UtcDate(Func):
    """The UTC calendar day of a timestamp. (Django's TruncDate calls a Python function per row on SQLite.)"""

    arity = 1
    output_field = DateField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return super().as_sql(compiler, connection, template="((%(expressions)s) AT TIME ZONE 'UTC')::date", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return super().as_sql(compiler, connection, template="date(%(expressions)s)", **extra)


class Median(Aggregate):
    """PostgreSQL's continuous median (the mean of the two middle values for an even count)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def median(queryset: QuerySet, expression: Func) -> float | None:
    """Median of `expression` over `queryset`, in the database.

    PostgreSQL has PERCENTILE_CONT. SQLite has no percentile aggregate, so there it is one COUNT and
    one ORDER BY ... LIMIT 2 OFFSET (n - 1) / 2 that fetches just the middle value(s).
    """
    queryset = queryset.order_by()
    if connections[queryset.db].vendor == "postgresql":
        return queryset.aggregate(value=Median(expression))["value"]
    count = queryset.count()
    if not count:
        return None
    ordered = queryset.annotate(value=expression).order_by("value").values_list("value", flat=True)
    middle = list(ordered[(count - 1) // 2: count // 2 + 1])
    return sum(middle) / len(middle)


# --- The report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobCounts:
    started: int
    completed: int
    partially_completed: int
    failed: int
    cancelled: int


@dataclass(frozen=True)
class CampaignCost:
    campaign_id: uuid.UUID
    name: str
    videos: int
    cost: Decimal


@dataclass(frozen=True)
class DayCost:
    date: date
    cost: Decimal


@dataclass(frozen=True)
class PlatformUsage:
    platform: str
    jobs: int
    cost: Decimal


@dataclass(frozen=True)
class Analytics:
    client_id: uuid.UUID
    campaign_id: uuid.UUID | None
    start: date
    end: date
    jobs: JobCounts
    approval_rate: float | None
    refinements_per_job: float | None
    median_seconds_to_approve: float | None
    avg_cost_per_video: Decimal | None
    videos: int
    spend: Decimal  # everything the ledger booked in the window (rounded once, not the sum of rounded days)
    cost_by_campaign: list[CampaignCost]
    cost_by_day: list[DayCost]
    by_platform: list[PlatformUsage]


def default_range(start: date | None = None, end: date | None = None) -> tuple[date, date]:
    """Missing `to` is today (UTC); missing `from` is 29 days before `to` (30 days, both included)."""
    end = end or utc_today()
    return start or end - timedelta(days=DEFAULT_DAYS - 1), end


def client_analytics(client_id: Any, start: date, end: date, campaign_id: Any = None) -> Analytics:
    """The analytics of one client (optionally one of its campaigns) for the UTC days start..end, inclusive."""
    since, until = window(start, end)
    jobs = VideoJob.objects.filter(client_id=client_id).order_by()
    ledger = CostEntry.objects.filter(client_id=client_id, created_at__gte=since, created_at__lt=until).order_by()
    if campaign_id is not None:
        jobs = jobs.filter(campaign_id=campaign_id)
        ledger = ledger.filter(campaign_id=campaign_id)

    def within(field: str) -> Q:
        return Q(**{f"{field}__gte": since, f"{field}__lt": until})

    started = jobs.filter(within("created_at"))
    finished = jobs.filter(within("finished_at"), status__in=FINISHED_STATUSES)
    storyboards = jobs.filter(within("storyboard_completed_at"))

    counts = _job_counts(jobs, within)
    videos_by_campaign = dict(
        Variation.objects.filter(job__in=finished.values("pk"), status=VariationStatus.COMPLETED)
        .order_by().values_list("job__campaign_id").annotate(n=Count("pk"))
    )
    videos = sum(videos_by_campaign.values())
    finished_cost = CostEntry.objects.filter(job__in=finished.values("pk")).aggregate(s=Sum("amount"))["s"] or ZERO
    refines = JobEvent.objects.filter(kind=JobEvent.REFINE, job__in=started.values("pk")).count()
    spend_by_day = dict(ledger.annotate(day=UtcDate("created_at")).values_list("day").annotate(cost=Sum("amount")))
    approvals = storyboards.filter(approved=True, approved_at__isnull=False)
    median_seconds = median(approvals, SecondsBetween("approved_at", "storyboard_completed_at"))

    return Analytics(
        client_id=client_id,
        campaign_id=campaign_id,
        start=start,
        end=end,
        jobs=counts["jobs"],
        approval_rate=_ratio(counts["approved"], counts["storyboards"]),
        refinements_per_job=_ratio(refines, counts["jobs"].started),
        median_seconds_to_approve=round(median_seconds, 1) if median_seconds is not None else None,
        avg_cost_per_video=to_cents(finished_cost / videos) if videos else None,
        videos=videos,
        spend=to_cents(sum(spend_by_day.values(), ZERO)),
        cost_by_campaign=_cost_by_campaign(ledger, videos_by_campaign),
        cost_by_day=_cost_by_day(spend_by_day, start, end),
        by_platform=_by_platform(ledger, started),
    )


def _job_counts(jobs: QuerySet, within: Any) -> dict[str, Any]:
    """One pass over the client's jobs touched by the window: outcome counts and storyboard approvals."""
    ended = within("finished_at")
    storyboard_done = within("storyboard_completed_at")
    row = jobs.filter(within("created_at") | ended | storyboard_done).aggregate(
        started=Count("pk", filter=within("created_at")),
        completed=Count("pk", filter=ended & Q(status=JobStatus.COMPLETED)),
        partially_completed=Count("pk", filter=ended & Q(status=JobStatus.PARTIALLY_COMPLETED)),
        failed=Count("pk", filter=ended & Q(status=JobStatus.FAILED)),
        cancelled=Count("pk", filter=ended & Q(status=JobStatus.CANCELLED)),
        storyboards=Count("pk", filter=storyboard_done),
        approved=Count("pk", filter=storyboard_done & Q(approved=True)),
    )
    return {
        "jobs": JobCounts(
            started=row["started"], completed=row["completed"], partially_completed=row["partially_completed"],
            failed=row["failed"], cancelled=row["cancelled"],
        ),
        "storyboards": row["storyboards"],
        "approved": row["approved"],
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _cost_by_campaign(ledger: QuerySet, videos_by_campaign: dict[Any, int]) -> list[CampaignCost]:
    spend = dict(ledger.values_list("campaign_id").annotate(cost=Sum("amount")))
    ids = set(spend) | set(videos_by_campaign)
    names = dict(Campaign.objects.filter(pk__in=ids).order_by().values_list("pk", "name"))
    rows = [
        CampaignCost(campaign_id=campaign_id, name=names.get(campaign_id, ""),
                     videos=videos_by_campaign.get(campaign_id, 0), cost=to_cents(spend.get(campaign_id, ZERO)))
        for campaign_id in ids
    ]
    return sorted(rows, key=lambda row: (-row.cost, -row.videos, row.name, str(row.campaign_id)))


def _cost_by_day(spend: dict[date, Decimal], start: date, end: date) -> list[DayCost]:
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [DayCost(date=day, cost=to_cents(spend.get(day, ZERO))) for day in days]


def _by_platform(ledger: QuerySet, started: QuerySet) -> list[PlatformUsage]:
    spend = dict(ledger.values_list("job__platform").annotate(cost=Sum("amount")))
    jobs = dict(started.values_list("platform").annotate(n=Count("pk")))
    return [
        PlatformUsage(platform=platform, jobs=jobs.get(platform, 0), cost=to_cents(spend.get(platform, ZERO)))
        for platform in Platform.values
    ]


def day_error(day: date) -> str | None:
    """Why `day` is not one we answer for, or None (keeps date arithmetic far from its limits)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        return f"Must be a date from {FIRST_DAY} to {LAST_DAY}."
    return None


def range_error(start: date, end: date) -> str | None:
    """Why start..end is not a range we answer for, or None."""
    if end < start:
        return "The range ends before it starts."
    if (end - start).days + 1 > MAX_DAYS:
        return f"The range may span at most {MAX_DAYS} days."
    return None

