"""A scriptable fake Replicate API server for tests (real HTTP on 127.0.0.1).

The real ``replicate`` client (1.0.x) talks to it unchanged::

    with FakeReplicate(latency=0.2) as fake:
        client = replicate.Client(api_token="test", base_url=fake.base_url)
        p = client.models.predictions.create(model="black-forest-labs/flux-schnell",
                                             input={"prompt": "a cat"})

``base_url`` is ``http://127.0.0.1:PORT`` (no ``/v1``: the client adds ``/v1/...`` to every
path itself). ``api_url`` is ``base_url + "/v1"`` for raw HTTP callers. A doubled
``/v1/v1/`` prefix is tolerated, so passing ``api_url`` as the client's base URL also works.

Status is computed lazily from elapsed time: ``starting`` for ``latency * starting_fraction``,
then ``processing``, then terminal at ``latency`` seconds. Outputs are real files served by
the same server at ``/files/...`` (PNG/JPEG/WebP images via Pillow, MP4 via imageio-ffmpeg).

Faults are scripted per route (``create``, ``get``, ``cancel``, ``list``, ``file``, ``upload``,
``any``) and optionally per model; see :meth:`FakeReplicate.script` and :meth:`FakeReplicate.always`.

Standalone: ``python tests/fake_replicate.py --port 8765 --latency 2`` serves until Ctrl-C.

No Django imports here on purpose.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import email.parser
import email.policy
import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = [
    "FakeReplicate",
    "sign",
    "error",
    "throttled",
    "slow",
    "ROUTES",
    "BEHAVIOURS",
    "DEFAULT_WEBHOOK_SECRET",
    "THROTTLE_DETAIL",
    "tokens",
    "plan_reply",
]

THROTTLE_DETAIL = "Request was throttled. Your rate limit resets in ~30s."

# base64 of 32 fixed bytes; standard base64 never contains "_", which the client's
# validator requires (it splits the key on "_" and expects exactly two parts).
DEFAULT_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"fake-replicate-webhook-secret-32b").decode()

ROUTES = ("create", "get", "cancel", "list", "file", "upload", "any")

# Behaviours that decide how a *created* prediction ends (only valid on the "create" route).
BEHAVIOURS = (
    "succeed",  # normal: succeeded with real media output
    "fail",  # status failed, error message set
    "hang",  # stays processing until canceled (or Cancel-After deadline)
    "aborted",  # status aborted (the 1.0 client cannot parse this status)
    "malformed_output",  # succeeded, output {"weird": 1} (or the scripted "output")
    "non_media_output",  # succeeded, output points at a text/plain file
    "empty_output",  # succeeded, output [] (image, text) / None (video)
    "invalid_json",  # text models: succeeded, but the reply is prose with broken JSON in it
)

_PROBLEM_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request could not be parsed."),
    401: ("Unauthenticated", "You did not pass a valid authentication token"),
    402: (
        "Insufficient credit",
        "You have insufficient credit to run this model. Go to "
        "https://replicate.com/account/billing#billing to purchase credit. "
        "Once you purchase credit, please wait a few minutes before trying again.",
    ),
    404: ("Not found", "The requested resource could not be found."),
    409: ("Conflict", "The request conflicts with the current state of the resource."),
    422: ("Input validation failed", "Input validation failed"),
    429: ("Request was throttled", THROTTLE_DETAIL),
    500: ("Internal Server Error", "Internal Server Error"),
    502: ("Bad Gateway", "Bad Gateway"),
    503: ("Service Unavailable", "Service Unavailable"),
    504: ("Gateway Timeout", "Gateway Timeout"),
}

_ACTION_KEYS = {
    "status",  # int HTTP status -> problem+json error response
    "detail",
    "title",
    "retry_after",  # adds a Retry-After header (seconds)
    "headers",  # extra response headers
    "body",  # raw response body (str/bytes/JSON-able) instead of problem+json
    "content_type",
    "drop",  # "close" (clean close, no response) or "reset" (TCP RST)
    "delay",  # seconds to wait before writing the response (work is done first)
    "behaviour",  # create route: how the prediction ends (see BEHAVIOURS)
    "output",  # create route: output override for succeed/malformed_output
    "error",  # create route: error message for fail
    "latency",  # create route: per-prediction latency override
    "logs",  # create route: logs override
}

_DEFAULT_IMAGE_KEYWORDS = ("flux", "sdxl", "stable-diffusion", "imagen", "ideogram", "recraft")
_DEFAULT_VIDEO_KEYWORDS = (
    "video", "i2v", "t2v", "wan-", "kling", "veo", "hailuo", "minimax", "ltx",
    "seedance", "ray", "luma", "hunyuan", "pixverse", "mochi",
)  # fmt: skip
_DEFAULT_UPSCALE_KEYWORDS = ("upscal", "esrgan", "topaz")
# Text-to-speech models answer one WAV URL (jaaari/kokoro-82m: input {text, voice, speed}).
_DEFAULT_AUDIO_KEYWORDS = ("kokoro", "tts", "speech", "xtts", "bark")
#: The fake speaks this many words per second (a tone as long as the text would take to say).
FAKE_WORDS_PER_SECOND = 2.8
_DEFAULT_TEXT_KEYWORDS = ("llama", "mistral", "mixtral", "gemma", "qwen", "deepseek", "gpt-", "claude", "granite")
INVALID_JSON_REPLY = 'Sure! Here is your storyboard:\n{"scenes": [{"role": "hook", "description": "A runner",'

_MEDIA_INPUT_KEYS = (
    "image", "start_image", "end_image", "last_image", "first_frame_image", "input_image",
    "image_url", "video", "input_video", "video_url", "reference_images", "mask",
)  # fmt: skip


# --------------------------------------------------------------------------- helpers


# The Standard Webhooks test vector from Replicate's webhook documentation (signing and verification tests use it).
WEBHOOK_TEST_VECTOR = {
    "key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": '{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def sign(msg_id: str, timestamp: int | str, body: str | bytes, secret: str) -> str:
    """Replicate (Standard Webhooks) signature: ``v1,<base64 HMAC-SHA256>``.

    Signed content is ``"{msg_id}.{timestamp}.{body}"``; the key is the base64-decoded part of
    ``secret`` after ``whsec_``.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    raw = secret.split("_", 1)[1] if secret.startswith("whsec_") else secret
    key = base64.b64decode(raw)
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def error(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    retry_after: float | None = None,
    delay: float = 0.0,
) -> dict:
    """A scripted problem+json error response, e.g. ``error(500)`` or ``error(402)``."""
    action: dict[str, Any] = {"status": status}
    if detail is not None:
        action["detail"] = detail
    if title is not None:
        action["title"] = title
    if retry_after is not None:
        action["retry_after"] = retry_after
    if delay:
        action["delay"] = delay
    return action


