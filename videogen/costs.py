"""Money: the PRD 5.3 estimate, the actual-cost ledger and the daily budget (all Decimal, all UTC)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
STORYBOARD_IMAGE_PRICE = Decimal("0.003")  # flux-schnell, per image
HD_IMAGE_PRICE = Decimal("0.055")  # flux-pro, per image
VIDEO_PRICE_PER_SECOND = Decimal("0.10")
UPSCALE_PRICE = Decimal("0.25")  # per video (PRD: "Optional quality boost")
VARIANCE_ALERT_RATIO = Decimal("1.2")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def scene_count_for(duration: int) -> int:
    """PRD 5.3 heuristic: one scene per ~6 s, at least 3."""
    return max(3, duration // 6)


def image_price(style_presets: list[str]) -> Decimal:
    return HD_IMAGE_PRICE if "hd" in _normalised(style_presets) else STORYBOARD_IMAGE_PRICE


def wants_upscale(style_presets: list[str]) -> bool:
    return "upscale" in _normalised(style_presets)


def _normalised(style_presets: list[str]) -> set[str]:
    return {preset.strip().lower() for preset in style_presets}


@dataclass(frozen=True)
class CostEstimate:
    storyboard: Decimal
    video: Decimal
    upscale: Decimal

    @property
    def total(self) -> Decimal:
        return to_cents(self.storyboard + self.video + self.upscale)

    def as_dict(self) -> dict[str, str]:
        """Cents, as strings in JSON storage (Decimal-safe); the API renders them as numbers."""
        return {
            "storyboard": str(to_cents(self.storyboard)),
            "video": str(to_cents(self.video)),
            "upscale": str(to_cents(self.upscale)),
            "total": str(self.total),
        }


def estimate_cost(*, duration: int, number_of_variations: int, style_presets: list[str]) -> CostEstimate:
    """Exactly PRD 5.3: scenes x image price + $0.10/s x duration x variations + $0.25 if upscaled."""
    storyboard = scene_count_for(duration) * image_price(style_presets)
    video = VIDEO_PRICE_PER_SECOND * duration * number_of_variations
    upscale = UPSCALE_PRICE if wants_upscale(style_presets) else Decimal("0")
    return CostEstimate(storyboard=storyboard, video=video, upscale=upscale)


# --- Ledger -----------------------------------------------------------------------------------


def record_cost(*, job, kind: str, amount: Decimal, prediction=None, description: str = "") -> bool:
    """Books one paid provider result. A prediction is booked at most once (unique ledger row).

    Returns True when a new entry was written. The job's `actual_cost` is kept as a running sum
    with an F() update so concurrent variations never lose an addition.
    """
    from videogen.models import CostEntry, VideoJob

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
    from videogen import metrics

    metrics.COST_ACTUAL_DOLLARS.labels(kind=kind).inc(float(amount))
    return True


def _warn_on_overrun(job) -> None:
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
    from videogen.models import BudgetSettings

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
    from videogen.models import CostEntry

    total = CostEntry.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(total=Sum("amount"))
    return total["total"] or Decimal("0")


def budget_status() -> BudgetStatus:
    start, end = day_bounds(timezone.now().date())
    soft, hard = budget_limits()
    return BudgetStatus(spent_today=spent_between(start, end), soft_limit=soft, hard_limit=hard, resets_at=end)
