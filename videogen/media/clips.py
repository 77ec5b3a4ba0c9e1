"""Still image -> short H.264 clip with a slow Ken-Burns move (offline "image-to-video").

The ``local`` provider has no video model, so each storyboard image becomes a clip with a
gentle zoom or pan. Design choices, all for speed on a 2-core box:

* the image is scaled/cropped *once* to cover the frame at :data:`OVERSAMPLE` x the
  output size, then ``zoompan`` emits every frame from that single decoded picture
  (``d=<frames>``): no per-frame PNG decode, no per-frame cover-scale;
* oversampling by 1.5x divides zoompan's integer-pixel rounding (the well-known zoompan
  "jitter") by 1.5 at a small cost (measured: ~+0.1 s for 5 s at 1080x1920);
* clips are intermediates that :func:`videogen.media.assemble.assemble` re-encodes, so
  they use x264 ``ultrafast`` at a high quality CRF: about 2.3 s for a 5 s 1080x1920 clip
  on 2 cores versus ~4.5 s with ``veryfast``; the final file size is decided at assembly.

No Django imports.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .ffmpeg import MediaError, atomic_output, ffmpeg_threads, run_ffmpeg, temp_dir

__all__ = ["MOTIONS", "OVERSAMPLE", "ZOOM", "image_to_clip", "motion_filter"]

#: Supported camera moves (the pipeline cycles through them scene by scene).
MOTIONS: tuple[str, ...] = ("zoom_in", "zoom_out", "pan_left", "pan_right")

#: Total zoom over a clip (1.0 -> 1.10): slow enough to read text on the frame, and the
#: edge crop (<= 4.5 % per side) stays inside the storyboard frame's 8 % text margin.
ZOOM = 0.10

#: Constant zoom during pans and the share of the spare width travelled (10 % -> 90 %):
#: at most ~5.9 % of the width is ever cropped on one side, again inside the text margin.
PAN_ZOOM = 0.08
PAN_FROM, PAN_TO = 0.1, 0.9

#: Work at this multiple of the output size inside zoompan to reduce sub-pixel jitter.
OVERSAMPLE = 1.5

#: x264 settings for intermediates (re-encoded by assemble): fast and near-transparent.
CLIP_PRESET = "ultrafast"
CLIP_CRF = "18"


def _even(v: float) -> int:
    return max(2, int(round(v / 2)) * 2)


def motion_filter(motion: str, *, size: tuple[int, int], frames: int, fps: int) -> str:
    """The ``scale,crop,zoompan`` chain for one still picture -> ``frames`` moving frames.

    ``on`` is zoompan's output frame index; ``p`` below is progress 0..1 along the clip.
    Pans use a constant zoom so there is margin to travel across.
    """
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}; expected one of {MOTIONS}")
    w, h = size
    bw, bh = _even(w * OVERSAMPLE), _even(h * OVERSAMPLE)
    last = max(1, frames - 1)
    p = f"(on/{last})"
    z_max = f"{1 + ZOOM:.4f}"
    z_pan = f"{1 + PAN_ZOOM:.4f}"
    travel = f"({PAN_FROM}+{PAN_TO - PAN_FROM:.4f}*{p})"
    centre_x = "(iw-iw/zoom)/2"
    centre_y = "(ih-ih/zoom)/2"
    if motion == "zoom_in":
        z, x, y = f"1+{ZOOM}*{p}", centre_x, centre_y
    elif motion == "zoom_out":
        z, x, y = f"{z_max}-{ZOOM}*{p}", centre_x, centre_y
    elif motion == "pan_left":  # camera moves left: the window slides right -> left
        z, x, y = z_pan, f"(iw-iw/zoom)*(1-{travel})", centre_y
    else:  # pan_right
        z, x, y = z_pan, f"(iw-iw/zoom)*{travel}", centre_y
    return (
        f"scale={bw}:{bh}:force_original_aspect_ratio=increase:flags=lanczos,"
        f"crop={bw}:{bh},setsar=1,"
        f"zoompan=z='{z}':x='{x}':y='{y}':d={frames}:s={w}x{h}:fps={fps},"
        f"setsar=1,format=yuv420p"
    )


def _upright_image(image_path: Path, scratch: Path) -> Path:
    """Return a path FFmpeg can read with EXIF orientation applied.

    Phone photos store rotation in EXIF, which FFmpeg's image decoders ignore; without
    this a portrait product shot would come out sideways. Also rejects non-images early
    with a clear error.
    """
    try:
        with Image.open(image_path) as im:
            orientation = im.getexif().get(0x0112, 1)
            if orientation in (None, 1):
                im.load()
                return image_path
            fixed = ImageOps.exif_transpose(im)
            out = scratch / "upright.png"
            fixed.save(out, "PNG")
            return out
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise MediaError(f"{image_path.name} is not a readable image: {exc}") from exc


def image_to_clip(
    image_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    duration: float,
    size: tuple[int, int],
    fps: int = 24,
    motion: str = "zoom_in",
    timeout: float = 120,
) -> None:
    """Render ``image_path`` as a silent H.264/yuv420p MP4 of ``duration`` s at ``size``.

    The frame count is ``round(duration * fps)`` (so the duration is exact to the frame);
    the image, whatever its size or aspect, is scaled and centre-cropped to fill the frame.
    Raises :class:`MediaError` on unreadable input, FFmpeg failure or timeout, and
    ``ValueError`` on bad arguments. The output appears atomically.
    """
    if duration <= 0:
        raise ValueError("duration must be positive")
    if fps <= 0:
        raise ValueError("fps must be positive")
    w, h = int(size[0]), int(size[1])
    if w < 16 or h < 16 or w % 2 or h % 2:
        raise ValueError(f"size must be even and >= 16 px (yuv420p): {w}x{h}")
    frames = max(1, round(duration * fps))
    vf = motion_filter(motion, size=(w, h), frames=frames, fps=fps)
    src = Path(image_path)
    with temp_dir("videogen-clip-") as scratch, atomic_output(out_path) as tmp:
        src = _upright_image(src, scratch)
        run_ffmpeg(
            [
                "-i",
                os.path.abspath(src),
                "-filter_complex",
                f"[0:v]{vf}[v]",
                "-map",
                "[v]",
                "-frames:v",
                str(frames),
                "-r",
                str(fps),
                "-an",
                "-c:v",
                "libx264",
                "-preset",
                CLIP_PRESET,
                "-crf",
                CLIP_CRF,
                "-pix_fmt",
                "yuv420p",
                "-threads",
                str(ffmpeg_threads()),
                "-movflags",
                "+faststart",
                str(tmp),
            ],
            timeout=timeout,
        )