def throttled(retry_after: float | None = None) -> dict:
    """A 429 with Replicate's throttle body; ``Retry-After`` only if ``retry_after`` is given."""
    return error(429, THROTTLE_DETAIL, retry_after=retry_after)


def slow(seconds: float, then: Any = "ok") -> dict:
    """Do the work, then wait ``seconds`` before answering (``then`` is another action)."""
    action = _normalise_action(then)
    action["delay"] = seconds
    return action


def _normalise_action(item: Any) -> dict:
    if item is None or item == "ok":
        return {}
    if isinstance(item, bool):
        raise ValueError(f"invalid scripted action: {item!r}")
    if isinstance(item, int):
        return {"status": item}
    if isinstance(item, str):
        if item in ("drop", "close"):
            return {"drop": "close"}
        if item == "reset":
            return {"drop": "reset"}
        if item in BEHAVIOURS:
            return {"behaviour": item}
        raise ValueError(f"unknown scripted action: {item!r}")
    if isinstance(item, dict):
        unknown = set(item) - _ACTION_KEYS
        if unknown:
            raise ValueError(f"unknown keys in scripted action: {sorted(unknown)}")
        action = dict(item)
        if "behaviour" in action and action["behaviour"] not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour: {action['behaviour']!r}")
        if "drop" in action and action["drop"] not in ("close", "reset"):
            raise ValueError("drop must be 'close' or 'reset'")
        return action
    raise ValueError(f"invalid scripted action: {item!r}")


def _answers(action: dict) -> bool:
    """True if the action replaces the normal answer (an error status or a dropped connection)."""
    return bool(action.get("status") or action.get("drop"))


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_id() -> str:
    return base64.b32encode(os.urandom(20)).decode().lower()[:26]


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(value: str | None) -> float | None:
    """Parse a ``Cancel-After`` value (``"5m"``, ``"90s"``, ``"1h30m"``, ``"500ms"``, ``"30"``)."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    pos, total = 0, 0.0
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for m in _DURATION_RE.finditer(value):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * scale[m.group(2)]
        pos = m.end()
    return total if pos == len(value) and pos > 0 else None


def _parse_prefer_wait(value: str | None) -> float | None:
    if not value:
        return None
    for part in value.split(","):
        part = part.strip()
        if part == "wait":
            return 60.0
        if part.startswith("wait="):
            try:
                return max(1.0, min(60.0, float(part[5:])))
            except ValueError:
                return None
    return None


def _describe_media(value: Any) -> dict | None:
    if not isinstance(value, str):
        return None
    if value.startswith("data:"):
        header, _, payload = value.partition(",")
        mime = header[5:].split(";")[0] or "text/plain"
        if ";base64" in header:
            try:
                size = len(base64.b64decode(payload, validate=True))
            except (binascii.Error, ValueError):
                return {"kind": "data", "mime": mime, "bytes": None, "valid": False}
        else:
            size = len(payload)
        return {"kind": "data", "mime": mime, "bytes": size, "valid": True}
    if value.startswith(("http://", "https://")):
        return {"kind": "url", "url": value, "valid": True}
    return None


def _media_inputs(inp: dict) -> dict:
    """Describe media inputs (data URIs / URLs) by key; list values become lists."""
    found: dict[str, Any] = {}
    for key, value in inp.items():
        if isinstance(value, list):
            described = [_describe_media(v) for v in value]
            if any(described):
                found[key] = described
        else:
            d = _describe_media(value)
            if d is not None and (key in _MEDIA_INPUT_KEYS or d["kind"] == "data"):
                found[key] = d
    return found


def _num(value: Any, default: float | None = None) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _size_from_aspect(aspect: Any, long_side: int, default: tuple[int, int]) -> tuple[int, int]:
    if not isinstance(aspect, str) or ":" not in aspect:
        return default
    try:
        a, b = (float(x) for x in aspect.split(":", 1))
    except ValueError:
        return default
    if a <= 0 or b <= 0:
        return default
    if a >= b:
        w, h = long_side, long_side * b / a
    else:
        w, h = long_side * a / b, long_side
    even = lambda x: max(2, int(round(x / 2)) * 2)  # noqa: E731 - yuv420p needs even sizes
    return even(w), even(h)


def _render_image(spec: dict) -> bytes:
    import io

    from PIL import Image, ImageDraw, PngImagePlugin

    seed = hashlib.sha256(str(spec["prompt"]).encode()).digest()
    colour = tuple(seed[:3])
    marker = hashlib.sha256(f"{spec['prompt']}|{spec['seed']}|{spec['index']}".encode()).digest()
    w, h = spec["width"], spec["height"]
    # Two colours, drawn as a palette image: encoding it costs a tenth of an RGB frame's CPU, which
    # the benchmarks need for the workers they measure (Replicate renders on its own machines).
    img = Image.new("P", (w, h), 0)
    img.putpalette([*colour, *(255 - c for c in colour)])
    draw = ImageDraw.Draw(img)
    x0, y0 = marker[0] % max(1, w // 2), marker[1] % max(1, h // 2)
    draw.rectangle([x0, y0, x0 + w // 3, y0 + h // 3], fill=1)
    buf = io.BytesIO()
    fmt = spec["format"]
    if fmt != "PNG":
        img = img.convert("RGB")  # JPEG and WebP have no palette mode
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("prediction", spec["prediction_id"])
        info.add_text("prompt", str(spec["prompt"])[:200])
        img.save(buf, "PNG", pnginfo=info)
    else:
        img.save(buf, fmt, quality=80)
    return buf.getvalue()


def _render_wav(seconds: float, rate: int = 24000) -> bytes:
    """A mono 16-bit WAV of a 220 Hz tone, loud (-6 dBFS) like normalized speech."""
    import io
    import math
    import wave

    frames = int(seconds * rate)
    samples = b"".join(struct.pack("<h", int(16000 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples)
    return buffer.getvalue()


def _render_mp4(duration: float, fps: int, width: int, height: int) -> bytes:
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="fake-replicate-") as tmp:
        out = os.path.join(tmp, "out.mp4")
        src = f"testsrc=size={width}x{height}:rate={fps}:duration={duration:.3f}"
        base = [exe, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", src,
                "-pix_fmt", "yuv420p"]  # fmt: skip
        for codec in (["-c:v", "libx264", "-preset", "ultrafast"], ["-c:v", "mpeg4"]):
            cmd = [*base, *codec, "-movflags", "+faststart", "-y", out]
            proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
            if proc.returncode == 0 and os.path.exists(out):
                with open(out, "rb") as fh:
                    return fh.read()
        raise RuntimeError(f"ffmpeg failed: {proc.stderr.decode(errors='replace')[-500:]}")


def tokens(text: str) -> list[str]:
    """A language model's output as Replicate serves it: a list of short string tokens to join."""
    return [text[i : i + 4] for i in range(0, len(text), 4)]


