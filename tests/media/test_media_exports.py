"""GIF / WebM / thumbnail exports and their retry (one retry within 60 s, then the format is skipped)."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_testutil import SMALL, make_video
from PIL import Image

from videogen.media.exports import export_gif, export_thumbnail, export_webm, export_with_retry
from videogen.media.ffmpeg import MediaError, probe


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("exports") / "final.mp4", size=SMALL, seconds=3.0)


def test_gif_is_a_looping_gif_that_decodes(tmp_path: Path, video: Path) -> None:
    out = tmp_path / "final.gif"
    export_gif(video, out, width=200, fps=10)
    assert out.read_bytes()[:6] == b"GIF89a"
    info = probe(out)
    assert info.video_codec == "gif"
    assert info.width == 200
    assert abs(info.frame_count - 30) <= 1
    with Image.open(out) as im:
        assert im.is_animated and im.info.get("loop") == 0


def test_gif_never_upscales(tmp_path: Path, video: Path) -> None:
    out = tmp_path / "big.gif"
    export_gif(video, out, width=1000)
    assert probe(out, count_frames=False).width == SMALL[0]


def test_webm_is_vp9_with_opus_audio(tmp_path: Path, video: Path) -> None:
    out = tmp_path / "final.webm"
    export_webm(video, out)
    info = probe(out)
    assert info.video_codec == "vp9"
    assert info.has_audio
    assert "webm" in info.format_name
    assert (info.width, info.height) == SMALL
    assert abs(info.duration - 3.0) <= 0.1


def test_webm_caps_the_short_side_at_720(tmp_path: Path) -> None:
    big = make_video(tmp_path / "big.mp4", size=(1080, 1350), seconds=0.5, audio=False)
    out = tmp_path / "big.webm"
    export_webm(big, out)
    info = probe(out)
    assert (info.width, info.height) == (720, 900)
    assert info.has_audio is False


def test_thumbnail_is_a_jpeg_of_the_video_size(tmp_path: Path, video: Path) -> None:
    out = tmp_path / "thumbnail.jpg"
    export_thumbnail(video, out, at_seconds=1.0)
    with Image.open(out) as im:
        assert im.format == "JPEG"
        assert im.size == SMALL


def test_thumbnail_width_scales_keeping_aspect(tmp_path: Path, video: Path) -> None:
    out = tmp_path / "small.jpg"
    export_thumbnail(video, out, width=160)
    with Image.open(out) as im:
        assert im.size == (160, 284)


def test_thumbnail_past_the_end_falls_back_to_first_frame(tmp_path: Path, video: Path) -> None:
    out = tmp_path / "late.jpg"
    export_thumbnail(video, out, at_seconds=99.0)
    with Image.open(out) as im:
        assert im.format == "JPEG"


def test_thumbnail_of_a_still_image(tmp_path: Path) -> None:
    src = tmp_path / "scene_1.png"
    Image.new("RGB", (400, 700), (10, 200, 90)).save(src)
    out = tmp_path / "thumb.jpg"
    export_thumbnail(src, out, width=200)
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.size == (200, 350)
        r, g, b = im.convert("RGB").getpixel((100, 175))
        assert g > 150 and r < 60  # colours survive the full-range conversion


def test_failed_export_leaves_no_partial_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    for fn, name in ((export_gif, "x.gif"), (export_webm, "x.webm"), (export_thumbnail, "x.jpg")):
        with pytest.raises(MediaError):
            fn(junk, tmp_path / name)
        assert not (tmp_path / name).exists()
    assert not list(tmp_path.glob(".*part*"))


def test_export_with_retry_retries_once_then_succeeds() -> None:
    calls: list[tuple] = []

    def flaky(*args: object, **kwargs: object) -> None:
        calls.append((args, kwargs))
        if len(calls) == 1:
            raise MediaError("ffmpeg hiccup")

    export_with_retry(flaky, "in.mp4", "out.gif", retries=1, timeout=60)
    assert calls == [(("in.mp4", "out.gif"), {"timeout": 60})] * 2


def test_export_with_retry_gives_up_after_the_retries() -> None:
    calls = []

    def broken(*_args: object, **_kwargs: object) -> None:
        calls.append(1)
        raise MediaError("still broken")

    with pytest.raises(MediaError, match="still broken"):
        export_with_retry(broken, retries=1)
    assert len(calls) == 2


def test_export_with_retry_does_not_retry_programming_errors() -> None:
    calls = []

    def buggy() -> None:
        calls.append(1)
        raise TypeError("bug")

    with pytest.raises(TypeError):
        export_with_retry(buggy, retries=3)
    assert len(calls) == 1
