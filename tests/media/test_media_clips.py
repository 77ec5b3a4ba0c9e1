"""Still image -> Ken-Burns clip: measured duration, size, codec, motion."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_testutil import SMALL, frame_at, mean_abs_diff
from PIL import Image

from tests import media_files
from videogen.media.clips import MOTIONS, image_to_clip
from videogen.media.ffmpeg import MediaError, probe
from videogen.media.frames import render_storyboard_frame


@pytest.fixture(scope="module")
def storyboard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clips") / "scene.png"
    render_storyboard_frame(
        out,
        size=(640, 360),
        scene_number=1,
        title="Hello",
        description="A test scene",
        palette=["#112233", "#FFAA00", "#22CC88"],
        seed=3,
    )
    return out


def test_clip_has_exact_duration_size_and_codec(tmp_path: Path, storyboard: Path) -> None:
    out = tmp_path / "clip.mp4"
    image_to_clip(storyboard, out, duration=2.0, size=SMALL, fps=24)
    info = probe(out)
    assert (info.width, info.height) == SMALL
    assert info.frame_count == 48
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.video_codec == "h264"
    assert info.has_audio is False


def test_clip_respects_fps(tmp_path: Path, storyboard: Path) -> None:
    out = tmp_path / "clip30.mp4"
    image_to_clip(storyboard, out, duration=1.5, size=SMALL, fps=30)
    info = probe(out)
    assert info.fps == pytest.approx(30.0)
    assert info.frame_count == 45


@pytest.mark.parametrize("motion", MOTIONS)
def test_every_motion_moves_the_picture(tmp_path: Path, storyboard: Path, motion: str) -> None:
    out = tmp_path / f"{motion}.mp4"
    image_to_clip(storyboard, out, duration=2.0, size=SMALL, motion=motion)
    first, last = frame_at(out, 0.0, tmp_path), frame_at(out, 1.95, tmp_path)
    assert mean_abs_diff(first, last) > 2  # the camera moved


def test_landscape_image_fills_a_portrait_frame_without_bars(tmp_path: Path) -> None:
    src = media_files.checkered_png(tmp_path / "wide.png", (800, 300), colour=(200, 60, 40))
    out = tmp_path / "fill.mp4"
    image_to_clip(src, out, duration=1.0, size=SMALL)
    frame = frame_at(out, 0.5, tmp_path)
    w, h = frame.size
    for x, y in ((1, 1), (w - 2, 1), (1, h - 2), (w - 2, h - 2), (w // 2, 2), (w // 2, h - 3)):
        r, g, b = frame.getpixel((x, y))
        assert r > 100, f"black bar at {(x, y)}: {(r, g, b)}"


def test_exif_rotated_photo_is_shown_upright(tmp_path: Path) -> None:
    # A landscape-stored JPEG tagged "rotate 90" must be treated as portrait (top = red).
    img = Image.new("RGB", (400, 200), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 200, 200))  # left half red -> after 90 deg CW it is the top
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    src = tmp_path / "phone.jpg"
    img.save(src, exif=exif.tobytes())
    out = tmp_path / "upright.mp4"
    image_to_clip(src, out, duration=0.5, size=(200, 400), motion="zoom_in")
    frame = frame_at(out, 0.0, tmp_path)
    top, bottom = frame.getpixel((100, 30)), frame.getpixel((100, 370))
    assert top[0] > 150 and top[2] < 100
    assert bottom[2] > 150 and bottom[0] < 100


def test_unknown_motion_is_rejected(tmp_path: Path, storyboard: Path) -> None:
    with pytest.raises(ValueError):
        image_to_clip(storyboard, tmp_path / "x.mp4", duration=1.0, size=SMALL, motion="spin")


def test_non_image_input_raises_media_error_and_writes_nothing(tmp_path: Path) -> None:
    bogus = tmp_path / "not_an_image.png"
    bogus.write_bytes(b"definitely not a png")
    out = tmp_path / "out.mp4"
    with pytest.raises(MediaError):
        image_to_clip(bogus, out, duration=1.0, size=SMALL)
    assert not out.exists()
    assert not list(tmp_path.glob("*.part*"))
