"""Thin, safe wrapper around the FFmpeg binary shipped in the ``imageio-ffmpeg`` wheel.

Why a wrapper: every FFmpeg call in the service must (a) never wait on stdin, (b) have a
hard timeout after which the process is killed (an FFmpeg export gets 60 s), and
(c) fail with one exception type carrying the tail of FFmpeg's stderr, so that the
pipeline can log something useful and show the user a sentence instead of a traceback.

There is no ``ffprobe`` in the wheel, so :func:`probe` parses the stream dump FFmpeg prints
for its input and, optionally, decodes the whole video stream to count frames. Decoding is
also what makes it a validator for uploaded files: truncated or garbage input produces
error-level log lines (or no decodable frames) and is rejected with :class:`MediaError`.

No Django imports here on purpose: the media layer is testable on its own.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MediaError",
    "MediaInfo",
    "atomic_output",
    "ffmpeg_exe",
    "ffmpeg_threads",
    "probe",
    "run_ffmpeg",
    "temp_dir",
]

#: Flags put in front of every command: no interactive stdin (a worker has none and
#: FFmpeg would otherwise block/steal input), no banner noise, only real errors in stderr,
#: and overwrite outputs (we always write to fresh temporary names anyway).
BASE_ARGS: tuple[str, ...] = ("-nostdin", "-hide_banner", "-loglevel", "error", "-y")

#: Demuxers :func:`probe` lets FFmpeg use. Content sniffing would otherwise let an
#: "mp4" upload that is really an HLS/concat playlist make FFmpeg open other files or URLs.
SAFE_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,gif,gif_pipe,png_pipe,jpeg_pipe,webp_pipe,image2"

_STDERR_TAIL_CHARS = 2000


class MediaError(Exception):
    """An FFmpeg/Pillow operation failed, timed out, or the input is not decodable media.

    ``stderr`` holds the tail of FFmpeg's diagnostic output (may be empty) so callers can
    log it; ``str(err)`` is already a one-paragraph human-readable summary.
    """

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None):
        self.stderr = stderr
        self.returncode = returncode
        full = message
        if stderr.strip():
            full = f"{message}\n--- ffmpeg stderr (tail) ---\n{stderr.strip()}"
        super().__init__(full)


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the static FFmpeg binary from ``imageio-ffmpeg``.

    Cached because the lookup stats files; ``IMAGEIO_FFMPEG_EXE`` (honoured by
    imageio-ffmpeg itself) can point it at another binary.
    """
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - dependency is pinned
        raise MediaError("imageio-ffmpeg is not installed; cannot run FFmpeg") from exc
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:  # pragma: no cover - wheel always ships the binary
        raise MediaError(f"FFmpeg binary not found: {exc}") from exc


