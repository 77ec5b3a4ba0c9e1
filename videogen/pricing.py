"""Prices and the estimate: what work costs before and after it is done (pure Decimal arithmetic).

The estimate a job shows when it is created: scenes x image price + $0.10 per generated second of
video per variation + $0.25 when upscaled + the voiceover's TTS calls; $0 with the offline provider
(with the Replicate figure beside it). The ledger of what was actually paid, and the daily
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
# One voiceover line on Replicate's kokoro-82m (billed by GPU time; a short line runs ~2 s on a T4).
VOICEOVER_LINE_PRICE = Decimal("0.002")
# One scene plan from the LLM planner (Llama 3 8B instruct on Replicate: $0.05 per million input
# tokens, $0.25 per million output tokens). A plan is ~1.5k tokens in and at most 2k out (~$0.0006):
# booked as a flat $0.001 per call, rounded up so the ledger never under-reports.
PLANNER_PRICE = Decimal("0.001")
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
    """What a job will cost with the provider that runs it; `replicate_equivalent` is the same work on
    Replicate (equal to the total when Replicate is the provider, the figure to compare the free
    offline provider against)."""

    storyboard: Decimal
    video: Decimal
    upscale: Decimal
    voiceover: Decimal = Decimal("0")
    replicate_equivalent: Decimal | None = None

    @property
    def total(self) -> Decimal:
        return to_cents(self.storyboard + self.video + self.upscale + self.voiceover)

    def as_dict(self) -> dict[str, str]:
        """Cents, as strings in JSON storage (Decimal-safe); the API renders them as numbers."""
        equivalent = self.total if self.replicate_equivalent is None else to_cents(self.replicate_equivalent)
        return {
            "storyboard": str(to_cents(self.storyboard)),
            "video": str(to_cents(self.video)),
            "upscale": str(to_cents(self.upscale)),
            "voiceover": str(to_cents(self.voiceover)),
            "total": str(self.total),
            "replicateEquivalent": str(equivalent),
        }


def estimate_cost(
    *, duration: int, number_of_variations: int, style_presets: list[str], voiceover: bool = False,
    provider: str = "replicate", video_seconds: Decimal | float | None = None,
) -> CostEstimate:
    """Prices per unit of work: scenes x image price + $0.10 per generated second x variations + $0.25
    if upscaled, plus one TTS call per voiceover line (a line per scene and the CTA) per variation.

    `video_seconds` is what one variation asks the video model for (the render's clips: see
    videogen.media.timeline.generated_seconds); `duration` when not given. With the offline `local`
    provider everything is free: the estimate is $0 and the Replicate figure is kept beside it as
    `replicate_equivalent`.
    """
    storyboard = scene_count_for(duration) * image_price(style_presets)
    seconds = Decimal(str(duration if video_seconds is None else video_seconds))
    video = VIDEO_PRICE_PER_SECOND * seconds * number_of_variations
    upscale = UPSCALE_PRICE if wants_upscale(style_presets) else Decimal("0")
    lines = (scene_count_for(duration) + 1) * number_of_variations if voiceover else 0
    on_replicate = CostEstimate(storyboard=storyboard, video=video, upscale=upscale,
                                voiceover=VOICEOVER_LINE_PRICE * lines)
    if provider == "local":
        zero = Decimal("0")
        return CostEstimate(zero, zero, zero, zero, replicate_equivalent=on_replicate.total)
    return on_replicate
