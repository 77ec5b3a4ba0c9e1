"""Helpers shared by the media tests (plain module: tests/media has no conftest on purpose,
so that it cannot clash with other test directories' conftest modules)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from PIL import Image

from tests import media_files
from videogen.media.ffmpeg import ffmpeg_exe, run_ffmpeg

SMALL = (320, 568)  # ~9:16, small enough to keep every test well under a few seconds


def make_video(
    path: Path, *, size: tuple[int, int] = SMALL, seconds: float = 2.0, fps: int = 24, audio: bool = True
) -> Path:
    """A real H.264 (+AAC) MP4, with the media tests' defaults (tests/media_files.py makes it)."""
    return media_files.mp4(path, seconds, size, fps=fps, audio=audio)


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