def ffmpeg_threads() -> int:
    """Threads to give one encoder.

    The target host has 2 cores and several renders may run side by side, so we do not
    let x264/libvpx oversubscribe (their "auto" is 1.5x cores). ``VIDEOGEN_FFMPEG_THREADS``
    overrides it.
    """
    env = os.environ.get("VIDEOGEN_FFMPEG_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(os.cpu_count() or 2, 8))


def _tail(text: str | bytes | None) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return text[-_STDERR_TAIL_CHARS:]


def _run(cmd: list[str], *, timeout: float, what: str) -> tuple[int, str, str]:
    """Run a full command line, return (returncode, stdout, stderr); kill on timeout."""
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise MediaError(f"{what}: could not start FFmpeg ({exc})") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise MediaError(
            f"{what}: FFmpeg timed out after {timeout:g} s and was killed",
            stderr=_tail(err),
            returncode=proc.returncode,
        ) from None
    except BaseException:
        # KeyboardInterrupt / worker shutdown: never leave an orphan encoder behind.
        proc.kill()
        proc.wait()
        raise
    return (
        proc.returncode,
        out.decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
    )


def run_ffmpeg(args: list[str], *, timeout: float) -> None:
    """Run ``ffmpeg <BASE_ARGS> <args>``; raise :class:`MediaError` on failure or timeout.

    ``args`` are everything after the executable (inputs, filters, outputs). The process
    is killed when ``timeout`` seconds elapse, so a wedged encode cannot hold a worker.
    """
    cmd = [ffmpeg_exe(), *BASE_ARGS, *[str(a) for a in args]]
    code, _out, err = _run(cmd, timeout=timeout, what="ffmpeg")
    if code != 0:
        raise MediaError(f"FFmpeg failed with exit code {code}", stderr=_tail(err), returncode=code)


@contextmanager
def atomic_output(out_path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling path (same extension) and move it onto ``out_path`` on success.

    Why: a killed or failed encode must never leave a half-written ``final.mp4`` that a
    reader (the Range-serving view, a retry) would take for a finished file.
    """
    final = Path(out_path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.part{final.suffix}")
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise MediaError(f"FFmpeg produced no output for {final.name}")
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def temp_dir(prefix: str = "videogen-") -> Iterator[Path]:
    """A scratch directory removed afterwards (intermediate images, end cards)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as d:
        yield Path(d)


# --------------------------------------------------------------------------- probing


@dataclass(frozen=True)
class MediaInfo:
    """What the pipeline needs to know about a media file (first video stream).

    ``width``/``height`` are display dimensions (rotation metadata applied, as phones
    record portrait video as rotated landscape). ``frame_count`` is decoded and counted
    when ``probe(count_frames=True)``, otherwise estimated as ``round(duration * fps)``.
    ``format_name`` is FFmpeg's demuxer name, e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"``.
    """

    duration: float
    width: int
    height: int
    frame_count: int
    fps: float
    video_codec: str
    has_audio: bool
    format_name: str


_INPUT_RE = re.compile(r"Input #0, (?P<fmt>.+?), from '")
_DURATION_RE = re.compile(r"Duration: (?P<h>\d+):(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)")
_VSTREAM_RE = re.compile(r"Stream #0:\d+.*?: Video: (?P<codec>[A-Za-z0-9_]+)(?P<rest>.*)")
_ASTREAM_RE = re.compile(r"Stream #0:\d+.*?: Audio: ")
_SIZE_RE = re.compile(r"[ ,](?P<w>\d{1,5})x(?P<h>\d{1,5})(?=[ ,\[]|$)")
_FPS_RE = re.compile(r"(?P<v>\d+(?:\.\d+)?)(?P<k>k?) (?P<unit>fps|tbr)\b")
_ROTATE_RE = re.compile(r"rotation of (?P<deg>-?\d+(?:\.\d+)?) degrees")
_LEVEL_RE = re.compile(r"\[(?P<level>panic|fatal|error)\]")


def _parse_fps(rest: str) -> float:
    found: dict[str, float] = {}
    for m in _FPS_RE.finditer(rest):
        value = float(m.group("v")) * (1000 if m.group("k") else 1)
        found.setdefault(m.group("unit"), value)
    return found.get("fps") or found.get("tbr") or 0.0


def probe(path: str | Path, *, count_frames: bool = True, timeout: float = 30) -> MediaInfo:
    """Describe a video (or image) file; raise :class:`MediaError` if it is not decodable.

    With ``count_frames=True`` (default) the whole first video stream is decoded: this
    gives an exact ``frame_count`` and rejects truncated files (FFmpeg logs "partial file"
    / decode errors at error level, which we treat as fatal). With ``count_frames=False``
    only the first frame is decoded: cheaper, still rejects garbage and missing moov atoms.
    Only :data:`SAFE_DEMUXERS` and the ``file`` protocol are allowed, because this is used
    on untrusted uploads.
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"not a file: {p}")
    if p.stat().st_size == 0:
        raise MediaError(f"empty file: {p.name}")
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-progress",
        "pipe:1",
        "-loglevel",
        "+level+info",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        SAFE_DEMUXERS,
        "-i",
        os.path.abspath(p),  # absolute: a name starting with "-" or "x:" is not an option/protocol
        "-map",
        "0:v:0",
    ]
    if not count_frames:
        cmd += ["-frames:v", "1"]
    cmd += ["-f", "null", "-"]
    code, out, err = _run(cmd, timeout=timeout, what=f"probe {p.name}")
    tail = _tail(err)

    if code != 0:
        raise MediaError(f"{p.name} is not a decodable video or image", stderr=tail, returncode=code)
    error_lines = [ln for ln in err.splitlines() if _LEVEL_RE.search(ln)]
    if error_lines:
        raise MediaError(
            f"{p.name} is corrupt or truncated (decoder reported errors)",
            stderr="\n".join(error_lines[-20:]),
            returncode=code,
        )

    # Only look at the input dump: the output section repeats "Stream #0:0 ... Video:".
    header = re.split(r"Stream mapping:|Output #0", err, maxsplit=1)[0]
    fmt_m = _INPUT_RE.search(header)
    v_m = _VSTREAM_RE.search(header)
    if not fmt_m or not v_m:
        raise MediaError(f"{p.name} has no video stream", stderr=tail)
    rest = v_m.group("rest")
    size_m = _SIZE_RE.search(rest)
    if not size_m:
        raise MediaError(f"{p.name}: could not read frame size", stderr=tail)
    width, height = int(size_m.group("w")), int(size_m.group("h"))
    rot_m = _ROTATE_RE.search(header[v_m.end() :])
    if rot_m and round(abs(float(rot_m.group("deg")))) % 180 == 90:
        width, height = height, width
    fps = _parse_fps(rest)

    progress: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            progress[key.strip()] = value.strip()
    decoded = int(progress.get("frame", "0") or 0)
    if decoded <= 0:
        raise MediaError(f"{p.name}: no decodable video frames", stderr=tail)

    duration = 0.0
    d_m = _DURATION_RE.search(header)
    if d_m:
        duration = int(d_m.group("h")) * 3600 + int(d_m.group("m")) * 60 + float(d_m.group("s"))
    if count_frames:
        frame_count = decoded
        if duration <= 0 and fps > 0 and decoded > 1:
            duration = decoded / fps
    else:
        frame_count = max(1, round(duration * fps)) if duration > 0 and fps > 0 else decoded

    return MediaInfo(
        duration=round(duration, 3),
        width=width,
        height=height,
        frame_count=frame_count,
        fps=round(fps, 3),
        video_codec=v_m.group("codec"),
        has_audio=bool(_ASTREAM_RE.search(header)),
        format_name=fmt_m.group("fmt"),
    )
