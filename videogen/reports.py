"""Cost reporting: the daily report of total spend, average cost per video, cost by campaign and client.

Plain functions shared by the admin cost review page and `manage.py cost_report`. Money is
Decimal from the ledger (`CostEntry`), days are UTC days, ranges are inclusive of both ends.

Two different sums live here, on purpose:
- *spend* is what the ledger booked inside the window, whichever job it was for;
- a *finished video* is a job that completed (or partially completed) inside the window, and
  its cost is the job's whole `actual_cost` (its storyboard may have been paid the day before).
  Average cost per video and estimate vs actual are about finished videos.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Sum
from django.utils import timezone

from videogen import costs, metrics
from videogen.costs import BudgetStatus, day_bounds
from videogen.models import CostEntry, JobStatus, VideoJob
from videogen.pricing import VARIANCE_ALERT_RATIO, to_cents

ZERO = Decimal("0")
FINISHED_STATUSES = (JobStatus.COMPLETED, JobStatus.PARTIALLY_COMPLETED)


@dataclass
class ReportLine:
    """Spend and finished videos of one scope: everything, one client or one campaign."""

    key: str
    name: str
    client_name: str = ""
    spend: Decimal = ZERO
    videos_finished: int = 0
    finished_estimated: Decimal = ZERO
    finished_actual: Decimal = ZERO

    @property
    def average_cost_per_video(self) -> Decimal | None:
        if not self.videos_finished:
            return None
        return self.finished_actual / self.videos_finished

    @property
    def actual_to_estimate(self) -> Decimal | None:
        """actual / estimate of the finished videos (1.20 = 20 % over the estimate)."""
        if not self.finished_estimated:
            return None
        return (self.finished_actual / self.finished_estimated).quantize(Decimal("0.01"))

    @property
    def over_estimate(self) -> bool:
        ratio = self.actual_to_estimate
        return ratio is not None and ratio > VARIANCE_ALERT_RATIO

    def as_dict(self) -> dict[str, Any]:
        """Money in cents, as strings (Decimal-safe in JSON)."""
        average = self.average_cost_per_video
        ratio = self.actual_to_estimate
        return {
            "key": self.key,
            "name": self.name,
            "client": self.client_name,
            "spend": str(to_cents(self.spend)),
            "videos_finished": self.videos_finished,
            "average_cost_per_video": str(to_cents(average)) if average is not None else None,
            "estimated": str(to_cents(self.finished_estimated)),
            "actual": str(to_cents(self.finished_actual)),
            "actual_to_estimate": str(ratio) if ratio is not None else None,
        }


@dataclass
class CostReport:
    start: date
    end: date
    total: ReportLine
    by_client: list[ReportLine] = field(default_factory=list)
    by_campaign: list[ReportLine] = field(default_factory=list)
    over_estimate_jobs: list[VideoJob] = field(default_factory=list)

    @property
    def single_day(self) -> bool:
        return self.start == self.end

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "total": self.total.as_dict(),
            "by_campaign": [line.as_dict() for line in self.by_campaign],
            "by_client": [line.as_dict() for line in self.by_client],
        }


def utc_today() -> date:
    return timezone.now().astimezone(UTC).date()


def window(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after `end` 00:00 UTC)."""
    if end < start:
        raise ValueError("the range ends before it starts")
    return day_bounds(start)[0], day_bounds(end)[1]


def cost_report(start: date, end: date | None = None, *, overrun_limit: int = 20) -> CostReport:
    """Spend, finished videos and estimate vs actual for the UTC days `start`..`end` (inclusive)."""
    end = end or start
    since, until = window(start, end)
    ledger = CostEntry.objects.filter(created_at__gte=since, created_at__lt=until).order_by()
    finished = VideoJob.objects.filter(
        status__in=FINISHED_STATUSES, finished_at__gte=since, finished_at__lt=until
    ).order_by()

    total = ReportLine(key="total", name="All clients", spend=ledger.aggregate(s=Sum("amount"))["s"] or ZERO)
    _add_finished(total, finished.aggregate(n=Count("id"), est=Sum("estimated_cost"), act=Sum("actual_cost")))

    by_campaign: dict[Any, ReportLine] = {}
    by_client: dict[Any, ReportLine] = {}
    for row in ledger.values("campaign_id", "campaign__name", "client_id", "client__name").annotate(
        s=Sum("amount")
    ):
        _line(by_campaign, row["campaign_id"], row["campaign__name"], row["client__name"]).spend += row["s"]
        _line(by_client, row["client_id"], row["client__name"]).spend += row["s"]
    for row in finished.values("campaign_id", "campaign__name", "client_id", "client__name").annotate(
        n=Count("id"), est=Sum("estimated_cost"), act=Sum("actual_cost")
    ):
        _add_finished(_line(by_campaign, row["campaign_id"], row["campaign__name"], row["client__name"]), row)
        _add_finished(_line(by_client, row["client_id"], row["client__name"]), row)

    overruns = list(
        finished.filter(actual_cost__gt=F("estimated_cost") * VARIANCE_ALERT_RATIO)
        .select_related("client", "campaign")
        .order_by("-actual_cost")[:overrun_limit]
    )
    return CostReport(
        start=start, end=end, total=total, by_client=_ranked(by_client), by_campaign=_ranked(by_campaign),
        over_estimate_jobs=overruns,
    )


def _line(lines: dict[Any, ReportLine], key: Any, name: str, client_name: str = "") -> ReportLine:
    if key not in lines:
        lines[key] = ReportLine(key=str(key), name=name, client_name=client_name)
    return lines[key]


def _add_finished(line: ReportLine, row: dict[str, Any]) -> None:
    line.videos_finished += row["n"] or 0
    line.finished_estimated += row["est"] or ZERO
    line.finished_actual += row["act"] or ZERO


def _ranked(lines: dict[Any, ReportLine]) -> list[ReportLine]:
    return sorted(lines.values(), key=lambda line: (-line.spend, -line.videos_finished, line.name))


# --- Budget (soft/hard daily limits) -----------------------------------------------------------


@dataclass(frozen=True)
class BudgetAlert:
    level: str  # "hard" or "soft"
    status: BudgetStatus

    @property
    def limit(self) -> Decimal:
        return self.status.hard_limit if self.level == "hard" else self.status.soft_limit


def publish_budget_metrics(status: BudgetStatus | None = None) -> BudgetStatus:
    """Sets the budget gauges from today's (UTC) spend and limits; returns the status it used."""
    status = status or costs.budget_status()
    metrics.DAILY_SPEND_DOLLARS.set(float(status.spent_today))
    metrics.BUDGET_SOFT_LIMIT_EXCEEDED.set(1 if status.soft_exceeded else 0)
    metrics.BUDGET_HARD_LIMIT_EXCEEDED.set(1 if status.hard_exceeded else 0)
    return status


def budget_alert(status: BudgetStatus | None = None) -> BudgetAlert | None:
    """What the admin banner says: the hard limit, else the soft limit, if reached today."""
    status = publish_budget_metrics(status)
    if status.hard_exceeded:
        return BudgetAlert("hard", status)
    if status.soft_exceeded:
        return BudgetAlert("soft", status)
    return None