def plan_reply(inp: dict) -> str:
    """Default answer of a text model: a valid scene plan as JSON, with as many scenes as the
    prompt asks for ("exactly N scenes"; 3 otherwise). Roles run hook, beat..., cta; two other
    openings for scene 1 (`alternateHooks`)."""
    match = re.search(r"exactly (\d+) scenes", str(inp.get("prompt", "")))
    count = int(match.group(1)) if match else 3
    scenes = []
    for number in range(1, count + 1):
        role = "hook" if number == 1 else "cta" if number == count else "beat"
        scenes.append({
            "role": role,
            "description": f"Planned scene {number} of {count}: a runner in motion",
            "prompt": f"A runner in motion, shot {number}, cinematic light",
            "caption": f"Caption for scene {number}",
            "narration": f"Narration line for scene {number}.",
        })
    hooks = [{"caption": "Ever run at dawn?", "narration": "Ever run at dawn?"},
             {"caption": "The city is your track", "narration": "The city is your track."}]
    return json.dumps({"scenes": scenes, "alternateHooks": hooks})


# --------------------------------------------------------------------------- state


@dataclass
class _Prediction:
    id: str
    model: str
    version: str
    input: dict
    kind: str
    created_mono: float
    created_wall: float
    latency: float
    start_phase: float
    behaviour: str = "succeed"
    output_override: Any = None
    has_output_override: bool = False
    error_message: str | None = None
    logs_override: str | None = None
    webhook: str | None = None
    webhook_events_filter: list | None = None
    cancel_after: float | None = None
    cancel_after_raw: str | None = None
    canceled_mono: float | None = None
    output: Any = None
    output_ready: bool = False
    start_webhook_sent: bool = False
    completed_webhook_sent: bool = False
    source: str = "api"  # "api" (created via POST) - kept for debugging

    def terminal(self, now: float) -> tuple[str, float] | None:
        """(status, at_mono) if terminal at ``now``; earliest of end / cancel / deadline."""
        candidates: list[tuple[float, str]] = []
        if self.behaviour != "hang":
            end = {"fail": "failed", "aborted": "aborted"}.get(self.behaviour, "succeeded")
            candidates.append((self.created_mono + self.latency, end))
        if self.canceled_mono is not None:
            candidates.append((self.canceled_mono, "canceled"))
        if self.cancel_after is not None:
            at = self.created_mono + self.cancel_after
            started = self.cancel_after >= self.start_phase
            candidates.append((at, "canceled" if started else "aborted"))
        if not candidates:
            return None
        at, status = min(candidates, key=lambda c: c[0])
        if now >= at:
            return status, at
        return None


@dataclass
class _Config:
    latency: float
    model_latency: dict
    starting_fraction: float
    image_long_side: int
    video_size: tuple
    default_video_seconds: float
    honour_cancel_after: bool
    webhook_secret: str
    webhooks_enabled: bool
    webhook_retries: int
    webhook_retry_delay: float
    page_size: int
    model_kinds: dict
    versions: dict = field(default_factory=dict)


