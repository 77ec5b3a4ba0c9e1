"""The offline provider: storyboard frames drawn with Pillow, clips made with FFmpeg. No keys, no network.

Each create call does its work at once and answers a finished prediction, so the pipeline's
create → record → poll → download path runs unchanged. It costs nothing. Its outputs are kept
in the media storage under `local-provider/` (standing in for the provider's file host), so any
worker on any host can poll and download a prediction another one created.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from django.core.files.storage import default_storage

from videogen.media.clips import MOTIONS, image_to_clip
from videogen.media.ffmpeg import MediaError
from videogen.media.frames import render_storyboard_frame
from videogen.media.tts import DEFAULT_OFFLINE_VOICE, OFFLINE_VOICES, PiperSpeech
from videogen.providers.base import (
    ClipSpec,
    ImageSpec,
    PredictionResult,
    Provider,
    ProviderError,
    SpeechSpec,
    UpscaleSpec,
)
from videogen.storage import local_copy, save_file, work_dir

OUTPUT_SUFFIXES = (".png", ".mp4", ".wav")

OUTPUTS_PREFIX = "local-provider"


def _output_name(prediction_id: str, suffix: str) -> str:
    return f"{OUTPUTS_PREFIX}/{prediction_id}{suffix}"


@contextmanager
def _publishing(prediction_id: str, suffix: str) -> Iterator[Path]:
    """A scratch path to render into; what is written there is stored as the prediction's output."""
    folder = work_dir("local-provider-")
    try:
        out = folder / f"{prediction_id}{suffix}"
        yield out
        if out.exists():
            save_file(_output_name(prediction_id, suffix), out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class LocalProvider(Provider):
    name = "local"

    def image_model(self, hd: bool) -> str:
        return "local/storyboard-hd" if hd else "local/storyboard"

    def video_model(self) -> str:
        return "local/ken-burns"

    def upscale_model(self) -> str:
        return "local/passthrough"

    def voice_model(self) -> str:
        return "local/piper-joe"

    def default_voice(self) -> str:
        return DEFAULT_OFFLINE_VOICE

    def create_image(self, spec: ImageSpec, *, webhook: str | None = None) -> PredictionResult:
        prediction_id = f"local-{uuid.uuid4().hex}"
        with _publishing(prediction_id, ".png") as out:
            render_storyboard_frame(
                out,
                size=(spec.width, spec.height),
                scene_number=spec.scene_number,
                title=f"Scene {spec.scene_number}",
                description=spec.description or spec.prompt,
                palette=spec.palette,
                brand_name=spec.brand_name,
                seed=spec.seed,
                notes=False,  # the picture only: the video must never show production notes
            )
        return self.get(prediction_id)

    def create_clip(self, spec: ClipSpec, *, webhook: str | None = None) -> PredictionResult:
        prediction_id = f"local-{uuid.uuid4().hex}"
        motion = spec.motion if spec.motion in MOTIONS else MOTIONS[spec.seed % len(MOTIONS)]
        try:
            with _publishing(prediction_id, ".mp4") as out:
                image_to_clip(
                    spec.image_path, out, duration=spec.duration_seconds, size=(spec.width, spec.height),
                    fps=spec.fps, motion=motion,
                )
        except MediaError as exc:
            return PredictionResult(external_id=prediction_id, status="failed", error=str(exc)[:500])
        return self.get(prediction_id)

    def create_speech(self, spec: SpeechSpec, *, webhook: str | None = None) -> PredictionResult:
        prediction_id = f"local-{uuid.uuid4().hex}"
        voice = spec.voice if spec.voice in OFFLINE_VOICES else DEFAULT_OFFLINE_VOICE
        try:
            with _publishing(prediction_id, ".wav") as out:
                PiperSpeech().synthesize(spec.text, voice, out)
        except (OSError, RuntimeError, ValueError) as exc:
            return PredictionResult(external_id=prediction_id, status="failed", error=str(exc)[:500])
        return self.get(prediction_id)

    def create_upscale(self, spec: UpscaleSpec, *, webhook: str | None = None) -> PredictionResult:
        # Offline there is no upscaler: the assembled video is already at the platform's size.
        prediction_id = f"local-{uuid.uuid4().hex}"
        save_file(_output_name(prediction_id, ".mp4"), Path(spec.video_path))
        return self.get(prediction_id)

    def get(self, external_id: str) -> PredictionResult:
        for suffix in OUTPUT_SUFFIXES:
            name = _output_name(external_id, suffix)
            if default_storage.exists(name):
                return PredictionResult(external_id=external_id, status="succeeded", output_url=f"storage:{name}")
        raise ProviderError(f"unknown local prediction {external_id}", retryable=False, status=404)

    def cancel(self, external_id: str) -> None:
        """Local predictions finish inside create: there is never anything in flight to cancel."""

    def download(self, result: PredictionResult, dest: Path) -> Path:
        name = result.output_url.removeprefix("storage:")
        if not name.startswith(f"{OUTPUTS_PREFIX}/"):
            raise ProviderError(f"not a local prediction output: {result.output_url!r}", retryable=False)
        dest = dest.with_suffix(Path(name).suffix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with local_copy(name) as source:
            shutil.copyfile(source, dest)
        return dest

    def image_cost(self, hd: bool) -> Decimal:
        return Decimal("0")

    def clip_cost(self, seconds: float) -> Decimal:
        return Decimal("0")

    def upscale_cost(self) -> Decimal:
        return Decimal("0")

    def speech_cost(self) -> Decimal:
        return Decimal("0")

    def planner_cost(self) -> Decimal:
        return Decimal("0")
