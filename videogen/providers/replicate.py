"""Replicate, through the official `replicate` client: create a prediction, poll it, fetch its file.

- Every HTTP call runs under `providers.retry` (its retry table) with our own timeouts; the
  client's built-in GET retries are switched off so retries never multiply.
- Every create carries `Cancel-After` a little above our timeout for its purpose, so a
  prediction nobody polls any more (worker gone) stops billing on its own.
- Inputs differ per model family: one small adapter per family builds the input dict.
- Images are sent as `data:` URIs (downscaled first); videos to upscale are uploaded files.
- Outputs are file URLs, downloaded with httpx (streamed, size-capped), not API calls.
"""

from __future__ import annotations

import base64
import contextvars
import io
import logging
import mimetypes
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import replicate
from django.conf import settings
from replicate.client import RetryTransport

from videogen.providers.base import (
    ClipSpec,
    ImageSpec,
    PredictionResult,
    Provider,
    ProviderError,
    SpeechSpec,
    UpscaleSpec,
)
from videogen.providers.policy import prediction_policy
from videogen.providers.retry import call_with_retries

logger = logging.getLogger(__name__)

# Our own limits on every API call (the client sends creates with no timeout at all).
API_TIMEOUT = {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 10.0}
DOWNLOAD_TIMEOUT = httpx.Timeout(10.0, read=60.0)
MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
# Input images: Replicate accepts data URIs; a storyboard frame needs no more than this.
MAX_INPUT_IMAGE_SIDE = 1280
MAX_INPUT_IMAGE_BYTES = 1_500_000
FLUX_ASPECTS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
WAN_MIN_FRAMES, WAN_MAX_FRAMES = 5, 100
WAN_MIN_FPS, WAN_MAX_FPS, WAN_FPS = 5, 24, 16
KOKORO_DEFAULT_VOICE = "am_michael"

_cancel_after: contextvars.ContextVar[str | None] = contextvars.ContextVar("cancel_after", default=None)
_last_retry_after: contextvars.ContextVar[float | None] = contextvars.ContextVar("retry_after", default=None)


