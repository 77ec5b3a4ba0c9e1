"""Final assembly: measured duration, size, frames, audio, transitions and end card."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_testutil import SMALL, frame_at, last_frame, make_video, max_volume_db, mean_abs_diff
from PIL import Image

from videogen.media.assemble import AudioBed, EndCard, assemble, render_end_card, scene_frame_counts
from videogen.media.clips import MOTIONS, image_to_clip
from videogen.media.ffmpeg import MediaError, probe
from videogen.media.frames import render_storyboard_frame

PALETTE = ["#0F172A", "#F97316", "#22D3EE"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Five 2 s Ken-Burns clips at 320x568 (what the local provider produces, small)."""
    d = tmp_path_factory.mktemp("assemble")
    out = []
    for i in range(5):
        frame = d / f"scene_{i}.png"
        render_storyboard_frame(
            frame,
            size=SMALL,
            scene_number=i + 1,
            title=f"Scene {i + 1}",
            description="Something happens here",
            palette=PALETTE,
            seed=i,
        )
        clip = d / f"clip_{i}.mp4"
        image_to_clip(frame, clip, duration=2.0, size=SMALL, motion=MOTIONS[i % len(MOTIONS)])
        out.append(str(clip))
    return out


def _check(path: Path, *, total: float, size: tuple[int, int] = SMALL, fps: int = 24) -> None:
    info = probe(path)
    assert abs(info.duration - total) <= 0.1
    assert (info.width, info.height) == size
    assert info.video_codec == "h264"
    assert info.has_audio
    assert abs(info.frame_count - round(total * fps)) <= 1


def test_three_clips_match_total_duration_size_and_frames(tmp_path: Path, clips: list[str]) -> None:
    out = tmp_path / "three.mp4"
    assemble([(c, 2.0) for c in clips[:3]], out, size=SMALL, total_duration=6.0)
    _check(out, total=6.0)


def test_five_clips_with_end_card_and_music_match_total(tmp_path: Path, clips: list[str]) -> None:
    out = tmp_path / "five.mp4"
    assemble(
        [(c, 2.0) for c in clips],
        out,
        size=SMALL,
        total_duration=10.0,
        end_card=EndCard("Shop now", PALETTE, seconds=1.5),
        audio=AudioBed("upbeat", volume=0.8),
    )
    _check(out, total=10.0)


def test_ten_clips_build_a_valid_graph(tmp_path: Path, clips: list[str]) -> None:
    out = tmp_path / "ten.mp4"
    ten = [(clips[i % 5], 1.0) for i in range(10)]
    assemble(ten, out, size=(160, 284), total_duration=10.0, end_card=EndCard("Go", PALETTE, seconds=1.0))
    _check(out, total=10.0, size=(160, 284))


def test_mismatched_clip_sizes_rates_and_lengths_are_normalized(tmp_path: Path, clips: list[str]) -> None:
    odd = make_video(tmp_path / "odd.mp4", size=(640, 360), seconds=1.0, fps=30)  # landscape, 30 fps, short
    out = tmp_path / "normalized.mp4"
    assemble([(clips[0], 2.0), (str(odd), 2.5), (clips[1], 1.5)], out, size=SMALL, total_duration=6.0)
    _check(out, total=6.0)


def test_scene_seconds_are_rescaled_to_the_total(tmp_path: Path, clips: list[str]) -> None:
    out = tmp_path / "rescaled.mp4"
    assemble([(c, 3.0) for c in clips[:3]], out, size=SMALL, total_duration=5.0)
    _check(out, total=5.0)


def test_hard_cuts_when_transition_is_zero(tmp_path: Path, clips: list[str]) -> None:
    out = tmp_path / "cuts.mp4"
    assemble([(c, 2.0) for c in clips[:3]], out, size=SMALL, total_duration=6.0, transition_seconds=0)
    _check(out, total=6.0)


def test_still_images_are_accepted_as_clips(tmp_path: Path, clips: list[str]) -> None:
    still = tmp_path / "still.png"
    render_storyboard_frame(
        still, size=(400, 400), scene_number=2, title="Fallback", description="text only", palette=PALETTE
    )
    out = tmp_path / "with_still.mp4"
    assemble([(clips[0], 2.0), (str(still), 2.0), (clips[2], 2.0)], out, size=SMALL, total_duration=6.0)
    _check(out, total=6.0)


