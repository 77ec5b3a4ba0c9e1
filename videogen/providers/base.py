"""The provider interface: what the pipeline asks of an image / image-to-video backend.

Calls follow Replicate's shape — create a prediction, poll it, fetch its output, cancel it —
so the pipeline can record every prediction before awaiting it and resume by polling after a
crash. The offline `local` provider answers the same calls by rendering with Pillow/FFmpeg.
Retries, timeouts, backoff and the circuit breaker live in this package (policy.py), not in tasks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from videogen import pricing

PREDICTION_STATUSES = ("starting", "processing", "succeeded", "failed", "canceled")


class ProviderError(Exception):
    """A provider call failed after the policy's retries. `retryable` says whether a later try may succeed."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class ProviderUnavailable(ProviderError):
    """The circuit breaker is open: no calls are made until it half-opens."""

    def __init__(self, retry_after: int):
        super().__init__(f"provider unavailable, retry after {retry_after}s", retryable=True)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ImageSpec:
    prompt: str
    negative_prompt: str
    aspect_ratio: str
    width: int
    height: int
    seed: int
    hd: bool = False
    # For the offline renderer and for logs; remote models ignore them.
    scene_number: int = 1
    description: str = ""
    palette: list[str] = field(default_factory=list)
    brand_name: str = ""


@dataclass(frozen=True)
class ClipSpec:
    image_path: str  # a local file (the storyboard image)
    prompt: str
    negative_prompt: str
    duration_seconds: float
    width: int
    height: int
    fps: int
    seed: int
    aspect_ratio: str = "9:16"
    motion: str = "zoom_in"


@dataclass(frozen=True)
class SpeechSpec:
    """One voiceover line to speak."""

    text: str
    voice: str = ""


@dataclass(frozen=True)
class UpscaleSpec:
    video_path: str
    width: int
    height: int


@dataclass
class PredictionResult:
    external_id: str
    status: str  # one of PREDICTION_STATUSES
    output_url: str = ""
    text: str = ""  # a language model's reply (its tokens joined); media outputs use output_url
    error: str = ""
    predict_seconds: float | None = None
    raw: dict = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in ("succeeded", "failed", "canceled")


class Provider(ABC):
    name: str = "abstract"

    # Models (names recorded on each prediction and used for the scene cache key).
    @abstractmethod
    def image_model(self, hd: bool) -> str: ...

    @abstractmethod
    def video_model(self) -> str: ...

    @abstractmethod
    def upscale_model(self) -> str: ...

    # Calls. `webhook` is a URL the provider may call back when the prediction finishes.
    @abstractmethod
    def create_image(self, spec: ImageSpec, *, webhook: str | None = None) -> PredictionResult: ...

    @abstractmethod
    def create_clip(self, spec: ClipSpec, *, webhook: str | None = None) -> PredictionResult: ...

    @abstractmethod
    def create_upscale(self, spec: UpscaleSpec, *, webhook: str | None = None) -> PredictionResult: ...

    def voice_model(self) -> str:
        """The text-to-speech model (voiceovers); providers without one refuse `create_speech`."""
        return ""

    def default_voice(self) -> str:
        return ""

    def create_speech(self, spec: SpeechSpec, *, webhook: str | None = None) -> PredictionResult:
        raise ProviderError(f"{self.name} has no text-to-speech model", retryable=False)
    def planner_model(self) -> str:
        """The language model that plans scenes; empty when this provider has none (the rules planner plans)."""
        return ""

    def create_text(self, model: str, payload: dict, *, webhook: str | None = None) -> PredictionResult:
        raise ProviderError(f"{self.name} has no language model", retryable=False)

    @abstractmethod
    def get(self, external_id: str) -> PredictionResult: ...

    @abstractmethod
    def cancel(self, external_id: str) -> None: ...

    @abstractmethod
    def download(self, result: PredictionResult, dest: Path) -> Path:
        """Saves the prediction's output file to `dest` (suffix may be adjusted) and returns the path."""

    # What a succeeded prediction costs (videogen.pricing), booked in the ledger.
    def image_cost(self, hd: bool) -> Decimal:
        return pricing.HD_IMAGE_PRICE if hd else pricing.STORYBOARD_IMAGE_PRICE

    def clip_cost(self, seconds: float) -> Decimal:
        return pricing.clip_price(seconds)

    def upscale_cost(self) -> Decimal:
        return pricing.UPSCALE_PRICE

    def speech_cost(self) -> Decimal:
        return pricing.VOICEOVER_LINE_PRICE

    def planner_cost(self) -> Decimal:
        return pricing.PLANNER_PRICE
