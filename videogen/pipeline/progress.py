"""Progress arithmetic: storyboard fills 0-50 %, render 50-100 %; time remaining from the pace so far."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

PARSED_PERCENT = 10
STORYBOARD_DONE_PERCENT = 50


def storyboard_percentage(done: int, total: int) -> int:
    if total <= 0:
        return PARSED_PERCENT
    return PARSED_PERCENT + (STORYBOARD_DONE_PERCENT - PARSED_PERCENT) * done // total


def render_percentage(variation_percentages: list[int]) -> int:
    if not variation_percentages:
        return STORYBOARD_DONE_PERCENT
    mean = sum(variation_percentages) / len(variation_percentages)
    return STORYBOARD_DONE_PERCENT + int(mean * (100 - STORYBOARD_DONE_PERCENT) / 100)


def time_remaining(started_at: datetime | None, fraction_done: float, *, fallback: int) -> int:
    """Seconds left, extrapolated from the elapsed time of this phase; `fallback` before any progress."""
    if started_at is None or fraction_done <= 0.02:
        return fallback
    elapsed = (timezone.now() - started_at).total_seconds()
    return max(0, int(elapsed * (1 - fraction_done) / fraction_done))
