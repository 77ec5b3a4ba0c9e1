"""Prices and the estimate: what work costs before and after it is done (pure Decimal arithmetic).

The estimate a job shows when it is created is exactly: scenes x image price + $0.10 per second
of video per variation + $0.25 when upscaled. The ledger of what was actually paid, and the daily
budget, are in videogen/costs.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
STORYBOARD_IMAGE_PRICE = Decimal("0.003")  # flux-schnell, per image
HD_IMAGE_PRICE = Decimal("0.055")  # flux-pro, per image
VIDEO_PRICE_PER_SECOND = Decimal("0.10")
UPSCALE_PRICE = Decimal("0.25")  # per video (the optional quality boost)
#: Actual cost above estimate x this ratio is an overrun: logged, flagged in the console and reports.
VARIANCE_ALERT_RATIO = Decimal("1.2")


def to_cents(amount: Decimal) -> Decimal:
    """Rounded to the cent, half-up: how every amount is shown, in the API and in the console."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | str | None, *, missing: str = "—") -> str:
    """$1,234.56 (cents, half-up like the API); `missing` for no amount."""
    if amount is None or amount == "":
        return missing
    return f"${to_cents(Decimal(amount)):,.2f}"


def scene_count_for(duration: int) -> int:
    """One scene per ~6 s, at least 3."""
    return max(3, duration // 6)


def image_price(style_presets: list[str]) -> Decimal:
    return HD_IMAGE_PRICE if "hd" in _normalised(style_presets) else STORYBOARD_IMAGE_PRICE


def wants_upscale(style_presets: list[str]) -> bool:
    return "upscale" in _normalised(style_presets)


def _normalised(style_presets: list[str]) -> set[str]:
    return {preset.strip().lower() for preset in style_presets}


def clip_price(seconds: float) -> Decimal:
    """A generated clip, by its length (to the hundredth of a cent, as the ledger books it)."""
    return (VIDEO_PRICE_PER_SECOND * Decimal(str(seconds))).quantize(Decimal("0.0001"))


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
    """scenes x image price + $0.10/s x duration x variations + $0.25 if upscaled."""
    storyboard = scene_count_for(duration) * image_price(style_presets)
    video = VIDEO_PRICE_PER_SECOND * duration * number_of_variations
    upscale = UPSCALE_PRICE if wants_upscale(style_presets) else Decimal("0")
    return CostEstimate(storyboard=storyboard, video=video, upscale=upscale)
