"""Platform frame sizes and offline storyboard images."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_testutil import mean_abs_diff
from PIL import Image

from videogen.media.frames import (
    _font,
    parse_palette,
    platform_frame_size,
    render_storyboard_frame,
    storyboard_font_sizes,
    wrap_text,
)

DESCRIPTION = (
    "A runner laces up bright orange shoes on a rooftop at sunrise while the skyline glows; "
    "close-up on the logo, then she sprints towards the camera."
)


def _render(path: Path, *, size: tuple[int, int] = (360, 640), seed: int = 0, description: str = DESCRIPTION) -> Path:
    render_storyboard_frame(
        path,
        size=size,
        scene_number=3,
        title="Own the morning",
        description=description,
        palette=["#0F172A", "#F97316", "#22D3EE"],
        brand_name="Stride",
        seed=seed,
    )
    return path


@pytest.mark.parametrize(
    ("platform", "aspect", "expected"),
    [
        ("tiktok", "9:16", (1080, 1920)),
        ("tiktok", "16:9", (1080, 1920)),  # TikTok ads are always vertical
        ("tiktok", "", (1080, 1920)),
        ("meta", "4:5", (1080, 1350)),
        ("meta", "1:1", (1080, 1080)),
        ("meta", "9:16", (1080, 1920)),
        ("meta", "16:9", (1920, 1080)),
        ("meta", "", (1080, 1350)),
        ("youtube", "16:9", (1920, 1080)),
        ("youtube", "9:16", (1080, 1920)),  # Shorts
        ("youtube", "", (1920, 1080)),
        ("custom", "9:16", (1080, 1920)),
        ("custom", "1:1", (1080, 1080)),
        ("custom", "4:5", (1080, 1350)),
        ("custom", "16:9", (1920, 1080)),
    ],
)
def test_platform_frame_size_table(platform: str, aspect: str, expected: tuple[int, int]) -> None:
    assert platform_frame_size(platform, aspect) == expected


@pytest.mark.parametrize(("platform", "aspect"), [("tiktok", "3:2"), ("meta", "21:9"), ("snapchat", "9:16")])
def test_platform_frame_size_rejects_unknown_values(platform: str, aspect: str) -> None:
    with pytest.raises(ValueError):
        platform_frame_size(platform, aspect)


def test_storyboard_frame_has_requested_size_and_format(tmp_path: Path) -> None:
    for name, fmt in (("a.png", "PNG"), ("a.jpg", "JPEG")):
        out = _render(tmp_path / name, size=(360, 640))
        with Image.open(out) as im:
            assert im.format == fmt
            assert im.size == (360, 640)


def test_storyboard_same_inputs_and_seed_give_identical_bytes(tmp_path: Path) -> None:
    a = _render(tmp_path / "a.png", seed=7)
    b = _render(tmp_path / "b.png", seed=7)
    assert a.read_bytes() == b.read_bytes()


def test_storyboard_different_seed_gives_visibly_different_composition(tmp_path: Path) -> None:
    with Image.open(_render(tmp_path / "a.png", seed=1)) as a, Image.open(_render(tmp_path / "b.png", seed=2)) as b:
        assert mean_abs_diff(a.convert("RGB"), b.convert("RGB")) > 12  # not just noise


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080), (1080, 1350), (320, 568)])
def test_storyboard_text_size_is_legible_at_every_aspect(size: tuple[int, int]) -> None:
    sizes = storyboard_font_sizes(size)
    short = min(size)
    # Body text >= 4 % of the short side (~43 px on a 1080 px phone-width frame), title larger.
    assert sizes["body"] >= 0.04 * short and sizes["body"] >= 12
    assert sizes["title"] > sizes["body"]


def test_storyboard_description_is_drawn_in_high_contrast(tmp_path: Path) -> None:
    with_text = Image.open(_render(tmp_path / "t.png", seed=4)).convert("L")
    without = Image.open(_render(tmp_path / "n.png", seed=4, description="")).convert("L")
    # The description adds near-white glyph pixels on the dark panel.
    bright = sum(with_text.histogram()[221:])
    bright_without = sum(without.histogram()[221:])
    assert bright > bright_without + 500


def test_storyboard_long_description_wraps_inside_the_frame(tmp_path: Path) -> None:
    font = _font(storyboard_font_sizes((1080, 1920))["body"])
    lines = wrap_text(DESCRIPTION * 3 + " supercalifragilisticexpialidocious" * 4, font, 800)
    assert len(lines) > 3
    assert all(font.getlength(line) <= 800 for line in lines)
    _render(tmp_path / "long.png", size=(1080, 1920), description=DESCRIPTION * 10)  # no overflow error


def test_parse_palette_skips_invalid_colours_and_falls_back() -> None:
    assert parse_palette(["#ff0000", "#00F", "nope", "#12345"]) == [(255, 0, 0), (0, 0, 255)]
    fallback = parse_palette([])
    assert len(fallback) >= 2
    assert parse_palette(["#ff0000"])[0] == (255, 0, 0) and len(parse_palette(["#ff0000"])) >= 2
