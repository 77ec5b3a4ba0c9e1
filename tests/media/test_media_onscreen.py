"""What is drawn over the scenes and heard under them: safe zones, captions, CTA wrapping, the end
card's own seconds, voice placement and loudness. Real FFmpeg output, decoded and measured."""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path

import pytest
from media_testutil import frame_at
from PIL import Image

from videogen.media.assemble import AudioBed, EndCard, OnScreen, VoiceLine, assemble
from videogen.media.ffmpeg import ffmpeg_exe, probe
from videogen.media.layout import SAFE_ZONES, Box, end_card_seconds, safe_zone
from videogen.media.overlays import caption_band, caption_colours, composite_product, fit_words, render_caption
from videogen.media.timeline import Window, caption_windows, place_voice_lines, plan_timeline
from videogen.media.tts import estimate_speech_seconds, speakable

SIZE = (288, 512)  # 9:16, small
PALETTE = ["#1B1F3B", "#FF6B35", "#F7F7F2"]
COLOURS = [(200, 40, 40), (40, 170, 60), (40, 60, 200)]


@pytest.fixture(scope="module")
def stills(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("stills")
    paths = []
    for index, colour in enumerate(COLOURS):
        path = folder / f"still_{index}.png"
        Image.new("RGB", SIZE, colour).save(path)
        paths.append(str(path))
    return paths


def _mean_diff(a: Image.Image, b: Image.Image, box: Box | None = None, *, outside: bool = False) -> float:
    """Mean absolute channel difference inside `box` (or outside it), sampled every 2 px."""
    total = count = 0
    for y in range(0, a.height, 2):
        for x in range(0, a.width, 2):
            inside = box is None or (box.x0 <= x < box.x1 and box.y0 <= y < box.y1)
            if inside == outside and box is not None:
                continue
            pa, pb = a.getpixel((x, y)), b.getpixel((x, y))
            total += sum(abs(i - j) for i, j in zip(pa, pb, strict=True))
            count += 3
    return total / max(1, count)


def _mean_volume_db(path: Path, start: float, seconds: float) -> float:
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-ss", f"{start:.3f}", "-t", f"{seconds:.3f}", "-i", str(path),
         "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return float(re.search(r"mean_volume: (-?[\d.]+) dB", proc.stderr).group(1))


def _tone_wav(path: Path, seconds: float, freq: float = 330.0, rate: int = 24000) -> Path:
    import math
    import struct

    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(struct.pack("<h", int(20000 * math.sin(2 * math.pi * freq * i / rate)))
                                 for i in range(int(seconds * rate))))
    return path


# --- Safe zones ---------------------------------------------------------------------------------


def test_vertical_feeds_keep_copy_off_the_bottom_fifth_and_the_right_button_column():
    zone = safe_zone("tiktok", "9:16", (1080, 1920))
    assert zone.y1 <= 1920 * 0.80 and zone.x1 <= 1080 * 0.85
    reels = safe_zone("meta", "9:16", (1080, 1920))
    assert reels.y1 <= 1920 * 0.80 and reels.x1 <= 1080 * 0.85


@pytest.mark.parametrize(("platform", "aspect"), sorted(SAFE_ZONES))
def test_a_long_caption_stays_inside_the_safe_zone_of_every_platform(tmp_path, platform, aspect):
    size = {"9:16": (1080, 1920), "4:5": (1080, 1350), "1:1": (1080, 1080), "16:9": (1920, 1080)}[aspect]
    zone = safe_zone(platform, aspect, size)
    overlay = render_caption("Recycled materials, all-day comfort, made for every street of the city",
                             tmp_path / "caption.png", size=size, zone=zone, palette=PALETTE)
    assert zone.contains(overlay.box)
    assert caption_band(zone).contains(overlay.box)


# --- Word wrapping --------------------------------------------------------------------------------


def test_the_cta_wraps_at_word_boundaries_and_keeps_the_address_whole():
    _font, lines, _px = fit_words("Shop the Aero at northwind.example.com", 320, 92, 12, 4)
    assert "northwind.example.com" in " ".join(lines).split()
    assert " ".join(lines) == "Shop the Aero at northwind.example.com"
    assert all(line == line.strip() and line for line in lines)
    assert any(line.endswith("northwind.example.com") for line in lines)


# --- Timeline -------------------------------------------------------------------------------------


def test_the_end_card_has_its_own_seconds_and_the_scenes_share_the_rest():
    timeline = plan_timeline([5, 5, 5], 15, fps=24, end_card_seconds=end_card_seconds(15))
    assert timeline.total_seconds == 15
    assert timeline.end_card_start == pytest.approx(13.0)
    assert sum(timeline.scene_frames) + timeline.end_card_frames == 15 * 24
    assert timeline.scene_seconds == pytest.approx([13 / 3] * 3, abs=1 / 24)


@pytest.mark.parametrize(("duration", "seconds"), [(15, 2.0), (30, 2.5), (60, 3.0)])
def test_end_card_length_grows_with_the_video(duration, seconds):
    assert end_card_seconds(duration) == seconds


def test_voice_lines_start_at_their_scenes_and_never_overlap():
    starts, tempo = place_voice_lines([0.0, 5.0, 10.0], [2.0, 6.5, 2.0], total=15.0)
    assert tempo == 1.0
    assert starts[0] == pytest.approx(0.3) and starts[1] == pytest.approx(5.3)
    assert starts[2] >= starts[1] + 6.5  # the long second line pushes the third
    assert starts[2] + 2.0 <= 15.0


