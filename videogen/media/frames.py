"""Frame sizes per platform and offline "storyboard images" drawn with Pillow.

The offline (``local``) provider needs a storyboard image per scene without any model:
:func:`render_storyboard_frame` composes one from the brand palette, the scene number,
title and description. It must stay legible on a phone at 9:16 and on a laptop at 16:9,
so font sizes scale with the frame's short side and text sits on a contrasting panel.

No Django imports: pure functions, testable alone.
"""

from __future__ import annotations

import math
import os
import random
import re
import uuid
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = [
    "ASPECT_SIZES",
    "DEFAULT_PALETTE",
    "parse_palette",
    "platform_frame_size",
    "render_storyboard_frame",
    "storyboard_font_sizes",
    "wrap_text",
]

#: Output frame size per aspect ratio, long side 1920 (1080p deliverables).
ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "4:5": (1080, 1350),
    "16:9": (1920, 1080),
}

#: Aspect used when the caller passes an empty aspect ratio.
PLATFORM_DEFAULT_ASPECT: dict[str, str] = {
    "tiktok": "9:16",
    "meta": "4:5",
    "youtube": "16:9",
    "custom": "16:9",
}

#: Used when a client has no (valid) brand palette: deep blue, violet, amber, teal.
DEFAULT_PALETTE: tuple[str, ...] = ("#1E3A8A", "#7C3AED", "#F59E0B", "#0EA5E9", "#10B981")

_HEX_RE = re.compile(r"^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def platform_frame_size(platform: str, aspect_ratio: str) -> tuple[int, int]:
    """Pixel size ``(width, height)`` of the final video for a platform and aspect ratio.

    TikTok is always vertical 1080x1920 (it only accepts 9:16 for ads). Meta, custom and
    YouTube follow the requested aspect (YouTube 9:16 means Shorts). An empty aspect falls
    back to the platform default; an unknown aspect (or platform) raises ``ValueError``
    so bad input is rejected rather than silently letterboxed.
    """
    plat = (platform or "").strip().lower()
    if plat not in PLATFORM_DEFAULT_ASPECT:
        raise ValueError(f"unknown platform {platform!r}")
    aspect = (aspect_ratio or "").strip().replace("/", ":") or PLATFORM_DEFAULT_ASPECT[plat]
    if aspect not in ASPECT_SIZES:
        raise ValueError(f"unknown aspect ratio {aspect_ratio!r}; expected one of {', '.join(ASPECT_SIZES)}")
    if plat == "tiktok":
        return ASPECT_SIZES["9:16"]
    return ASPECT_SIZES[aspect]


def parse_palette(palette: list[str] | tuple[str, ...] | None) -> list[tuple[int, int, int]]:
    """Brand hex colours as RGB tuples; invalid entries are skipped.

    Falls back to :data:`DEFAULT_PALETTE` when fewer than two valid colours remain, because
    a one-colour gradient looks like a rendering bug.
    """
    colours: list[tuple[int, int, int]] = []
    for raw in palette or ():
        if not isinstance(raw, str) or not _HEX_RE.match(raw.strip()):
            continue
        h = raw.strip().lstrip("#")
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        colours.append((int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)))
    if len(colours) < 2:
        defaults = [(int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in DEFAULT_PALETTE]
        colours += [c for c in defaults if c not in colours]
    return colours


def _luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance, to pick readable text colours."""

    def chan(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * chan(r) + 0.7152 * chan(g) + 0.0722 * chan(b)


def storyboard_font_sizes(size: tuple[int, int]) -> dict[str, int]:
    """Font pixel sizes used for a frame of ``size``.

    Scaled on the short side so text is equally legible at 9:16 and 16:9: on a 1080 px
    short side the description is ~49 px (~4.5 %), i.e. comfortably readable on a phone.
    """
    short = min(size)
    return {
        "label": max(10, round(short * 0.034)),
        "title": max(14, round(short * 0.068)),
        "body": max(12, round(short * 0.045)),
        "brand": max(10, round(short * 0.036)),
    }


def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Scalable TrueType font bundled with Pillow >= 10.1 (no system fonts needed)."""
    return ImageFont.load_default(size=px)


def wrap_text(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float) -> list[str]:
    """Greedy word wrap by measured pixel width; over-long words are hard-split."""
    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        words = paragraph.split()
        if not words:
            continue
        line = ""
        for word in words:
            while font.getlength(word) > max_width and len(word) > 1:
                # Hard-split a word wider than the panel (URLs, long product names).
                cut = len(word)
                while cut > 1 and font.getlength(word[:cut]) > max_width:
                    cut -= 1
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:cut])
                word = word[cut:]
            candidate = f"{line} {word}".strip()
            if font.getlength(candidate) <= max_width:
                line = candidate
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
    return lines


