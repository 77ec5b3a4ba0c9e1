"""Tiny real media files for tests (Pillow images, FFmpeg-made MP4s)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from videogen.media.ffmpeg import run_ffmpeg


def png(path: Path, size: tuple[int, int] = (64, 96), colour: str = "#FF6B6B") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def jpeg(path: Path, size: tuple[int, int] = (64, 96), colour: str = "#4ECDC4") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, "JPEG")
    return path


def mp4(path: Path, seconds: float = 1.0, size: tuple[int, int] = (64, 96)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(
        ["-f", "lavfi", "-i", f"testsrc=size={size[0]}x{size[1]}:rate=12:duration={seconds}",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart", str(path)],
        timeout=30,
    )
    return path