def test_muted_audio_is_a_silent_track(tmp_path: Path, clips: list[str]) -> None:
    out = tmp_path / "muted.mp4"
    assemble([(c, 2.0) for c in clips[:3]], out, size=SMALL, total_duration=6.0, audio=AudioBed(muted=True))
    assert probe(out).has_audio
    assert max_volume_db(out) < -80


@pytest.mark.parametrize("style", ["upbeat", "calm", "dramatic", "corporate", "polka-dubstep"])
def test_music_bed_is_audible_for_every_style(tmp_path: Path, clips: list[str], style: str) -> None:
    out = tmp_path / f"{style}.mp4"
    assemble([(c, 1.0) for c in clips[:3]], out, size=(160, 284), total_duration=3.0, audio=AudioBed(style, volume=0.6))
    peak = max_volume_db(out)
    assert -30 < peak < -0.5  # audible, not clipping


def test_volume_scales_the_music(tmp_path: Path, clips: list[str]) -> None:
    loud, quiet = tmp_path / "loud.mp4", tmp_path / "quiet.mp4"
    for path, vol in ((loud, 1.0), (quiet, 0.25)):
        assemble([(c, 1.0) for c in clips[:3]], path, size=(160, 284), total_duration=3.0, audio=AudioBed(volume=vol))
    assert max_volume_db(loud) - max_volume_db(quiet) == pytest.approx(12.0, abs=2.0)  # 20*log10(4)


def test_end_card_fills_the_last_seconds_inside_the_total(tmp_path: Path, clips: list[str]) -> None:
    card = EndCard("Shop the drop", PALETTE, seconds=1.5)
    out = tmp_path / "card.mp4"
    assemble([(c, 2.0) for c in clips[:3]], out, size=SMALL, total_duration=6.0, end_card=card)
    _check(out, total=6.0)
    expected = tmp_path / "expected_card.png"
    render_end_card(expected, size=SMALL, end_card=card)
    with Image.open(expected) as im:
        reference = im.convert("RGB")
    assert mean_abs_diff(reference, last_frame(out, tmp_path)) < 6  # the card itself at the end
    assert mean_abs_diff(reference, frame_at(out, 1.0, tmp_path)) > 20  # but not during scene 1


def test_end_card_skips_an_unreadable_logo(tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    out = tmp_path / "card.png"
    render_end_card(out, size=SMALL, end_card=EndCard("Hi", PALETTE, logo_path=str(logo)))
    assert out.stat().st_size > 0


def test_crossfade_starts_at_the_scene_boundary_and_blends(tmp_path: Path) -> None:
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    Image.new("RGB", SMALL, (230, 20, 20)).save(red)
    Image.new("RGB", SMALL, (20, 20, 230)).save(blue)
    out = tmp_path / "fade.mp4"
    assemble([(str(red), 2.0), (str(blue), 2.0)], out, size=SMALL, total_duration=4.0, transition_seconds=1.0)
    _check(out, total=4.0)
    centre = (SMALL[0] // 2, SMALL[1] // 2)
    before = frame_at(out, 1.9, tmp_path).getpixel(centre)  # scene 1 untouched until its end
    middle = frame_at(out, 2.5, tmp_path).getpixel(centre)  # halfway through the 1 s fade
    after = frame_at(out, 3.5, tmp_path).getpixel(centre)
    assert before[0] > 200 and before[2] < 50
    assert 70 < middle[0] < 180 and 70 < middle[2] < 180
    assert after[2] > 200 and after[0] < 50


def test_missing_clip_raises_media_error(tmp_path: Path, clips: list[str]) -> None:
    with pytest.raises(MediaError):
        assemble(
            [(clips[0], 2.0), (str(tmp_path / "gone.mp4"), 2.0)], tmp_path / "x.mp4", size=SMALL, total_duration=4.0
        )
    assert not (tmp_path / "x.mp4").exists()


def test_scene_frame_counts_sum_exactly() -> None:
    counts = scene_frame_counts([6.0, 6.0, 6.0, 6.0, 6.0], 720)
    assert counts == [144] * 5
    odd = scene_frame_counts([1.1, 2.3, 3.7], 173)
    assert sum(odd) == 173 and all(c > 0 for c in odd)