def _fit_lines(
    text: str, px: int, max_width: float, max_height: float, min_px: int, spacing: float = 1.25
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, list[str], int]:
    """Shrink the font (not below ``min_px``) until the wrapped text fits; then ellipsize."""
    while True:
        font = _font(px)
        lines = wrap_text(text, font, max_width)
        line_h = round(px * spacing)
        if len(lines) * line_h <= max_height or px <= min_px:
            break
        px = max(min_px, int(px * 0.9))
    max_lines = max(1, int(max_height // line_h))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "…") > max_width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return font, lines, line_h


def _gradient(size: tuple[int, int], c1: tuple[int, int, int], c2: tuple[int, int, int], angle: float) -> Image.Image:
    """Linear gradient c1 -> c2 along ``angle`` (radians), built small and upscaled (fast)."""
    w, h = size
    sw, sh = max(2, w // 8), max(2, h // 8)
    dx, dy = math.cos(angle), math.sin(angle)
    span = abs(dx) * sw + abs(dy) * sh or 1.0
    x0 = (sw if dx < 0 else 0) * dx + (sh if dy < 0 else 0) * dy
    data = []
    for y in range(sh):
        for x in range(sw):
            t = min(1.0, max(0.0, (x * dx + y * dy - x0) / span))
            data.append(tuple(round(a + (b - a) * t) for a, b in zip(c1, c2, strict=True)))
    small = Image.new("RGB", (sw, sh))
    small.putdata(data)
    return small.resize((w, h), Image.Resampling.BICUBIC)


def _save_image(img: Image.Image, out_path: str | os.PathLike[str]) -> None:
    """Save by extension (JPEG for .jpg/.jpeg, else PNG/WebP) atomically."""
    final = Path(out_path)
    final.parent.mkdir(parents=True, exist_ok=True)
    ext = final.suffix.lower()
    tmp = final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.part{final.suffix}")
    try:
        if ext in (".jpg", ".jpeg"):
            img.convert("RGB").save(tmp, "JPEG", quality=90, optimize=True)
        elif ext == ".webp":
            img.save(tmp, "WEBP", quality=90)
        else:
            img.save(tmp, "PNG", optimize=False)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def _background(size: tuple[int, int], colours: list[tuple[int, int, int]], rng: random.Random) -> Image.Image:
    """Gradient from two palette colours plus soft translucent shapes in the others."""
    w, h = size
    c1, c2 = rng.sample(colours, 2)
    img = _gradient(size, c1, c2, rng.uniform(0, 2 * math.pi)).convert("RGBA")
    short = min(w, h)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(rng.randint(5, 9)):
        colour = rng.choice(colours)
        alpha = rng.randint(50, 120)
        cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
        r = rng.uniform(0.12, 0.45) * short
        kind = rng.random()
        if kind < 0.5:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*colour, alpha))
        elif kind < 0.8:
            draw.rounded_rectangle((cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), radius=r * 0.2, fill=(*colour, alpha))
        else:
            pts = [
                (cx + r * math.cos(a), cy + r * math.sin(a)) for a in (rng.uniform(0, 2 * math.pi) for _ in range(3))
            ]
            draw.polygon(pts, fill=(*colour, alpha))
    # Blur in premultiplied alpha, else transparent-black pixels bleed a dark halo into edges.
    blur = ImageFilter.GaussianBlur(radius=max(1, short // 120))
    layer = layer.convert("RGBa").filter(blur).convert("RGBA")
    return Image.alpha_composite(img, layer)


def render_storyboard_frame(
    out_path: str | os.PathLike[str],
    *,
    size: tuple[int, int],
    scene_number: int,
    title: str,
    description: str,
    palette: list[str],
    brand_name: str = "",
    seed: int = 0,
    notes: bool = True,
) -> None:
    """Draw an offline storyboard image for one scene and save it (PNG/JPEG by extension).

    ``notes=False`` draws the picture alone (no "SCENE N" card, no description, no brand line):
    that is what the offline provider hands the pipeline, because the finished video must show
    ad copy, never production notes (the review UI shows descriptions beside the images).

    Used by the ``local`` provider and as the "text-only" fallback when image
    generation fails. The background (gradient angle, colour pair, shapes, panel position)
    comes from ``random.Random`` seeded with ``seed`` and the scene number, so the same
    inputs give byte-identical files and a different seed gives a visibly different
    composition. Text sits on a dark translucent panel with white text (contrast >= 7:1
    whatever the palette), at sizes from :func:`storyboard_font_sizes`.
    """
    w, h = int(size[0]), int(size[1])
    if w < 64 or h < 64:
        raise ValueError(f"frame size too small: {w}x{h}")
    rng = random.Random(f"storyboard:{seed}:{scene_number}")
    colours = parse_palette(palette)
    img = _background((w, h), colours, rng)
    if not notes:
        _save_image(img.convert("RGB"), out_path)
        return

    sizes = storyboard_font_sizes((w, h))
    short = min(w, h)
    # Safe margins: clips (see clips.py) crop up to ~6 % of the width (pans) and ~4.5 %
    # of the height (zooms) from the edges, so the text must stay inside these.
    mx, my = round(w * 0.08), round(h * 0.06)
    pad = round(short * 0.045)
    portrait = h > w

    # Panel geometry: full width minus margins on portrait/square, ~62 % on landscape.
    panel_w = w - 2 * mx if portrait or w == h else round(w * 0.62)
    text_w = panel_w - 2 * pad
    label_font = _font(sizes["label"])
    title_font, title_lines, title_lh = _fit_lines(
        title.strip() or f"Scene {scene_number}",
        sizes["title"],
        text_w,
        sizes["title"] * 1.2 * 2,
        max(12, sizes["title"] * 2 // 3),
        spacing=1.15,
    )
    max_body_h = h * (0.30 if portrait else 0.34)
    body_font, body_lines, body_lh = _fit_lines(
        description.strip(), sizes["body"], text_w, max_body_h, max(12, sizes["body"] * 3 // 4)
    )
    # Label pill: the brand colour that stands out most against the dark panel.
    accent = max(colours, key=_luminance)
    if _luminance(accent) < 0.12:
        accent = (255, 255, 255)
    label_h = round(sizes["label"] * 1.6)
    gap = round(short * 0.02)
    panel_h = pad * 2 + label_h + gap + len(title_lines) * title_lh
    if body_lines:
        panel_h += gap + len(body_lines) * body_lh

    # Position varies with the seed: bottom, middle or top (portrait); left/right (landscape).
    if portrait or w == h:
        x0 = mx
        slot = rng.choice(("bottom", "bottom", "middle", "top"))
        top_reserved = my + round(sizes["brand"] * 1.8) if brand_name else my
        y0 = {
            "bottom": h - my - panel_h,
            "middle": (h - panel_h) // 2,
            "top": top_reserved,
        }[slot]
    else:
        x0 = rng.choice((mx, w - mx - panel_w))
        y0 = h - my - panel_h
    y0 = max(my, min(y0, h - my - panel_h))

    overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    od = ImageDraw.Draw(overlay)
    od.rounded_rectangle((x0, y0, x0 + panel_w, y0 + panel_h), radius=round(short * 0.03), fill=(12, 14, 22, 205))
    img = Image.alpha_composite(img, overlay)
    draw = ImageDraw.Draw(img)

    # "SCENE 3" pill in the accent colour, text colour chosen for contrast.
    label = f"SCENE {scene_number}"
    lx, ly = x0 + pad, y0 + pad
    lw = label_font.getlength(label) + sizes["label"] * 1.2
    pill_text = (0, 0, 0) if _luminance(accent) > 0.35 else (255, 255, 255)
    draw.rounded_rectangle((lx, ly, lx + lw, ly + label_h), radius=label_h // 2, fill=accent)
    draw.text((lx + lw / 2, ly + label_h / 2), label, font=label_font, fill=pill_text, anchor="mm")

    y = ly + label_h + gap
    stroke = max(1, sizes["title"] // 40)  # faux-bold: the bundled font has one weight
    for line in title_lines:
        draw.text(
            (x0 + pad, y), line, font=title_font, fill=(255, 255, 255), stroke_width=stroke, stroke_fill=(255, 255, 255)
        )
        y += title_lh
    if body_lines:
        y += gap
        for line in body_lines:
            draw.text((x0 + pad, y), line, font=body_font, fill=(236, 238, 245))
            y += body_lh

    if brand_name.strip():
        bf = _font(sizes["brand"])
        draw.text(
            (mx, my),
            brand_name.strip().upper(),
            font=bf,
            fill=(255, 255, 255),
            stroke_width=max(1, sizes["brand"] // 12),
            stroke_fill=(0, 0, 0),
        )

    _save_image(img.convert("RGB"), out_path)
