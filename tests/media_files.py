"""Tiny real media files for tests, the one home for them: Pillow images (as files or bytes) and
FFmpeg-made MP4s."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from videogen.media.ffmpeg import run_ffmpeg

Size = tuple[int, int]


def _image(size: Size, colour: Any, mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def _saved(path: Path, image: Image.Image, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, fmt)
    return path


def _encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png(path: Path, size: Size = (64, 96), colour: Any = "#FF6B6B") -> Path:
    return _saved(path, _image(size, colour))


def jpeg(path: Path, size: Size = (64, 96), colour: Any = "#4ECDC4") -> Path:
    return _saved(path, _image(size, colour), "JPEG")


def checkered_png(path: Path, size: Size, colour: tuple[int, int, int] = (200, 60, 40)) -> Path:
    """A still with a bright border-to-border pattern (no black anywhere)."""
    image = _image(size, colour)
    for x in range(0, size[0], 20):
        for y in range(0, size[1], 20):
            if (x // 20 + y // 20) % 2:
                image.putpixel((x, y), (250, 250, 120))
    return _saved(path, image)


def png_bytes(size: Size = (40, 30), colour: Any = (40, 200, 120, 255)) -> bytes:
    return _encoded(_image(size, colour, "RGBA" if isinstance(colour, tuple) and len(colour) == 4 else "RGB"), "PNG")


def jpeg_bytes(size: Size = (40, 30), colour: Any = (220, 40, 40)) -> bytes:
    return _encoded(_image(size, colour), "JPEG", quality=80)


def gif_bytes(size: Size = (20, 20)) -> bytes:
    return _encoded(_image(size, 0, "P"), "GIF")


def mp4(path: Path, seconds: float = 1.0, size: Size = (64, 96), *, fps: int = 12, audio: bool = False) -> Path:
    """A real H.264 MP4 (+AAC with `audio`) made from FFmpeg's test sources."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    args = ["-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r={fps}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac"] if audio else ["-an"]
    args += ["-movflags", "+faststart", str(path)]
    run_ffmpeg(args, timeout=60)
    return path
