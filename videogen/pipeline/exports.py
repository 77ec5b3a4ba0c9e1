"""Exports of a variation's finished MP4: GIF, WebM and a JPEG thumbnail.

The render stage makes them once the video is assembled; ops re-run the formats that failed
(videogen.ops). Both go through `export_formats`, so the exporters, the storage names, the retry
and the error text are the same. An FFmpeg export gets 60 s and one retry; a format that still
fails is skipped (its error recorded) and the MP4 is served anyway.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

from videogen import metrics
from videogen.media.exports import export_gif, export_thumbnail, export_webm, export_with_retry
from videogen.media.ffmpeg import MediaError, probe
from videogen.providers.policy import EXPORT_RETRIES, EXPORT_TIMEOUT_SECONDS
from videogen.storage import local_copy, output_name, save_file, work_dir

EXPORTERS = {"gif": export_gif, "webm": export_webm, "thumbnail": export_thumbnail}
SUFFIXES = {"gif": ".gif", "webm": ".webm", "thumbnail": ".jpg"}


@dataclass
class Exported:
    """What `export_formats` made: the MP4's duration, each stored format's name, each failure's message."""

    duration: float
    stored: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    stopped: bool = False


def export_error(fmt: str, exc: Exception) -> str:
    return f"{fmt} export failed: {str(exc)[:300]}"


def export_formats(
    job_id: int, variation_index: int, mp4_name: str, formats: list[str], *,
    keep_going: Callable[[], bool] = lambda: True,
) -> Exported:
    """Exports each of `formats` from the stored MP4 to its place in storage.

    `keep_going` is asked before each format (the render stops when the job is cancelled meanwhile:
    then `stopped` is set and nothing more is made). Raises MediaError when the MP4 itself cannot be read.
    """
    folder = work_dir("export-")
    try:
        with local_copy(mp4_name) as mp4:
            exported = Exported(duration=probe(mp4, count_frames=False).duration)
            for fmt in formats:
                if not keep_going():
                    exported.stopped = True
                    break
                target = folder / f"out{SUFFIXES[fmt]}"
                options = {"at_seconds": min(1.0, exported.duration / 2)} if fmt == "thumbnail" else {}
                try:
                    export_with_retry(EXPORTERS[fmt], mp4, target, retries=EXPORT_RETRIES,
                                      timeout=EXPORT_TIMEOUT_SECONDS, **options)
                    exported.stored[fmt] = save_file(output_name(job_id, variation_index, fmt), target)
                except MediaError as exc:
                    exported.errors[fmt] = export_error(fmt, exc)
                    metrics.EXPORT_FAILURES_TOTAL.labels(format=fmt).inc()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return exported