class FakeReplicate:
    """Scriptable fake of Replicate's HTTP API; see module docstring.

    Constructor args (all optional):
      host="127.0.0.1", port=0 (free port), api_token=None (None: any non-empty token is OK;
      "Bearer x" and "Token x" both accepted), latency=1.0 (seconds to terminal),
      latencies={"owner/name": s} (per-model latency), starting_fraction=1/3 (share of latency
      spent in "starting"), webhook_secret=DEFAULT_WEBHOOK_SECRET, webhook_retries=2,
      webhook_retry_delay=0.2, image_long_side=256, video_size=(160, 284),
      default_video_seconds=5.0, honour_cancel_after=True, page_size=100,
      model_kinds={"owner/name": "image"|"video"|"upscale"|"text"}, versions={"<hash>": "owner/name"}.

    Text models (Llama and friends, or ``model_kinds`` "text") answer a list of string tokens:
    by default a valid scene plan (:func:`plan_reply`; replace ``fake.text_reply``), with the
    ``invalid_json`` behaviour broken JSON, and with a scripted ``output`` whatever is given
    (:func:`tokens` builds a token list from a string). ``hang`` is a model that never answers.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_token: str | None = None,
        latency: float = 1.0,
        latencies: dict | None = None,
        starting_fraction: float = 1 / 3,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        webhooks_enabled: bool = True,
        webhook_retries: int = 2,
        webhook_retry_delay: float = 0.2,
        image_long_side: int = 256,
        video_size: tuple[int, int] = (160, 284),
        default_video_seconds: float = 5.0,
        honour_cancel_after: bool = True,
        page_size: int = 100,
        model_kinds: dict | None = None,
        versions: dict | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.api_token = api_token
        self._initial = _Config(
            latency=latency,
            model_latency=dict(latencies or {}),
            starting_fraction=starting_fraction,
            image_long_side=image_long_side,
            video_size=tuple(video_size),
            default_video_seconds=default_video_seconds,
            honour_cancel_after=honour_cancel_after,
            webhook_secret=webhook_secret,
            webhooks_enabled=webhooks_enabled,
            webhook_retries=webhook_retries,
            webhook_retry_delay=webhook_retry_delay,
            page_size=page_size,
            model_kinds=dict(model_kinds or {}),
            versions=dict(versions or {}),
        )
        self._lock = threading.RLock()
        self._render_lock = threading.Lock()
        self._mp4_cache: dict[tuple, bytes] = {}
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._dispatcher: threading.Thread | None = None
        self._stop = threading.Event()
        self.image_keywords = list(_DEFAULT_IMAGE_KEYWORDS)
        self.video_keywords = list(_DEFAULT_VIDEO_KEYWORDS)
        self.upscale_keywords = list(_DEFAULT_UPSCALE_KEYWORDS)
        self.audio_keywords = list(_DEFAULT_AUDIO_KEYWORDS)
        self.text_keywords = list(_DEFAULT_TEXT_KEYWORDS)
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeReplicate:
        if self._server is not None:
            return self
        server = _Server((self.host, self._requested_port), _Handler)
        server.fake = self
        self._server = server
        self._stop.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-replicate-http", daemon=True,
        )  # fmt: skip
        self._thread.start()
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="fake-replicate-webhooks", daemon=True)
        self._dispatcher.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_active()
        for t in (self._thread, self._dispatcher):
            if t is not None:
                t.join(timeout=5)
        self._thread = self._dispatcher = None

    def __enter__(self) -> FakeReplicate:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeReplicate is not started")
        return self._server.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What ``replicate.Client(base_url=...)`` wants: no ``/v1`` (the client adds it)."""
        return self.root_url

    @property
    def api_url(self) -> str:
        return self.root_url + "/v1"

    def client(self, **kwargs: Any) -> Any:
        """A real ``replicate.Client`` pointed at this fake (imports replicate lazily)."""
        import replicate

        kwargs.setdefault("api_token", self.api_token or "test")
        return replicate.Client(base_url=self.base_url, **kwargs)

    # ------------------------------------------------------------------ state / knobs

    def reset(self) -> None:
        """Forget predictions, counters, scripts and faults; restore constructor knobs."""
        with self._lock:
            cfg = copy.deepcopy(self._initial)
            self.latency: float = cfg.latency
            self.model_latency: dict[str, float] = cfg.model_latency
            self.starting_fraction: float = cfg.starting_fraction
            self.image_long_side: int = cfg.image_long_side
            self.video_size: tuple[int, int] = cfg.video_size
            self.default_video_seconds: float = cfg.default_video_seconds
            self.honour_cancel_after: bool = cfg.honour_cancel_after
            self.webhook_secret: str = cfg.webhook_secret
            self.webhooks_enabled: bool = cfg.webhooks_enabled
            self.webhook_retries: int = cfg.webhook_retries
            self.webhook_retry_delay: float = cfg.webhook_retry_delay
            self.page_size: int = cfg.page_size
            self.model_kinds: dict[str, str] = cfg.model_kinds
            self.versions: dict[str, str] = cfg.versions
            self.down: bool = False
            # What a text model answers (input -> reply text); tests may replace it.
            self.text_reply: Callable[[dict], str] = plan_reply
            self._offset = 0.0
            self._preds: dict[str, _Prediction] = {}
            self._order: list[str] = []
            self._files: dict[str, dict] = {}
            self._file_cache: dict[str, bytes] = {}
            self._queues: dict[tuple[str, str | None], list[dict]] = {}
            self._always: dict[tuple[str, str | None], dict] = {}
            self.creates: list[dict] = []
            self.cancels: list[str] = []
            self.gets: int = 0
            self.requests: list[dict] = []
            self.uploads: dict[str, dict] = {}
            self.webhooks: list[dict] = []
            self.server_errors: list[str] = []

    def now(self) -> float:
        """The fake's monotonic clock (real monotonic time + :meth:`advance` offset)."""
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: predictions age by ``seconds`` without sleeping."""
        with self._lock:
            self._offset += seconds

    def script(self, route: str, responses: Iterable[Any] | Any, model: str | None = None) -> None:
        """Queue one-shot behaviours for ``route``, consumed in order (one per request).

        ``route``: "create", "get", "cancel", "list", "file" (output downloads), "upload"
        (POST /v1/files) or "any". ``model`` scopes it ("owner/name"); model-scoped queues are
        consulted before unscoped ones, and a route's queue before the "any" queue.

        Items: ``"ok"``/None (normal), an int status (``429`` -> no Retry-After, ``500``...),
        ``"drop"`` (close without response) / ``"reset"`` (TCP RST), a behaviour name for
        creates (``"hang"``, ``"fail"``, ``"aborted"``, ``"malformed_output"``,
        ``"non_media_output"``, ``"empty_output"``, ``"succeed"``), or a dict with keys
        ``status, detail, title, retry_after, headers, body, content_type, drop, delay,
        behaviour, output, error, latency, logs``; :func:`error`, :func:`throttled` and
        :func:`slow` build such dicts.
        """
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}")
        if isinstance(responses, (str, int, dict)) or responses is None:
            responses = [responses]
        actions = [self._checked(route, r) for r in responses]
        with self._lock:
            self._queues.setdefault((route, model), []).extend(actions)

    def always(self, route: str, response: Any, model: str | None = None) -> None:
        """A persistent behaviour for ``route`` (and ``model``) until :meth:`clear_faults`.

        One-shot :meth:`script` items take precedence while any remain.
        ``fake.always("create", "fail", model="kwaivgi/kling-v2.1")``.
        """
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}")
        action = self._checked(route, response)
        with self._lock:
            self._always[(route, model)] = action

    def clear_faults(self, route: str | None = None, model: str | None = None) -> None:
        """Remove scripted and persistent behaviours (all, or for one route/model)."""
        with self._lock:
            for store in (self._queues, self._always):
                for key in list(store):
                    if (route is None or key[0] == route) and (model is None or key[1] == model):
                        del store[key]

    def pending_script(self, route: str | None = None) -> int:
        """How many one-shot scripted items are still unconsumed."""
        with self._lock:
            return sum(len(q) for (r, _), q in self._queues.items() if route in (None, r))

    def create_count(
        self,
        model: str | None = None,
        input_match: Callable[[dict], bool] | dict | None = None,
        *,
        accepted: bool | None = None,
    ) -> int:
        """Count create attempts (including faulted ones) matching model / input.

        ``input_match``: a dict (subset of the input must be equal) or a predicate on the
        input. ``accepted=True`` counts only creates that made a prediction; ``False`` only
        the ones that did not (scripted errors, drops, validation errors).
        """
        with self._lock:
            entries = list(self.creates)
        n = 0
        for e in entries:
            if model is not None and e["model"] != model:
                continue
            if accepted is not None and (e["prediction_id"] is not None) != accepted:
                continue
            if isinstance(input_match, dict):
                inp = e["input"] or {}
                if any(k not in inp or inp[k] != v for k, v in input_match.items()):
                    continue
            elif callable(input_match) and not input_match(e["input"] or {}):
                continue
            n += 1
        return n

    @property
    def predictions(self) -> dict[str, dict]:
        """Snapshot ``{id: prediction JSON}`` with statuses computed now."""
        with self._lock:
            return {pid: self._render(self._preds[pid]) for pid in self._order}

    def prediction(self, pid: str) -> dict:
        with self._lock:
            return self._render(self._preds[pid])

    def cancel_after(self, pid: str) -> str | None:
        """The raw ``Cancel-After`` header recorded for prediction ``pid``."""
        with self._lock:
            return self._preds[pid].cancel_after_raw

    def finish(self, pid: str, behaviour: str | None = None) -> dict:
        """End prediction ``pid`` now (a ``hang`` becomes ``succeed`` unless ``behaviour`` is given)."""
        if behaviour is not None and behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour: {behaviour!r}")
        with self._lock:
            pred = self._preds[pid]
            if pred.terminal(self.now()) is None:
                pred.behaviour = behaviour or ("succeed" if pred.behaviour == "hang" else pred.behaviour)
                pred.latency = max(0.0, self.now() - pred.created_mono)
                pred.start_phase = min(pred.start_phase, pred.latency)
            return self._render(pred)

    def resend_webhook(self, pid: str) -> None:
        """Deliver the current prediction JSON to its webhook again (duplicate delivery)."""
        with self._lock:
            pred = self._preds[pid]
            body = self._render(pred)
        if pred.webhook:
            self._deliver_async(pred.webhook, pid, "completed", body)

    def wait_for_webhooks(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block until ``count`` webhook delivery attempts were made (or timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.webhooks) >= count:
                    return list(self.webhooks)
            time.sleep(0.02)
        with self._lock:
            return list(self.webhooks)

    def kind_of(self, model: str) -> str:
        if model in self.model_kinds:
            return self.model_kinds[model]
        low = model.lower()
        if any(k in low for k in self.text_keywords):
            return "text"
        if any(k in low for k in self.upscale_keywords):
            return "upscale"
        if any(k in low for k in self.audio_keywords):
            return "audio"
        if any(k in low for k in self.image_keywords):
            return "image"
        if any(k in low for k in self.video_keywords):
            return "video"
        return "image"

    def file_url(self, name: str) -> str:
        return f"{self.root_url}/files/{name}"

    # ------------------------------------------------------------------ internals

    def _checked(self, route: str, item: Any) -> dict:
        action = _normalise_action(item)
        if route not in ("create", "any") and {"behaviour", "output", "error", "latency", "logs"} & set(action):
            raise ValueError(f"prediction behaviours only apply to the 'create' route, not {route!r}")
        return action

    def _next_action(self, route: str, model: str | None) -> dict:
        with self._lock:
            keys = []
            for r in (route, "any"):
                if model is not None:
                    keys.append((r, model))
                keys.append((r, None))
            for key in keys:
                q = self._queues.get(key)
                if q:
                    return dict(q.pop(0))
            for key in keys:
                if key in self._always:
                    return dict(self._always[key])
            return {}

    def _latency_for(self, model: str) -> float:
        return float(self.model_latency.get(model, self.latency))

    def _render(self, pred: _Prediction) -> dict:
        """Prediction JSON at the fake's current time (call with the lock held)."""
        now = self.now()
        elapsed = now - pred.created_mono
        term = pred.terminal(now)
        started_at = completed_at = None
        output = None
        error_msg = None
        metrics: dict[str, Any] = {}
        if term is None:
            status = "starting" if elapsed < pred.start_phase else "processing"
            if status == "processing":
                started_at = pred.created_wall + pred.start_phase
            logs = "" if status == "starting" else "Running fake prediction\n 50%|#####     | 1/2\n"
        else:
            status, at = term
            total = at - pred.created_mono
            completed_at = pred.created_wall + total
            if status != "aborted" and total >= pred.start_phase:
                started_at = pred.created_wall + pred.start_phase
                metrics = {"predict_time": round(total - pred.start_phase, 3), "total_time": round(total, 3)}
            logs = "Running fake prediction\n 50%|#####     | 1/2\n"
            if status == "succeeded":
                logs += "100%|##########| 2/2\n"
                output = self._ensure_output(pred)
            elif status == "failed":
                error_msg = pred.error_message or "Prediction failed (fake)."
                logs += f"Traceback (most recent call last):\nRuntimeError: {error_msg}\n"
            elif status == "canceled":
                logs += "Prediction canceled\n"
        if pred.logs_override is not None:
            logs = pred.logs_override
        return {
            "id": pred.id,
            "model": pred.model,
            "version": pred.version,
            "input": pred.input,
            "output": output,
            "error": error_msg,
            "status": status,
            "logs": logs,
            "created_at": _iso(pred.created_wall),
            "started_at": _iso(started_at),
            "completed_at": _iso(completed_at),
            "urls": {
                "get": f"{self.api_url}/predictions/{pred.id}",
                "cancel": f"{self.api_url}/predictions/{pred.id}/cancel",
                "web": f"https://replicate.com/p/{pred.id}",
            },
            "metrics": metrics,
            "data_removed": False,
            "source": "api",
        }

    def _ensure_output(self, pred: _Prediction) -> Any:
        if pred.output_ready:
            return pred.output
        pred.output_ready = True
        if pred.has_output_override:
            pred.output = copy.deepcopy(pred.output_override)
            return pred.output
        media = pred.kind in ("video", "upscale", "audio")
        if pred.kind == "text":
            pred.output = self._text_output(pred)
        elif pred.behaviour == "malformed_output":
            pred.output = {"weird": 1}
        elif pred.behaviour == "empty_output":
            pred.output = None if media else []
        elif pred.behaviour == "non_media_output":
            name = f"{pred.id}.txt"
            self._files[name] = {"type": "text", "model": pred.model}
            pred.output = self.file_url(name) if media else [self.file_url(name)]
        elif pred.kind == "audio":
            name = f"{pred.id}.wav"
            words = len(str(pred.input.get("text") or "").split())
            self._files[name] = {"type": "wav", "model": pred.model,
                                 "seconds": round(max(0.3, words / FAKE_WORDS_PER_SECOND), 3)}
            pred.output = self.file_url(name)
        elif media:
            name = f"{pred.id}.mp4"
            self._files[name] = {"type": "mp4", "model": pred.model, **self._video_spec(pred.input)}
            pred.output = self.file_url(name)
        else:
            pred.output = self._image_outputs(pred)
        return pred.output

    def _text_output(self, pred: _Prediction) -> Any:
        if pred.behaviour == "empty_output":
            return []
        if pred.behaviour == "malformed_output":
            return {"weird": 1}
        if pred.behaviour == "invalid_json":
            return tokens(INVALID_JSON_REPLY)
        return tokens(self.text_reply(pred.input))

    def _image_outputs(self, pred: _Prediction) -> list[str]:
        inp = pred.input
        n = int(_num(inp.get("num_outputs"), 1) or 1)
        n = max(1, min(4, n))
        fmt_in = str(inp.get("output_format") or "png").lower()
        fmt, ext = {"jpg": ("JPEG", "jpg"), "jpeg": ("JPEG", "jpg"), "webp": ("WEBP", "webp")}.get(
            fmt_in, ("PNG", "png")
        )
        side = self.image_long_side
        w, h = _size_from_aspect(inp.get("aspect_ratio"), side, (side, side))
        urls = []
        for i in range(n):
            name = f"{pred.id}-{i}.{ext}"
            self._files[name] = {
                "type": "image", "model": pred.model, "format": fmt, "width": w, "height": h,
                "prompt": inp.get("prompt", ""), "seed": inp.get("seed"), "index": i,
                "prediction_id": pred.id,
            }  # fmt: skip
            urls.append(self.file_url(name))
        return urls

    def _video_spec(self, inp: dict) -> dict:
        fps_in = _num(inp.get("frames_per_second")) or _num(inp.get("fps"))
        duration = _num(inp.get("duration"))
        frames = _num(inp.get("num_frames"))
        if duration is None and frames:
            duration = frames / (fps_in or 16.0)
        if duration is None:
            duration = self.default_video_seconds
        duration = max(0.2, min(30.0, duration))
        fps = int(max(1, min(30, fps_in or 24)))
        vw, vh = self.video_size
        w, h = _size_from_aspect(inp.get("aspect_ratio"), max(vw, vh), (vw, vh))
        return {"duration": round(duration, 3), "fps": fps, "width": w, "height": h}

    def _file_bytes(self, name: str) -> tuple[str, bytes] | None:
        with self._lock:
            spec = self._files.get(name)
            cached = self._file_cache.get(name)
        if spec is None:
            return None
        ctype = {
            "mp4": "video/mp4", "text": "text/plain; charset=utf-8", "upload": spec.get("content_type"),
            "wav": "audio/wav",
        }.get(spec["type"]) or {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}.get(
            spec.get("format", ""), "application/octet-stream"
        )  # fmt: skip
        if cached is not None:
            return ctype, cached
        if spec["type"] == "text":
            data = b"this is not an image or a video\n"
        elif spec["type"] == "upload":
            data = spec["data"]
        elif spec["type"] == "image":
            data = _render_image(spec)
        elif spec["type"] == "wav":
            data = _render_wav(spec["seconds"])
        else:
            key = (spec["duration"], spec["fps"], spec["width"], spec["height"])
            with self._render_lock:
                data = self._mp4_cache.get(key)
                if data is None:
                    data = _render_mp4(*key)
                    self._mp4_cache[key] = data
        with self._lock:
            self._file_cache[name] = data
        return ctype, data

    # ------------------------------------------------------------------ webhooks

    def _dispatch_loop(self) -> None:
        while not self._stop.wait(0.05):
            due: list[tuple[str, str, str, dict]] = []
            with self._lock:
                if not self.webhooks_enabled:
                    continue
                now = self.now()
                for pid in self._order:
                    pred = self._preds[pid]
                    if not pred.webhook or pred.completed_webhook_sent:
                        continue
                    events = pred.webhook_events_filter
                    if not pred.start_webhook_sent and events and "start" in events:
                        pred.start_webhook_sent = True
                        due.append((pred.webhook, pid, "start", self._render(pred)))
                    if pred.terminal(now) is not None:
                        pred.completed_webhook_sent = True
                        if not events or "completed" in events:
                            due.append((pred.webhook, pid, "completed", self._render(pred)))
            for url, pid, event, body in due:
                self._deliver_async(url, pid, event, body)

    def _deliver_async(self, url: str, pid: str, event: str, body: dict) -> None:
        threading.Thread(
            target=self._deliver, args=(url, pid, event, body), daemon=True,
            name=f"fake-replicate-webhook-{pid}",
        ).start()  # fmt: skip

    def _deliver(self, url: str, pid: str, event: str, body: dict) -> None:
        raw = json.dumps(body)
        msg_id = "msg_" + _new_id()
        attempts = 1 + max(0, int(self.webhook_retries)) if event == "completed" else 1
        for attempt in range(1, attempts + 1):
            if self._stop.is_set():
                return
            ts = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Replicate-Webhooks/fake",
                "webhook-id": msg_id,
                "webhook-timestamp": str(ts),
                "webhook-signature": sign(msg_id, ts, raw, self.webhook_secret),
            }
            record: dict[str, Any] = {
                "url": url, "prediction_id": pid, "event": event, "attempt": attempt,
                "prediction_status": body.get("status"), "headers": headers, "body": raw,
                "http_status": None, "error": None,
            }  # fmt: skip
            req = urllib.request.Request(url, data=raw.encode(), headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - test fake
                    record["http_status"] = resp.status
            except urllib.error.HTTPError as exc:
                record["http_status"] = exc.code
            except (OSError, ValueError) as exc:
                record["error"] = repr(exc)
            with self._lock:
                self.webhooks.append(record)
            status = record["http_status"]
            if status is not None and 200 <= status < 300:
                return
            time.sleep(self.webhook_retry_delay * attempt)

    # ------------------------------------------------------------------ request handling

    def _create(self, h: _Handler, model: str | None, body: dict, version: str | None) -> None:
        headers = {k: h.headers.get(k) for k in ("Prefer", "Cancel-After", "User-Agent", "Idempotency-Key")}
        if model is None:
            version_str = str(version or "")
            if ":" in version_str and "/" in version_str.split(":", 1)[0]:
                model, version = version_str.split(":", 1)
            else:
                model = self.versions.get(version_str, f"fake/version-{version_str[:12] or 'none'}")
        inp = body.get("input")
        entry: dict[str, Any] = {
            "model": model,
            "version": version,
            "input": inp if isinstance(inp, dict) else None,
            "webhook": body.get("webhook"),
            "webhook_events_filter": body.get("webhook_events_filter"),
            "prefer": headers["Prefer"],
            "cancel_after": headers["Cancel-After"],
            "headers": headers,
            "media": _media_inputs(inp) if isinstance(inp, dict) else {},
            "status": None,
            "prediction_id": None,
            "time": time.time(),
        }
        with self._lock:
            self.creates.append(entry)
        action = self._next_action("create", model)
        if _answers(action):
            entry["status"] = "drop" if action.get("drop") and not action.get("status") else action.get("status")
            h.respond_action(action)
            return
        if not isinstance(inp, dict):
            entry["status"] = 422
            h.problem(422, "- input: Invalid type. Expected: object, given: " + type(inp).__name__)
            return
        bad = [k for k, d in entry["media"].items() if isinstance(d, dict) and not d["valid"]]
        if bad:
            entry["status"] = 422
            h.problem(422, f"- input.{bad[0]}: Does not match format 'uri' (invalid data URI)")
            return
        latency = float(action.get("latency", self._latency_for(model)))
        cancel_after = parse_duration(headers["Cancel-After"]) if self.honour_cancel_after else None
        now_mono = self.now()
        pred = _Prediction(
            id=_new_id(),
            model=model,
            version=version or hashlib.sha256(model.encode()).hexdigest(),
            input=inp,
            kind=self.kind_of(model),
            created_mono=now_mono,
            created_wall=time.time(),
            latency=latency,
            start_phase=latency * self.starting_fraction,
            behaviour=action.get("behaviour", "succeed"),
            output_override=action.get("output"),
            has_output_override="output" in action,
            error_message=action.get("error"),
            logs_override=action.get("logs"),
            webhook=body.get("webhook"),
            webhook_events_filter=body.get("webhook_events_filter"),
            cancel_after=cancel_after,
            cancel_after_raw=headers["Cancel-After"],
        )
        with self._lock:
            self._preds[pred.id] = pred
            self._order.append(pred.id)
            entry["prediction_id"] = pred.id
        wait = _parse_prefer_wait(headers["Prefer"])
        if wait:
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and not self._stop.is_set():
                with self._lock:
                    if pred.terminal(self.now()) is not None:
                        break
                time.sleep(0.02)
        with self._lock:
            data = self._render(pred)
        code = 201 if data["status"] in ("succeeded", "failed", "canceled", "aborted") else 202
        entry["status"] = code
        h.respond_action(action, default=(code, data))

    def _get(self, h: _Handler, pid: str) -> None:
        with self._lock:
            self.gets += 1
            pred = self._preds.get(pid)
        action = self._next_action("get", pred.model if pred else None)
        if pred is None and not _answers(action):
            action = {**action, "status": 404, "detail": f"Prediction {pid} not found"}
        with self._lock:
            data = self._render(pred) if pred else None
        h.respond_action(action, default=(200, data))

    def _cancel(self, h: _Handler, pid: str) -> None:
        with self._lock:
            self.cancels.append(pid)
            pred = self._preds.get(pid)
        action = self._next_action("cancel", pred.model if pred else None)
        if pred is None and not _answers(action):
            action = {**action, "status": 404, "detail": f"Prediction {pid} not found"}
        data = None
        if pred is not None and not _answers(action):
            with self._lock:
                now = self.now()
                if pred.terminal(now) is None:
                    pred.canceled_mono = now
                data = self._render(pred)
        h.respond_action(action, default=(200, data))

    def _list(self, h: _Handler, query: dict) -> None:
        action = self._next_action("list", None)
        try:
            offset = max(0, int(query.get("cursor", ["0"])[0]))
        except ValueError:
            offset = 0
        with self._lock:
            ids = list(reversed(self._order))
            page = ids[offset : offset + self.page_size]
            results = [self._render(self._preds[pid]) for pid in page]
        nxt = None
        if offset + self.page_size < len(ids):
            nxt = f"{self.api_url}/predictions?cursor={offset + self.page_size}"
        h.respond_action(action, default=(200, {"previous": None, "next": nxt, "results": results}))

    def _upload(self, h: _Handler, raw: bytes) -> None:
        action = self._next_action("upload", None)
        if _answers(action):
            h.respond_action(action)
            return
        if action.get("delay"):
            time.sleep(float(action["delay"]))
        ctype = h.headers.get("Content-Type", "")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
        )
        part = None
        if msg.is_multipart():
            for p in msg.iter_parts():
                if p.get_param("name", header="content-disposition") == "content":
                    part = p
        if part is None:
            h.problem(422, "- content: file is required")
            return
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename() or "file"
        fid = _new_id()
        name = f"uploads/{fid}/{filename}"
        info = {
            "id": fid,
            "name": filename,
            "content_type": part.get_content_type(),
            "size": len(data),
            "etag": hashlib.md5(data).hexdigest(),  # noqa: S324 - etag, not security
            "checksums": {"sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()},  # noqa: S324
            "metadata": {},
            "created_at": _iso(time.time()),
            "expires_at": _iso(time.time() + 86400),
            "urls": {"get": self.file_url(name)},
        }
        with self._lock:
            self.uploads[fid] = {**info, "data": data}
            self._files[name] = {"type": "upload", "data": data, "content_type": info["content_type"], "model": None}
        h.respond_json(201, info)

    def _file(self, h: _Handler, name: str, head: bool) -> None:
        with self._lock:
            spec = self._files.get(name)
        action = self._next_action("file", spec.get("model") if spec else None)
        if _answers(action):
            h.respond_action(action)
            return
        if action.get("delay"):
            time.sleep(float(action["delay"]))
        found = self._file_bytes(name)
        if found is None:
            h.respond_raw(404, b"Not found\n", "text/plain")
            return
        ctype, data = found
        h.respond_raw(200, data, ctype, head=head)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeReplicate

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.active: set[socket.socket] = set()
        self.active_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:  # silence tracebacks
        import sys
        import traceback

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # clients going away is normal
        self.fake.server_errors.append(traceback.format_exc())

    def close_active(self) -> None:
        """Cut every open (keep-alive) connection so a stopped fake really stops answering."""
        with self.active_lock:
            socks = list(self.active)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


_PRED_RE = re.compile(r"^/v1/predictions/([^/]+)$")
_CANCEL_RE = re.compile(r"^/v1/predictions/([^/]+)/cancel$")
_MODEL_CREATE_RE = re.compile(r"^/v1/models/([^/]+)/([^/]+)/predictions$")
_DEPLOY_CREATE_RE = re.compile(r"^/v1/deployments/([^/]+)/([^/]+)/predictions$")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeReplicate/1.0"
    timeout = 30  # idle keep-alive connections
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence
        return

    def setup(self) -> None:
        super().setup()
        with self.server.active_lock:
            self.server.active.add(self.connection)

    def finish(self) -> None:
        with self.server.active_lock:
            self.server.active.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    # -- responses

    def _send(self, code: int, data: bytes, ctype: str, headers: dict | None = None, head: bool = False) -> None:
        self._status = code
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        if not head:
            self.wfile.write(data)
        self.wfile.flush()

    def respond_json(self, code: int, obj: Any, headers: dict | None = None) -> None:
        self._send(code, json.dumps(obj).encode(), "application/json", headers)

    def respond_raw(self, code: int, data: bytes, ctype: str, head: bool = False) -> None:
        self._send(code, data, ctype, head=head)

    def problem(
        self, code: int, detail: str | None = None, title: str | None = None, headers: dict | None = None
    ) -> None:
        d_title, d_detail = _PROBLEM_DEFAULTS.get(code, ("Error", "Error"))
        body = {"title": title or d_title, "status": code, "detail": detail or d_detail}
        self._send(code, json.dumps(body).encode(), "application/problem+json", headers)

    def drop(self, how: str) -> None:
        self._status = "drop"
        self.close_connection = True
        sock = self.connection
        try:
            if how == "reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def respond_action(self, action: dict, default: tuple[int, Any] | None = None) -> None:
        """Answer per a scripted action, or with ``default`` (code, json) if it has no status."""
        if action.get("delay"):
            time.sleep(float(action["delay"]))
        if action.get("drop"):
            self.drop(action["drop"])
            return
        headers = dict(action.get("headers") or {})
        if action.get("retry_after") is not None:
            ra = action["retry_after"]
            headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
        code = action.get("status")
        if code:
            if "body" in action:
                body = action["body"]
                if isinstance(body, str):
                    body = body.encode()
                elif not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self._send(code, body, action.get("content_type", "application/json"), headers)
            else:
                self.problem(code, action.get("detail"), action.get("title"), headers)
            return
        if default is None:
            self.problem(500, "fake: nothing to answer")
            return
        self.respond_json(default[0], default[1], headers)

    # -- routing

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        self._status: Any = None
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parsed = urlparse(self.path)
        path = parsed.path
        while path.startswith("/v1/v1/"):
            path = path[3:]
        try:
            self._route(fake, method, path, parse_qs(parsed.query), raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - a fake must answer and keep the bug visible
            import traceback

            fake.server_errors.append(traceback.format_exc())
            if self._status is None:
                try:
                    self.problem(500, "fake server bug, see fake.server_errors")
                except OSError:
                    pass
        finally:
            with fake._lock:
                fake.requests.append({"method": method, "path": path, "status": self._status})

    def _route(self, fake: FakeReplicate, method: str, path: str, query: dict, raw: bytes) -> None:
        if path.startswith("/files/"):
            if method in ("GET", "HEAD"):
                fake._file(self, path[len("/files/") :], head=method == "HEAD")
            else:
                self.problem(405, "Method not allowed", "Method not allowed")
            return
        if not path.startswith("/v1/"):
            self.problem(404)
            return
        if fake.down:
            self.problem(503, "Service Unavailable (fake outage)")
            return
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if (
            scheme.lower() not in ("bearer", "token")
            or not token.strip()
            or (fake.api_token is not None and token.strip() != fake.api_token)
        ):
            self.problem(401)
            return
        body: dict = {}
        if method == "POST" and raw and not path.startswith("/v1/files"):
            try:
                body = json.loads(raw)
            except ValueError:
                self.problem(400, "Invalid JSON body")
                return
            if not isinstance(body, dict):
                self.problem(400, "Body must be a JSON object")
                return
        if method == "POST":
            if m := _MODEL_CREATE_RE.match(path):
                fake._create(self, f"{m.group(1)}/{m.group(2)}", body, None)
            elif m := _DEPLOY_CREATE_RE.match(path):
                fake._create(self, f"{m.group(1)}/{m.group(2)}", body, None)
            elif path == "/v1/predictions":
                if not body.get("version"):
                    self.problem(422, "- version: version is required")
                    return
                fake._create(self, None, body, str(body["version"]))
            elif m := _CANCEL_RE.match(path):
                fake._cancel(self, m.group(1))
            elif path == "/v1/files":
                fake._upload(self, raw)
            else:
                self.problem(404)
            return
        if method == "GET":
            if path == "/v1/predictions":
                fake._list(self, query)
            elif m := _PRED_RE.match(path):
                fake._get(self, m.group(1))
            elif path == "/v1/account":
                self.respond_json(200, {"type": "user", "username": "fake", "name": "Fake User", "github_url": None})
            elif path == "/v1/webhooks/default/secret":
                self.respond_json(200, {"key": fake.webhook_secret})
            else:
                self.problem(404)
            return
        self.problem(405, "Method not allowed", "Method not allowed")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Replicate API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds until a prediction ends")
    parser.add_argument(
        "--model-latency", action="append", default=[], metavar="OWNER/NAME=SECONDS",
        help="per-model latency override (repeatable)",
    )  # fmt: skip
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    args = parser.parse_args(argv)
    latencies = {}
    for item in args.model_latency:
        name, _, secs = item.partition("=")
        latencies[name] = float(secs)
    fake = FakeReplicate(
        args.host, args.port, latency=args.latency, latencies=latencies, webhook_secret=args.webhook_secret
    )
    import signal

    def _interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # SIGINT may be inherited as ignored (background jobs); SIGTERM from scripts stops cleanly too.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    fake.start()
    print(f"Fake Replicate on {fake.base_url} (REPLICATE_BASE_URL={fake.base_url}); Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        print("Fake Replicate stopped", flush=True)


if __name__ == "__main__":
    main()
