"""Benchmark of the offline media pipeline at production size (never asserts on timing).

    .venv/bin/python benchmarks/bench_assembly.py [--keep DIR]

Renders 5 storyboard frames at 1080x1920 (the product composited into scene 4), makes 5 Ken-Burns
clips, speaks 6 voiceover lines with Piper, assembles a 30 s 1080x1920 MP4 with captions, logo mark,
end card, voiceover and ducked music bed, then exports GIF, WebM and a thumbnail.
`--plain` leaves out captions, logo, product and voiceover (the assembly as it was before them).
Prints seconds per step, output sizes (target: MP4 <= 5 MB for 30 s) and the peak
RSS of the FFmpeg child processes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from videogen.media.assemble import AudioBed, EndCard, OnScreen, VoiceLine, assemble  # noqa: E402
from videogen.media.clips import MOTIONS, image_to_clip  # noqa: E402
from videogen.media.exports import export_gif, export_thumbnail, export_webm  # noqa: E402
from videogen.media.ffmpeg import probe  # noqa: E402
from videogen.media.frames import render_storyboard_frame  # noqa: E402
from videogen.media.layout import end_card_seconds, safe_zone  # noqa: E402
from videogen.media.overlays import composite_product  # noqa: E402
from videogen.media.timeline import plan_timeline  # noqa: E402
from videogen.media.tts import PiperSpeech  # noqa: E402

SIZE = (1080, 1920)
SCENES = 5
SCENE_SECONDS = 6.0
TOTAL = SCENES * SCENE_SECONDS
PALETTE = ["#0F172A", "#F97316", "#22D3EE", "#A3E635"]
DESCRIPTIONS = [
    "Sunrise over a quiet city; a runner laces up bright orange shoes on the doorstep.",
    "Close-up of the sole flexing on wet asphalt, water droplets frozen in the air.",
    "The runner overtakes a tram, skyline reflected in the shop windows.",
    "Product shot: the shoe rotating on a pedestal, logo glowing softly.",
    "Friends high-five at the finish line of a park run, confetti in brand colours.",
]


def _cpu() -> float:
    """CPU seconds used so far by this process and its (finished) FFmpeg children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(label: str, rows: list[tuple[str, float, float]], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one step, recording wall seconds and CPU seconds (the latter is robust to other load)."""
    start, cpu0 = time.perf_counter(), _cpu()
    result = fn(*args, **kwargs)
    rows.append((label, time.perf_counter() - start, _cpu() - cpu0))
    print(f"  {label}: {rows[-1][1]:.2f} s wall, {rows[-1][2]:.2f} s cpu", flush=True)  # survives a later failure
    return result


CAPTIONS = ["Own the morning", "Grip that holds", "Faster than the tram", "Meet the Stride One", "Run together"]
NARRATION = [
    "Before the city wakes, you lace up.",
    "Every step grips, rain or shine.",
    "Light enough to race the morning tram.",
    "The Stride One. Recycled, and ready.",
    "Better with your crew.",
]
CTA = "Run your city. stride.example"


def _logo(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (256, 256), PALETTE[0])
    ImageDraw.Draw(image).ellipse((40, 40, 216, 216), fill=PALETTE[1])
    image.save(path)
    return path


def mb(path: Path) -> float:
    return path.stat().st_size / 1_000_000


def run(work: Path, plain: bool) -> None:
    rows: list[tuple[str, float, float]] = []
    frames: list[Path] = []
    zone = safe_zone("tiktok", "9:16", SIZE)
    card_seconds = end_card_seconds(TOTAL)
    timeline = plan_timeline([SCENE_SECONDS] * SCENES, TOTAL, end_card_seconds=card_seconds)

    def storyboards() -> None:
        for i, text in enumerate(DESCRIPTIONS, start=1):
            out = work / f"scene_{i}.jpg"
            render_storyboard_frame(
                out,
                size=SIZE,
                scene_number=i,
                title=f"Scene {i}",
                description=text,
                palette=PALETTE,
                brand_name="Stride",
                seed=42,
                notes=plain,
            )
            if i == 3 and not plain:
                product = _logo(work / "product.png")
                composite_product(out, product, out, zone_for_size=lambda size: zone)
            frames.append(out)

    timed(f"storyboard frames ({SCENES}x {SIZE[0]}x{SIZE[1]})", rows, storyboards)

    clips: list[tuple[str, float]] = []

    def make_clips() -> None:
        for i, frame in enumerate(frames):
            out = work / f"clip_{i + 1}.mp4"
            seconds = SCENE_SECONDS if plain else timeline.clip_seconds(i)
            image_to_clip(frame, out, duration=seconds, size=SIZE, motion=MOTIONS[i % len(MOTIONS)])
            clips.append((str(out), SCENE_SECONDS))

    timed(f"clips ({SCENES}x {SCENE_SECONDS:g} s)", rows, make_clips)

    lines: list[VoiceLine] = []

    def speak() -> None:
        tts = PiperSpeech()
        for index, text in enumerate([*NARRATION, CTA]):
            speech = tts.synthesize(text, "joe", work / f"line_{index}.wav")
            lines.append(VoiceLine(str(speech.path), speech.seconds, index if index < SCENES else None))

    if not plain:
        timed(f"voiceover ({SCENES + 1} lines, Piper)", rows, speak)
    final = work / "final.mp4"
    extras = {} if plain else {
        "on_screen": OnScreen(captions=CAPTIONS, palette=PALETTE, zone=zone, logo_path=str(_logo(work / "logo.png"))),
        "voice": lines,
    }
    timed(
        f"assemble ({TOTAL:g} s, end card, music{'' if plain else ', captions, logo, voice'})",
        rows,
        assemble,
        clips,
        final,
        size=SIZE,
        total_duration=TOTAL,
        end_card=EndCard(CTA, PALETTE, seconds=2.0 if plain else card_seconds, zone=None if plain else zone),
        audio=AudioBed("upbeat"),
        **extras,
    )
    gif, webm, thumb = work / "final.gif", work / "final.webm", work / "thumbnail.jpg"
    timed("export GIF (360 px, 10 fps)", rows, export_gif, final, gif)
    timed("export WebM (VP9/Opus, 720 px)", rows, export_webm, final, webm)
    timed("export thumbnail (JPEG)", rows, export_thumbnail, final, thumb)

    info = probe(final)
    total_s = sum(r[1] for r in rows)
    total_cpu = sum(r[2] for r in rows)
    width = max(len(r[0]) for r in rows) + 2
    load = os.getloadavg()[0]
    print(f"\nvideogen media benchmark  (cpus={os.cpu_count()}, load avg {load:.1f}, work dir {work})\n")
    print(f"{'step'.ljust(width)}{'wall s':>9}{'cpu s':>9}")
    print("-" * (width + 18))
    for label, secs, cpu in rows:
        print(f"{label.ljust(width)}{secs:9.2f}{cpu:9.2f}")
    print("-" * (width + 18))
    print(f"{'total'.ljust(width)}{total_s:9.2f}{total_cpu:9.2f}\n")
    print(
        f"MP4       {mb(final):6.2f} MB  (target <= 5 MB: {'OK' if mb(final) <= 5 else 'OVER'})  "
        f"{info.width}x{info.height} {info.duration:.2f} s {info.frame_count} frames audio={info.has_audio}"
    )
    print(f"GIF       {mb(gif):6.2f} MB")
    print(f"WebM      {mb(webm):6.2f} MB")
    print(f"thumbnail {mb(thumb):6.3f} MB")
    clip_mb = sum(mb(Path(p)) for p, _ in clips)
    print(f"clips     {clip_mb:6.2f} MB (intermediates)")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(f"peak RSS of ffmpeg children: {peak_kb / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write outputs to this directory and keep them")
    parser.add_argument("--plain", action="store_true", help="no captions, logo, product or voiceover")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.plain)
    else:
        with tempfile.TemporaryDirectory(prefix="videogen-bench-") as d:
            run(Path(d), args.plain)


if __name__ == "__main__":
    main()
