"""What is drawn over the generated pictures: captions, the logo corner mark, the product shot.

Each overlay is a small RGBA image plus where it goes, so FFmpeg composites it once per frame
without decoding a full-frame picture. Everything stays inside the platform's safe zone
(:mod:`videogen.media.layout`), so no like button or progress bar covers the copy.

No Django imports.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps, UnidentifiedImageError

from .frames import _luminance, parse_palette, wrap_text
from .layout import Box, caption_font

__all__ = [
    "Overlay",
    "caption_band",
    "caption_colours",
    "composite_product",
    "fit_words",
    "product_box",
    "render_caption",
    "render_logo_mark",
]

log = logging.getLogger(__name__)

#: Share of the safe zone's height, at its bottom, reserved for captions.
CAPTION_BAND = 0.30
CAPTION_MAX_LINES = 3
LOGO_SHARE = 0.13  # logo mark width as a share of the frame's short side


@dataclass(frozen=True)
class Overlay:
    """An RGBA PNG to place with its top-left corner at ``(x, y)``."""

    path: str
    x: int
    y: int
    width: int
    height: int

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.x + self.width, self.y + self.height)


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def caption_colours(palette: list[str], variant: int = 0) -> tuple[tuple[int, int, int], tuple[int, int, int],
                                                                   tuple[int, int, int]]:
    """(plate, ink, accent) from the brand palette, text contrast always >= 4.5:1 (WCAG AA).

    Variation 1 sets light brand ink on the darkest brand colour; further variations take the brand's
    most colourful tone, then its lightest, as the plate (with dark ink) where that still reads, so
    each cut of the ad looks like its own.
    """
    colours = parse_palette(palette)
    darkest = min(colours, key=_luminance)
    lightest = max(colours, key=_luminance)
    accent = max(colours, key=lambda c: max(c) - min(c))
    dark = darkest if _luminance(darkest) < 0.2 else (16, 18, 28)
    light = lightest if _contrast(lightest, dark) >= 4.5 else (255, 255, 255)
    styles = [(dark, light)]
    for plate in (accent, lightest):
        if plate != dark and _contrast(plate, dark) >= 4.5 and (plate, dark) not in styles:
            styles.append((plate, dark))
    plate, ink = styles[variant % len(styles)]
    edge = accent if plate != accent else dark
    return plate, ink, edge


def fit_words(text: str, max_width: float, px: int, min_px: int, max_lines: int) -> tuple[object, list[str], int]:
    """Wraps ``text`` at word boundaries only, shrinking the font until the longest word fits.

    A word is split only if it is wider than the box at ``min_px`` (a 40-letter name); URLs such as
    ``northwind.example.com`` stay whole on one line.
    """
    words = (text or "").split()
    flat = " ".join(words)
    while True:
        font = caption_font(px)
        widest = max((font.getlength(word) for word in words), default=0)
        # At min_px a word still wider than the box is split (wrap_text) rather than overflow.
        lines = wrap_text(flat, font, max_width)
        if (widest <= max_width and len(lines) <= max_lines) or px <= min_px:
            break
        px = max(min_px, int(px * 0.92))
    return font, lines[:max_lines], px


def caption_band(zone: Box) -> Box:
    """The bottom part of the safe zone where captions sit."""
    return Box(zone.x0, zone.y1 - round(zone.height * CAPTION_BAND), zone.x1, zone.y1)


def render_caption(
    text: str, out_path: str | os.PathLike[str], *, size: tuple[int, int], zone: Box, palette: list[str],
    variant: int = 0,
) -> Overlay | None:
    """Draws one caption on a rounded brand-colour plate, bottom-centred in the safe zone's caption band.

    Returns None for empty text. The plate is opaque enough (92 %) to read over any picture, the ink
    has >= 4.5:1 contrast against it, and an accent bar in the brand's most colourful tone marks it.
    """
    text = " ".join((text or "").split())
    if not text:
        return None
    w, h = size
    short = min(w, h)
    band = caption_band(zone)
    pad_x, pad_y = round(short * 0.035), round(short * 0.022)
    accent_w = max(4, round(short * 0.012))
    shadow = max(2, round(short * 0.008))
    max_text_w = band.width - 2 * pad_x - accent_w - 2 * shadow
    start_px, min_px = round(short * 0.068), max(12, round(short * 0.03))
    while True:  # shrink until the wrapped caption also fits the band's height (square frames are short)
        font, lines, px = fit_words(text, max_text_w, start_px, min_px, CAPTION_MAX_LINES)
        line_h = round(px * 1.18)
        if len(lines) * line_h + 2 * pad_y + 2 * shadow <= band.height or px <= min_px:
            break
        start_px = max(min_px, int(start_px * 0.9))
    text_w = max(font.getlength(line) for line in lines)
    plate_w = min(band.width - 2 * shadow, round(text_w + 2 * pad_x + accent_w))
    plate_h = len(lines) * line_h + 2 * pad_y
    plate, ink, accent = caption_colours(palette, variant)

    image = Image.new("RGBA", (plate_w + 2 * shadow, plate_h + 2 * shadow), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    radius = round(px * 0.35)
    draw.rounded_rectangle((shadow, shadow * 2, plate_w + shadow, plate_h + shadow * 2), radius=radius,
                           fill=(0, 0, 0, 70))
    draw.rounded_rectangle((0, 0, plate_w, plate_h), radius=radius, fill=(*plate, 235))
    draw.rounded_rectangle((0, 0, accent_w + radius, plate_h), radius=radius, fill=(*accent, 255))
    draw.rectangle((accent_w, 0, accent_w + radius, plate_h), fill=(*plate, 235))
    y = pad_y + line_h / 2
    centre_x = accent_w + (plate_w - accent_w) / 2
    for line in lines:
        draw.text((centre_x, y), line, font=font, fill=(*ink, 255), anchor="mm")
        y += line_h
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    image.save(out_path, "PNG")
    x = band.x0 + (band.width - image.width) // 2
    y0 = band.y1 - image.height
    return Overlay(str(out_path), x, y0, image.width, image.height)


def render_logo_mark(
    logo_path: str | os.PathLike[str], out_path: str | os.PathLike[str], *, size: tuple[int, int], zone: Box
) -> Overlay | None:
    """The brand logo as a small mark in the safe zone's top-left corner (None if unreadable)."""
    short = min(size)
    try:
        with Image.open(logo_path) as source:
            logo = ImageOps.exif_transpose(source).convert("RGBA")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        log.warning("logo %s skipped: %s", logo_path, exc)
        return None
    target = round(short * LOGO_SHARE)
    logo.thumbnail((target, target), Image.Resampling.LANCZOS)
    faded = logo.copy()
    faded.putalpha(logo.getchannel("A").point(lambda a: a * 92 // 100))
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    faded.save(out_path, "PNG")
    return Overlay(str(out_path), zone.x0, zone.y0, faded.width, faded.height)


def product_box(zone: Box) -> Box:
    """Where a product shot goes: the safe zone above the caption band, with breathing room."""
    band = caption_band(zone)
    area = Box(zone.x0, zone.y0, zone.x1, band.y0)
    margin_x, margin_y = round(area.width * 0.12), round(area.height * 0.12)
    return Box(area.x0 + margin_x, area.y0 + margin_y, area.x1 - margin_x, area.y1 - margin_y)


def composite_product(
    frame_path: str | os.PathLike[str], product_path: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
    zone_for_size, size: tuple[int, int] | None = None,
) -> Box:
    """Places the product image over a scene frame: scaled, centred in the safe zone, soft shadow.

    ``zone_for_size(size)`` gives the safe zone for the frame's own size (generated frames are not
    always the output size). A cut-out PNG keeps its outline; a photo gets rounded corners. Returns
    the product's box on the frame. Raises OSError/UnidentifiedImageError for unreadable images.
    """
    with Image.open(frame_path) as source:
        frame = ImageOps.exif_transpose(source).convert("RGBA")
    if size is not None and frame.size != tuple(size):
        frame = ImageOps.fit(frame, tuple(size), Image.Resampling.LANCZOS)
    with Image.open(product_path) as source:
        product = ImageOps.exif_transpose(source).convert("RGBA")
    box = product_box(zone_for_size(frame.size))
    product.thumbnail((box.width, box.height), Image.Resampling.LANCZOS)
    if product.getchannel("A").getextrema()[0] == 255:  # opaque photo: round its corners
        mask = Image.new("L", product.size, 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, *product.size), radius=round(min(product.size) * 0.06),
                                               fill=255)
        product.putalpha(mask)
    x = box.x0 + (box.width - product.width) // 2
    y = box.y0 + (box.height - product.height) // 2
    short = min(frame.size)
    blur = max(2, round(short * 0.02))
    offset = max(2, round(short * 0.012))
    shadow = Image.new("RGBA", frame.size, (0, 0, 0, 0))
    alpha = product.getchannel("A").point(lambda a: a * 150 // 255)
    shadow.paste(Image.new("RGBA", product.size, (0, 0, 0, 255)), (x + offset, y + offset * 2), alpha)
    shadow = shadow.filter(ImageFilter.GaussianBlur(blur))
    frame = Image.alpha_composite(frame, shadow)
    frame.alpha_composite(product, (x, y))
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    frame.convert("RGB").save(out_path, "PNG")
    return Box(x, y, x + product.width, y + product.height)
