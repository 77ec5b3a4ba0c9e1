"""Small real media for tests: PNG images (Pillow) and H.264 MP4s (imageio-ffmpeg's FFmpeg)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image


def png_bytes(size: tuple[int, int] = (96, 160), colour: tuple[int, int, int] = (255, 107, 107)) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def mp4_bytes(seconds: float = 1.0, size: tuple[int, int] = (64, 112)) -> bytes:
    """A tiny, browser-playable H.264 MP4 (yuv420p, moov atom first)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "clip.mp4"
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
             f"testsrc=size={size[0]}x{size[1]}:rate=12:duration={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p",
             "-movflags", "+faststart", "-y", str(out)],
            check=True, timeout=60,
        )
        return out.read_bytes()


def store(name: str, content: bytes) -> str:
    """Saves `content` under exactly `name` in the default storage; returns the name."""
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))
