"""Helpers shared by the media tests (plain module: tests/media has no conftest on purpose,
so that it cannot clash with other test directories' conftest modules)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from PIL import Image

from videogen.media.ffmpeg import ffmpeg_exe, run_ffmpeg

SMALL = (320, 568)  # ~9:16, small enough to keep every test well under a few seconds


def make_video(
    path: Path, *, size: tuple[int, int] = SMALL, seconds: float = 2.0, fps: int = 24, audio: bool = True
) -> Path:
    """A real H.264 (+AAC) MP4 made from FFmpeg's test sources."""
    w, h = size
    args = ["-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r={fps}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac"] if audio else ["-an"]
    args += ["-movflags", "+faststart", str(path)]
    run_ffmpeg(args, timeout=60)
    return path


def make_image(path: Path, size: tuple[int, int], colour: tuple[int, int, int] = (200, 60, 40)) -> Path:
    """A still with a bright border-to-border pattern (no black anywhere)."""
    img = Image.new("RGB", size, colour)
    for x in range(0, size[0], 20):
        for y in range(0, size[1], 20):
            if (x // 20 + y // 20) % 2:
                img.putpixel((x, y), (250, 250, 120))
    img.save(path)
    return path


def frame_at(video: Path, seconds: float, out_dir: Path) -> Image.Image:
    """Decode the frame shown at ``seconds`` as an RGB Pillow image."""
    out = out_dir / f"frame_{video.stem}_{seconds:.3f}.png"
    run_ffmpeg(["-ss", f"{seconds:.3f}", "-i", str(video), "-frames:v", "1", "-update", "1", str(out)], timeout=30)
    with Image.open(out) as im:
        return im.convert("RGB")


def last_frame(video: Path, out_dir: Path) -> Image.Image:
    out = out_dir / f"last_{video.stem}.png"
    run_ffmpeg(["-sseof", "-0.2", "-i", str(video), "-update", "1", str(out)], timeout=30)
    with Image.open(out) as im:
        return im.convert("RGB")


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute per-channel difference (0..255) after resizing b to a."""
    b = b.resize(a.size)
    hist_total = 0
    pa, pb = a.tobytes(), b.tobytes()
    step = 7  # sample bytes: plenty for a mean, keeps it fast in pure Python
    count = 0
    for i in range(0, len(pa), step):
        hist_total += abs(pa[i] - pb[i])
        count += 1
    return hist_total / count


def max_volume_db(path: Path) -> float:
    """Peak level of the first audio stream in dBFS (FFmpeg volumedetect)."""
    proc = subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-af",
            "volumedetect",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    m = re.search(r"max_volume: (-?[\d.]+|-inf) dB", proc.stderr)
    assert m, proc.stderr[-500:]
    return float("-inf") if m.group(1) == "-inf" else float(m.group(1))
