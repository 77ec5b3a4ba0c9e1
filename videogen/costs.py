"""Money spent: the actual-cost ledger and the daily budget (all Decimal, all UTC). Prices: videogen.pricing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from videogen import metrics
from videogen.models import BudgetSettings, CostEntry, VideoJob
from videogen.pricing import VARIANCE_ALERT_RATIO

logger = logging.getLogger(__name__)

# --- Ledger -----------------------------------------------------------------------------------


def record_cost(*, job: VideoJob, kind: str, amount: Decimal, prediction: Any = None, description: str = "") -> bool:
    """Books one paid provider result. A prediction is booked at most once (unique ledger row).

    Returns True when a new entry was written. The job's `actual_cost` is kept as a running sum
    with an F() update so concurrent variations never lose an addition.
    """
    if amount <= 0:
        return False
    try:
        with transaction.atomic():
            CostEntry.objects.create(
                job=job,
                client_id=job.client_id,
                campaign_id=job.campaign_id,
                prediction=prediction,
                kind=kind,
                amount=amount,
                description=description[:200],
            )
            VideoJob.objects.filter(pk=job.pk).update(actual_cost=F("actual_cost") + amount)
    except IntegrityError:
        return False  # already booked by an earlier run of the same task
    job.refresh_from_db(fields=["actual_cost", "estimated_cost"])
    _warn_on_overrun(job)
    metrics.COST_ACTUAL_DOLLARS.labels(kind=kind).inc(float(amount))
    return True


def _warn_on_overrun(job: VideoJob) -> None:
    if job.estimated_cost and job.actual_cost > job.estimated_cost * VARIANCE_ALERT_RATIO:
        logger.warning(
            "cost_overrun job_id=%s actual=%s estimate=%s", job.pk, job.actual_cost, job.estimated_cost
        )


# --- Daily budget -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetStatus:
    spent_today: Decimal
    soft_limit: Decimal
    hard_limit: Decimal
    resets_at: datetime

    @property
    def soft_exceeded(self) -> bool:
        return self.spent_today >= self.soft_limit

    @property
    def hard_exceeded(self) -> bool:
        return self.spent_today >= self.hard_limit

    @property
    def seconds_until_reset(self) -> int:
        return max(1, int((self.resets_at - timezone.now()).total_seconds()) + 1)


def budget_limits() -> tuple[Decimal, Decimal]:
    """Admin overrides (BudgetSettings) win over the environment's DAILY_BUDGET_SOFT/HARD."""
    override = BudgetSettings.objects.order_by("-updated_at").first()
    soft = override.daily_soft_limit if override and override.daily_soft_limit is not None else None
    hard = override.daily_hard_limit if override and override.daily_hard_limit is not None else None
    return (
        soft if soft is not None else settings.DAILY_BUDGET_SOFT,
        hard if hard is not None else settings.DAILY_BUDGET_HARD,
    )


def day_bounds(day) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def spent_between(start: datetime, end: datetime) -> Decimal:
    total = CostEntry.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(total=Sum("amount"))
    return total["total"] or Decimal("0")


def client_spent_today(client_id: Any) -> Decimal:
    """What one client's jobs have booked since midnight UTC."""
    start, end = day_bounds(timezone.now().date())
    total = CostEntry.objects.filter(client_id=client_id, created_at__gte=start, created_at__lt=end).aggregate(
        total=Sum("amount")
    )
    return total["total"] or Decimal("0")


def budget_status() -> BudgetStatus:
    start, end = day_bounds(timezone.now().date())
    soft, hard = budget_limits()
    return BudgetStatus(spent_today=spent_between(start, end), soft_limit=soft, hard_limit=hard, resets_at=end)