def test_a_voiceover_longer_than_the_video_is_sped_up_to_fit():
    starts, tempo = place_voice_lines([0.0, 5.0, 10.0], [5.5, 5.5, 5.5], total=15.0)
    assert tempo > 1.0
    assert starts[-1] + 5.5 / tempo <= 15.0


def test_captions_follow_the_spoken_lines_and_stay_off_the_end_card():
    timeline = plan_timeline([5, 5, 5], 15, fps=24, end_card_seconds=2.0)
    windows = caption_windows(timeline, {1: Window(4.6, 9.5)})
    assert windows[1].start == 4.6 and windows[1].end <= windows[2].start
    assert windows[2].end <= timeline.end_card_start
    assert windows[0].end <= windows[1].start


def test_speech_estimates_and_speakable_addresses():
    assert estimate_speech_seconds("one two three four five six seven eight nine ten") == pytest.approx(3.85, 0.05)
    assert speakable("Shop at northwind.example.com") == "Shop at northwind dot example dot com"


# --- Assembly -------------------------------------------------------------------------------------


def test_the_end_card_owns_the_last_seconds_and_the_last_scene_keeps_its_share(tmp_path, stills):
    out = tmp_path / "card.mp4"
    assembled = assemble([(path, 2.0) for path in stills], out, size=SIZE, total_duration=6.0,
                         end_card=EndCard("Shop now", PALETTE, seconds=1.5))
    assert probe(out).duration == pytest.approx(6.0, abs=0.05)
    assert assembled.timeline.end_card_start == pytest.approx(4.5)
    last_scene = frame_at(out, assembled.timeline.end_card_start - 0.3, tmp_path).getpixel((10, 10))
    assert last_scene[2] > 150 and last_scene[0] < 90  # still the blue third scene, not the card
    card = frame_at(out, 5.8, tmp_path).getpixel((10, 10))
    assert abs(card[2] - last_scene[2]) > 40  # the card's gradient, not the scene


def test_captions_change_the_frame_only_inside_the_caption_box(tmp_path, stills):
    zone = safe_zone("tiktok", "9:16", SIZE)
    plain, captioned = tmp_path / "plain.mp4", tmp_path / "captioned.mp4"
    assemble([(path, 2.0) for path in stills], plain, size=SIZE, total_duration=6.0)
    assembled = assemble([(path, 2.0) for path in stills], captioned, size=SIZE, total_duration=6.0,
                         on_screen=OnScreen(captions=["Lace up at dawn", "", ""], palette=PALETTE, zone=zone))
    box = render_caption("Lace up at dawn", tmp_path / "c.png", size=SIZE, zone=zone, palette=PALETTE).box
    t = (assembled.caption_windows[0].start + assembled.caption_windows[0].end) / 2
    a, b = frame_at(plain, t, tmp_path), frame_at(captioned, t, tmp_path)
    assert _mean_diff(a, b, box) > 40
    assert _mean_diff(a, b, box, outside=True) < 1.5
    later = 3.0  # scene 2 has no caption: identical frames
    assert _mean_diff(frame_at(plain, later, tmp_path), frame_at(captioned, later, tmp_path)) < 1.5


def test_the_voice_is_louder_than_the_music_bed_where_it_speaks(tmp_path, stills):
    line = _tone_wav(tmp_path / "line.wav", 1.2)
    bed, voiced = tmp_path / "bed.mp4", tmp_path / "voiced.mp4"
    clips = [(path, 2.0) for path in stills]
    assemble(clips, bed, size=SIZE, total_duration=6.0, audio=AudioBed("upbeat", 0.6))
    assembled = assemble(clips, voiced, size=SIZE, total_duration=6.0, audio=AudioBed("upbeat", 0.6),
                         voice=[VoiceLine(str(line), 1.2, 1)])
    start = assembled.voice_starts[0]
    assert start == pytest.approx(assembled.timeline.scene_start(1) + 0.3, abs=0.01)
    speaking = _mean_volume_db(voiced, start + 0.1, 1.0)
    assert speaking > _mean_volume_db(bed, start + 0.1, 1.0) + 3
    assert speaking > _mean_volume_db(voiced, 0.5, 1.0) + 3  # louder than the same video's music alone


def test_the_product_is_composited_centred_in_the_safe_zone_with_its_shape(tmp_path):
    frame, product = tmp_path / "frame.png", tmp_path / "product.png"
    Image.new("RGB", (1080, 1920), (30, 30, 120)).save(frame)
    cut_out = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    cut_out.paste((250, 200, 20, 255), (100, 50, 300, 150))
    cut_out.save(product)
    zone = safe_zone("tiktok", "9:16", (1080, 1920))
    box = composite_product(frame, product, tmp_path / "out.png", zone_for_size=lambda size: zone)
    assert zone.contains(box)
    assert abs((box.x0 + box.x1) / 2 - (zone.x0 + zone.x1) / 2) <= 2
    with Image.open(tmp_path / "out.png") as out:
        centre = out.getpixel(((box.x0 + box.x1) // 2, (box.y0 + box.y1) // 2))
        corner = out.getpixel((box.x0 + 2, box.y0 + 2))  # transparent part of the cut-out: the frame shows
    assert centre == (250, 200, 20)
    assert abs(corner[2] - 120) < 30


def test_each_variation_gets_its_own_readable_caption_plate():
    from videogen.media.overlays import _contrast

    styles = [caption_colours(PALETTE, variant) for variant in range(3)]
    assert len({plate for plate, _ink, _edge in styles}) >= 2
    for plate, ink, _edge in styles:
        assert _contrast(plate, ink) >= 4.5
