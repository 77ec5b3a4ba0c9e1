"""Where on-screen copy may go: platform safe zones, the shipped caption font, end-card timing.

Platforms draw their own UI over an ad: TikTok and Reels put the caption, the account name and
the music ticker over the bottom ~20 % and the like/comment/share column over the right ~15 %;
YouTube's progress bar and title sit along the bottom. Text and product shots must stay inside
the rest. One table, one place to change when a platform moves its buttons.

No Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from PIL import ImageFont

__all__ = [
    "END_CARD_MIN_SECONDS",
    "SAFE_ZONES",
    "Box",
    "caption_font",
    "end_card_seconds",
    "safe_zone",
]

#: Margins per (platform, aspect) as fractions of the frame: (top, right, bottom, left).
#: Vertical feeds (TikTok, Reels, Shorts) lose the bottom fifth and the right-hand button column.
SAFE_ZONES: dict[tuple[str, str], tuple[float, float, float, float]] = {
    ("tiktok", "9:16"): (0.10, 0.15, 0.20, 0.06),
    ("meta", "9:16"): (0.14, 0.15, 0.20, 0.06),  # Reels / Stories: profile bar on top too
    ("meta", "4:5"): (0.06, 0.06, 0.10, 0.06),  # feed: the post's buttons sit below the video
    ("meta", "1:1"): (0.06, 0.06, 0.10, 0.06),
    ("meta", "16:9"): (0.06, 0.06, 0.10, 0.06),
    ("youtube", "9:16"): (0.10, 0.15, 0.20, 0.06),  # Shorts
    ("youtube", "16:9"): (0.06, 0.06, 0.14, 0.06),  # progress bar, title and skip button
    ("youtube", "1:1"): (0.06, 0.06, 0.12, 0.06),
    ("youtube", "4:5"): (0.06, 0.06, 0.12, 0.06),
}
#: Any other combination keeps to the broadcast title-safe margin.
DEFAULT_SAFE_MARGINS = (0.06, 0.06, 0.08, 0.06)

#: The end card is on screen at least this long: a CTA needs ~2 s to be read.
END_CARD_MIN_SECONDS = 2.0
END_CARD_MAX_SECONDS = 3.0

#: The caption typeface: Manrope (SIL OFL 1.1, shipped in the pinned `font-manrope` wheel).
CAPTION_FONT = ("font_manrope", "files/Manrope-ExtraBold.ttf")


@dataclass(frozen=True)
class Box:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def contains(self, other: Box) -> bool:
        return self.x0 <= other.x0 and self.y0 <= other.y0 and other.x1 <= self.x1 and other.y1 <= self.y1


def safe_zone(platform: str, aspect_ratio: str, size: tuple[int, int]) -> Box:
    """The part of a ``size`` frame that no platform UI covers, for ``platform`` at ``aspect_ratio``."""
    top, right, bottom, left = SAFE_ZONES.get(
        ((platform or "").lower(), (aspect_ratio or "").replace("/", ":")), DEFAULT_SAFE_MARGINS
    )
    w, h = size
    return Box(round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))


def end_card_seconds(total_seconds: float) -> float:
    """How long the end card holds: 2 s for 15 s, 2.5 s for 30 s, 3 s for 60 s (a twelfth, clamped)."""
    return round(min(END_CARD_MAX_SECONDS, max(END_CARD_MIN_SECONDS, total_seconds / 12)), 2)


@lru_cache(maxsize=64)
def caption_font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The shipped bold caption font at ``px`` pixels; Pillow's own font if the wheel is missing."""
    try:
        path = resources.files(CAPTION_FONT[0]).joinpath(CAPTION_FONT[1])
        with resources.as_file(path) as font_file:
            return ImageFont.truetype(str(font_file), px)
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return ImageFont.load_default(size=px)