class _GuardedTransport(httpx.HTTPTransport):
    """Fills in our timeouts, adds `Cancel-After` to creates, remembers `Retry-After`.

    The replicate client wraps this in its RetryTransport; the client's exceptions drop
    response headers, so the last `Retry-After` is kept for `providers.retry`.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = dict(request.extensions.get("timeout") or {})
        for key, seconds in API_TIMEOUT.items():
            if timeout.get(key) is None:
                timeout[key] = seconds
        request.extensions["timeout"] = timeout
        cancel_after = _cancel_after.get()
        if cancel_after and request.method == "POST" and request.url.path.endswith("/predictions"):
            request.headers["Cancel-After"] = cancel_after
        _last_retry_after.set(None)
        response = super().handle_request(request)
        value = response.headers.get("Retry-After", "").strip()
        try:
            _last_retry_after.set(float(value) if value else None)
        except ValueError:
            _last_retry_after.set(None)
        return response


def _retry_after(_exc: Exception) -> float | None:
    return _last_retry_after.get()


# --- Model families and their input adapters --------------------------------------------------


def model_family(model: str) -> str:
    name = model.lower().split(":", 1)[0]
    if "flux" in name:
        return "flux-pro" if re.search(r"flux-?(1\.1-)?pro|flux-.*ultra", name) else "flux"
    if "kling" in name:
        return "kling"
    if "wan" in name and "i2v" in name:
        return "wan-i2v"
    if any(word in name for word in ("upscal", "topaz", "esrgan")):
        return "upscale"
    if "kokoro" in name:
        return "kokoro"
    return "generic"


def _aspect(spec_aspect: str, width: int, height: int, allowed: tuple[str, ...] = FLUX_ASPECTS) -> str:
    aspect = (spec_aspect or "").replace("/", ":")
    if aspect in allowed:
        return aspect
    target = width / max(1, height)
    return min(allowed, key=lambda a: abs(int(a.split(":")[0]) / int(a.split(":")[1]) - target))


def flux_input(spec: ImageSpec) -> dict:
    # flux-schnell has no negative prompt.
    return {"prompt": spec.prompt, "aspect_ratio": _aspect(spec.aspect_ratio, spec.width, spec.height),
            "num_outputs": 1, "output_format": "png", "seed": spec.seed, "go_fast": True}


def flux_pro_input(spec: ImageSpec) -> dict:
    return {"prompt": spec.prompt, "aspect_ratio": _aspect(spec.aspect_ratio, spec.width, spec.height),
            "seed": spec.seed, "output_format": "png", "safety_tolerance": 2, "prompt_upsampling": False}


def generic_image_input(spec: ImageSpec) -> dict:
    payload = {"prompt": spec.prompt, "aspect_ratio": _aspect(spec.aspect_ratio, spec.width, spec.height),
               "seed": spec.seed}
    if spec.negative_prompt:
        payload["negative_prompt"] = spec.negative_prompt
    return payload


def wan_frames(duration_seconds: float) -> tuple[int, int]:
    """(num_frames, frames_per_second) covering the scene within wan's 5-100 frames, 5-24 fps."""
    fps = WAN_FPS
    if duration_seconds * fps > WAN_MAX_FRAMES:
        fps = max(WAN_MIN_FPS, int(WAN_MAX_FRAMES // max(duration_seconds, 0.1)))
    frames = max(WAN_MIN_FRAMES, min(WAN_MAX_FRAMES, round(duration_seconds * fps)))
    return frames, min(WAN_MAX_FPS, fps)


def wan_i2v_input(spec: ClipSpec, image: str) -> dict:
    frames, fps = wan_frames(spec.duration_seconds)
    # wan-2.1-i2v takes no negative prompt (its input schema has none).
    return {"prompt": spec.prompt, "image": image, "num_frames": frames, "frames_per_second": fps,
            "seed": spec.seed}


def kling_input(spec: ClipSpec, image: str) -> dict:
    # Kling renders 5 or 10 s: the nearer one; assembly trims to the scene. It takes no seed.
    payload = {"start_image": image, "prompt": spec.prompt, "duration": 5 if spec.duration_seconds <= 7.5 else 10,
               "mode": "standard"}
    if spec.negative_prompt:
        payload["negative_prompt"] = spec.negative_prompt
    return payload


def generic_clip_input(spec: ClipSpec, image: str) -> dict:
    payload = {"prompt": spec.prompt, "image": image, "duration": spec.duration_seconds, "seed": spec.seed}
    if spec.negative_prompt:
        payload["negative_prompt"] = spec.negative_prompt
    return payload


def kokoro_input(spec: SpeechSpec) -> dict:
    # jaaari/kokoro-82m: {text, voice (e.g. "af_bella"), speed}; answers one WAV URL.
    return {"text": spec.text, "voice": spec.voice or KOKORO_DEFAULT_VOICE, "speed": 1.0}


def generic_speech_input(spec: SpeechSpec) -> dict:
    payload = {"text": spec.text}
    if spec.voice:
        payload["voice"] = spec.voice
    return payload


def speech_input(model: str, spec: SpeechSpec) -> dict:
    return kokoro_input(spec) if model_family(model) == "kokoro" else generic_speech_input(spec)


IMAGE_ADAPTERS: dict[str, Callable[[ImageSpec], dict]] = {
    "flux": flux_input, "flux-pro": flux_pro_input, "generic": generic_image_input,
}
CLIP_ADAPTERS: dict[str, Callable[[ClipSpec, str], dict]] = {
    "wan-i2v": wan_i2v_input, "kling": kling_input, "generic": generic_clip_input,
}


def image_input(model: str, spec: ImageSpec) -> dict:
    return IMAGE_ADAPTERS.get(model_family(model), generic_image_input)(spec)


def clip_input(model: str, spec: ClipSpec, image: str) -> dict:
    return CLIP_ADAPTERS.get(model_family(model), generic_clip_input)(spec, image)


def image_data_uri(path: str | Path) -> str:
    """The image as a `data:` URI; large images are downscaled (JPEG) to keep the request small."""
    from PIL import Image

    path = Path(path)
    raw = path.read_bytes()
    with Image.open(io.BytesIO(raw)) as image:
        fmt = (image.format or "PNG").upper()
        small = max(image.size) <= MAX_INPUT_IMAGE_SIDE and len(raw) <= MAX_INPUT_IMAGE_BYTES
        if small and fmt in ("PNG", "JPEG", "WEBP"):
            mime = f"image/{fmt.lower()}"
        else:
            image = image.convert("RGB")
            image.thumbnail((MAX_INPUT_IMAGE_SIDE, MAX_INPUT_IMAGE_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=90)
            raw, mime = buffer.getvalue(), "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


# --- Results ------------------------------------------------------------------------------------


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://", "data:"))


def output_text(output: Any) -> str | None:
    """Language models answer a list of string tokens (or one string) that are not file URLs: the joined text."""
    if isinstance(output, list) and output and all(isinstance(token, str) for token in output):
        if not all(_is_url(token) for token in output):
            return "".join(output)
    if isinstance(output, str) and output and not _is_url(output):
        return output
    return None


def output_url(output: Any) -> str | None:
    """flux gives a list of URLs, image-to-video models one URL; anything else is unusable."""
    if isinstance(output, list) and output and isinstance(output[0], str) and output[0]:
        return output[0]
    if isinstance(output, str) and output:
        return output
    return None


def result_from_json(data: dict) -> PredictionResult:
    """A prediction JSON (API answer or webhook body) as a PredictionResult."""
    status = str(data.get("status") or "")
    error = str(data.get("error") or "")
    predict_seconds = (data.get("metrics") or {}).get("predict_time")
    if status == "aborted":
        status, error = "failed", error or "aborted by the provider before it started"
    elif status not in ("starting", "processing", "succeeded", "failed", "canceled"):
        status, error = "failed", error or f"unknown status {status!r}"
    url = text = ""
    if status == "succeeded":
        found_text = output_text(data.get("output"))
        found = output_url(data.get("output")) if found_text is None else None
        if found_text is not None:
            text = found_text
        elif found is None:
            status, error = "failed", f"malformed output: {str(data.get('output'))[:200]}"
        else:
            url = found
    return PredictionResult(
        external_id=str(data.get("id") or ""), status=status, output_url=url, text=text, error=error[:2000],
        predict_seconds=float(predict_seconds) if isinstance(predict_seconds, int | float) else None,
        raw={"status": data.get("status"), "model": data.get("model")},
    )


def _prediction_json(prediction: Any) -> dict:
    return {"id": prediction.id, "status": prediction.status, "output": prediction.output,
            "error": prediction.error, "metrics": prediction.metrics, "model": prediction.model}


def webhook_url() -> str | None:
    """Webhooks only when we can both be reached and verify them; polling is the fallback anyway."""
    if settings.PUBLIC_BASE_URL and settings.REPLICATE_WEBHOOK_SECRET:
        return f"{settings.PUBLIC_BASE_URL}/api/v2/webhooks/replicate"
    return None


def cancel_after_for(purpose: str) -> str:
    """Replicate cancels on its own a bit after our own timeout would have (120 s image, 600 s video)."""
    timeout = prediction_policy(purpose).timeout_seconds
    return f"{int(timeout + max(30.0, timeout * 0.25))}s"


# --- The provider -------------------------------------------------------------------------------


class ReplicateProvider(Provider):
    name = "replicate"

    def __init__(self) -> None:
        self._client: replicate.Client | None = None
        self._lock = threading.Lock()  # scenes and clips call from a thread pool

    @property
    def client(self) -> replicate.Client:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    @staticmethod
    def _build_client() -> replicate.Client:
        client = replicate.Client(
            api_token=settings.REPLICATE_API_TOKEN, base_url=settings.REPLICATE_BASE_URL or None,
            timeout=httpx.Timeout(**API_TIMEOUT), transport=_GuardedTransport(),
        )
        http = client._client  # builds the httpx client
        if isinstance(http._transport, RetryTransport):
            # Its GET retries on 429/503/504 would multiply ours: providers.retry is the one policy.
            http._transport.max_attempts = 1
        return client

    # Models

    def image_model(self, hd: bool) -> str:
        return settings.REPLICATE_HD_MODEL if hd else settings.REPLICATE_STORYBOARD_MODEL

    def video_model(self) -> str:
        return settings.REPLICATE_VIDEO_MODEL

    def upscale_model(self) -> str:
        return settings.REPLICATE_UPSCALE_MODEL

    def voice_model(self) -> str:
        return settings.REPLICATE_TTS_MODEL

    def default_voice(self) -> str:
        return KOKORO_DEFAULT_VOICE if model_family(self.voice_model()) == "kokoro" else ""

    def planner_model(self) -> str:
        return settings.REPLICATE_PLANNER_MODEL

    # Calls

    def create_image(self, spec: ImageSpec, *, webhook: str | None = None) -> PredictionResult:
        model = self.image_model(spec.hd)
        return self._create(model, image_input(model, spec), purpose="storyboard", webhook=webhook)

    def create_clip(self, spec: ClipSpec, *, webhook: str | None = None) -> PredictionResult:
        model = self.video_model()
        payload = clip_input(model, spec, image_data_uri(spec.image_path))
        return self._create(model, payload, purpose="video", webhook=webhook)

    def create_speech(self, spec: SpeechSpec, *, webhook: str | None = None) -> PredictionResult:
        model = self.voice_model()
        return self._create(model, speech_input(model, spec), purpose="voiceover", webhook=webhook)

    def create_upscale(self, spec: UpscaleSpec, *, webhook: str | None = None) -> PredictionResult:
        model = self.upscale_model()
        # A whole video is too big for a data URI: upload it, pass the file's URL.
        uploaded = call_with_retries(
            "upload", lambda: self.client.files.create(Path(spec.video_path)), retry_after_of=_retry_after
        )
        payload = {"video": uploaded.urls["get"], "target_resolution": "1080p"}
        return self._create(model, payload, purpose="upscale", webhook=webhook)

    def create_text(self, model: str, payload: dict, *, webhook: str | None = None) -> PredictionResult:
        return self._create(model, payload, purpose="planner", webhook=webhook)

    def _create(self, model: str, payload: dict, *, purpose: str, webhook: str | None) -> PredictionResult:
        hook = webhook or webhook_url()
        params: dict[str, Any] = {"webhook": hook, "webhook_events_filter": ["completed"]} if hook else {}

        def create() -> Any:
            token = _cancel_after.set(cancel_after_for(purpose))
            try:
                # No `wait`: Replicate answers at once with the id, which the pipeline records
                # before anything else can go wrong. Held-open creates would lose it on a crash.
                if ":" in model:  # "owner/name:version": community models run by pinned version only
                    return self.client.predictions.create(version=model.split(":", 1)[1], input=payload, **params)
                return self.client.models.predictions.create(model=model, input=payload, **params)
            finally:
                _cancel_after.reset(token)

        try:
            prediction = call_with_retries("create", create, idempotent=False, retry_after_of=_retry_after)
        except ValueError as exc:  # an answer the client could not parse: nothing to poll
            raise ProviderError(f"create answered something unreadable: {exc}", retryable=True) from exc
        return result_from_json(_prediction_json(prediction))

    def get(self, external_id: str) -> PredictionResult:
        try:
            prediction = call_with_retries(
                "get", lambda: self.client.predictions.get(external_id), retry_after_of=_retry_after
            )
        except ValueError as exc:
            # The 1.0 client cannot parse the live API's `aborted` status: that prediction is over.
            if "aborted" in str(exc):
                return PredictionResult(external_id=external_id, status="failed",
                                        error="aborted by the provider before it started")
            raise ProviderError(f"unreadable prediction {external_id}: {exc}", retryable=True) from exc
        return result_from_json(_prediction_json(prediction))

    def cancel(self, external_id: str) -> None:
        try:
            call_with_retries("cancel", lambda: self.client.predictions.cancel(external_id),
                              retry_after_of=_retry_after)
        except ValueError:
            pass  # answered with a status the client cannot parse (aborted): nothing left to cancel

    def download(self, result: PredictionResult, dest: Path) -> Path:
        url = result.output_url
        if url.startswith("data:"):
            return _save_data_uri(url, dest)
        suffix = Path(urlparse(url).path).suffix.lower()
        return call_with_retries("download", lambda: _stream_to_file(url, dest, suffix))


def _save_data_uri(uri: str, dest: Path) -> Path:
    header, _, payload = uri.partition(",")
    mime = header[5:].split(";")[0]
    target = dest.with_suffix(mimetypes.guess_extension(mime) or dest.suffix or ".bin")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(base64.b64decode(payload) if ";base64" in header else payload.encode())
    return target


_downloads: dict[str, httpx.Client] = {}
_downloads_lock = threading.Lock()


def _download_client() -> httpx.Client:
    """One pooled client per process for output downloads: building one per download (its SSL context)
    cost more CPU than the download itself, and a worker collects many outputs a minute."""
    with _downloads_lock:
        if "client" not in _downloads:
            _downloads["client"] = httpx.Client(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True)
        return _downloads["client"]


def _stream_to_file(url: str, dest: Path, suffix: str) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _download_client().stream("GET", url) as response:
        response.raise_for_status()
        if not suffix:
            mime = response.headers.get("Content-Type", "").split(";")[0].strip()
            suffix = mimetypes.guess_extension(mime) or dest.suffix or ".bin"
        target = dest.with_suffix(suffix)
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > MAX_DOWNLOAD_BYTES:
            raise ProviderError(f"output too large ({declared} bytes)", retryable=False)
        written = 0
        with open(target, "wb") as out:
            for chunk in response.iter_bytes(chunk_size=1024 * 1024):
                written += len(chunk)
                if written > MAX_DOWNLOAD_BYTES:
                    raise ProviderError(f"output larger than {MAX_DOWNLOAD_BYTES} bytes", retryable=False)
                out.write(chunk)
    return target
