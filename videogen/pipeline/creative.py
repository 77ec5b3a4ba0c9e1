"""What the render puts on screen and in the ear, decided from the job at render time.

Captions come from each scene's `caption` as it is when the render starts, so a caption edit never
needs new images. The voiceover reads the marketer's script, or each scene's narration and then the
CTA; every line is one TTS prediction (recorded, retried and booked like any other), stored per
run and variation so a re-render after a text edit speaks the new words.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from PIL import Image, ImageOps

from videogen.media.assemble import VoiceLine
from videogen.media.ffmpeg import MediaError, run_ffmpeg
from videogen.media.layout import end_card_seconds, safe_zone
from videogen.media.overlays import composite_product
from videogen.media.timeline import Timeline, plan_timeline
from videogen.media.tts import split_sentences, wav_seconds
from videogen.models import Asset, CostEntry, Prediction, Scene, Variation, VideoJob
from videogen.pipeline.concurrency import run_parallel
from videogen.pipeline.context import brand_context
from videogen.pipeline.predictions import advance_prediction, collect_output, input_hash
from videogen.pipeline.state import bump_version
from videogen.providers.base import Provider, SpeechSpec
from videogen.storage import local_copy, save_file

logger = logging.getLogger(__name__)


def has_end_card(job: VideoJob) -> bool:
    context = brand_context(job)
    return bool(context.cta or context.brand_name)


def render_timeline(job: VideoJob, scenes: list[Scene]) -> Timeline:
    """Scenes share the duration minus the end card's own seconds, in proportion to their plan."""
    card = end_card_seconds(job.duration) if has_end_card(job) else 0.0
    return plan_timeline([scene.duration_seconds for scene in scenes], float(job.duration),
                         fps=settings.VIDEO_FPS, end_card_seconds=card)


def frame_zone(job: VideoJob):
    """The safe zone of this job's platform, for any frame size."""
    return lambda size: safe_zone(job.platform, job.aspect_ratio, size)


# --- The product on screen --------------------------------------------------------------------


def product_asset(job: VideoJob) -> Asset | None:
    """The job's product image: an asset of the job's own client given with role `product` (or uploaded
    as one), not pinned to a scene number (those are scene images)."""
    refs = [ref for ref in job.assets or [] if isinstance(ref, dict) and not ref.get("sceneNumber")]
    named = [ref["id"] for ref in refs if ref.get("role") == "product"]
    unnamed = [ref["id"] for ref in refs if not ref.get("role")]
    return (
        Asset.objects.filter(client_id=job.client_id, type=Asset.Kind.IMAGE)
        .filter(Q(id__in=named) | Q(id__in=unnamed, role=Asset.Role.PRODUCT))
        .order_by("created_at")
        .first()
    )


def product_scene_numbers(scenes: list[Scene]) -> set[int]:
    """The planner's product scene(s); without one, the second-to-last scene (before the CTA)."""
    marked = {scene.number for scene in scenes if scene.role == "product"}
    if marked or not scenes:
        return marked
    return {scenes[-2].number if len(scenes) >= 2 else scenes[-1].number}


def clip_input_image(job: VideoJob, variation_index: int, image_path: Path, product_path: Path | None,
                     folder: Path) -> Path:
    """The picture a scene's clip animates: the storyboard image framed for this variation (1 as
    generated, 2 mirrored, 3 punched in), with the product composited into the safe zone when given."""
    framed = variation_framing(image_path, variation_index, folder)
    if product_path is None:
        return framed
    out = folder / "with_product.png"
    try:
        composite_product(framed, product_path, out, zone_for_size=frame_zone(job))
    except (OSError, ValueError) as exc:  # a broken product image must not cost the video
        logger.warning("job %s: product image skipped: %s", job.pk, exc)
        return framed
    return out


def variation_framing(image_path: Path, variation_index: int, folder: Path) -> Path:
    """Another cut of the same storyboard: variation 2 is mirrored, 3 is a tighter crop."""
    if variation_index <= 1:
        return image_path
    with Image.open(image_path) as source:
        image = ImageOps.exif_transpose(source).convert("RGB")
    if variation_index % 2 == 0:
        image = ImageOps.mirror(image)
    else:
        w, h = image.size
        image = image.crop((round(w * 0.07), round(h * 0.07), round(w * 0.93), round(h * 0.93))).resize((w, h))
    out = folder / f"variation_{variation_index}.png"
    image.save(out, "PNG")
    return out


def scene_copy(scene: Scene, variation_index: int) -> tuple[str, str]:
    """(caption, narration) of a scene in one variation: variations 2 and 3 open with the hook's
    alternate lines when the planner wrote them (`Scene.hook_variants`), so each cut opens differently."""
    variants = scene.hook_variants or []
    pick = variation_index - 2
    if 0 <= pick < len(variants) and isinstance(variants[pick], dict):
        return (str(variants[pick].get("caption", scene.caption)),
                str(variants[pick].get("narration", scene.narration)))
    return scene.caption, scene.narration


# --- The voiceover ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    key: str  # "scene-3" or "cta": one prediction each
    text: str
    scene_index: int | None  # position in the scene list; None: spoken over the end card


def voiceover_lines(job: VideoJob, scenes: list[Scene], variation_index: int = 1) -> list[Line]:
    """What the voice says and where: the script spread over the scenes, or narration + CTA (with
    this variation's opening line, `scene_copy`)."""
    wanted = job.voiceover or {}
    if not wanted.get("enabled") or not scenes:
        return []
    script = (wanted.get("script") or "").strip()
    if script:
        return _script_lines(split_sentences(script), scenes)
    copy = [scene_copy(scene, variation_index) for scene in scenes]
    lines = [Line(f"scene-{scene.number}", text, index) for index, (scene, (caption, narration))
             in enumerate(zip(scenes, copy, strict=True)) if (text := (narration or caption or "").strip())]
    cta = brand_context(job).cta.strip()
    if cta and not any(_words(cta) <= _words(line.text) for line in lines):  # the CTA scene may say it already
        lines.append(Line("cta", cta, None))
    return lines


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _script_lines(sentences: list[str], scenes: list[Scene]) -> list[Line]:
    """Sentences in order, grouped so each scene speaks at most one line (spread from the first scene)."""
    groups: dict[int, list[str]] = {}
    count = len(scenes)
    for position, sentence in enumerate(sentences):
        slot = position * count // len(sentences) if len(sentences) > count else round(
            position * count / len(sentences))
        groups.setdefault(min(slot, count - 1), []).append(sentence)
    return [Line(f"scene-{scenes[index].number}", " ".join(text), index) for index, text in sorted(groups.items())]


def voice_storage_name(job: VideoJob, variation: Variation, key: str) -> str:
    return f"videos/{job.pk}/voice/r{variation.run}_v{variation.index}_{key}.wav"


def advance_voiceover(job: VideoJob, variation: Variation, scenes: list[Scene], provider: Provider,
                      failures: list[str]) -> list[VoiceLine] | None:
    """One step for every unspoken line. The spoken lines once all are stored, else None."""
    lines = voiceover_lines(job, scenes, variation.index)
    missing = [line for line in lines if not default_storage.exists(voice_storage_name(job, variation, line.key))]
    run_parallel([lambda line=line: _advance_line(job, variation, scenes, line, provider, failures)
                  for line in missing])
    if failures or any(not default_storage.exists(voice_storage_name(job, variation, line.key)) for line in lines):
        return None
    return [VoiceLine(path=voice_storage_name(job, variation, line.key), seconds=0.0, scene=line.scene_index)
            for line in lines]


def _advance_line(job, variation, scenes, line: Line, provider: Provider, failures: list[str]) -> None:
    voice = (job.voiceover or {}).get("voice") or provider.default_voice()
    spec = SpeechSpec(text=line.text, voice=voice)
    model = provider.voice_model()
    scene = scenes[line.scene_index] if line.scene_index is not None else None
    step = advance_prediction(
        job, purpose=Prediction.Purpose.VOICEOVER, run=variation.run, scene=scene, variation=variation, model=model,
        payload_hash=input_hash({"model": model, "text": line.text, "voice": voice}), provider=provider,
        create=lambda: provider.create_speech(spec),
    )
    if step.state == "failed":
        failures.append(f"The voiceover line \"{line.text[:60]}\" could not be spoken ({step.error}).")
    elif step.state == "succeeded":
        _collect_speech(job, variation, step.prediction, provider, line, model)


def _collect_speech(job, variation, prediction: Prediction, provider: Provider, line: Line, model: str) -> None:
    """Takes the speech as a mono WAV (converting it also proves it decodes), booked, then stored."""

    def as_wav(path: Path) -> Path:
        return path.with_name("line.wav")

    def convert(path: Path) -> None:
        run_ffmpeg(["-i", str(path), "-vn", "-ac", "1", "-ar", "24000", "-c:a", "pcm_s16le", str(as_wav(path))],
                   timeout=60)
        if wav_seconds(as_wav(path)) <= 0.05:
            raise MediaError("the speech is empty")

    collect_output(
        job, prediction, provider, filename="speech.wav", check=convert, kind=CostEntry.Kind.VOICEOVER,
        price=provider.speech_cost(), description=f"variation {variation.index} voiceover {line.key} ({model})",
        store=lambda path: save_file(voice_storage_name(job, variation, line.key), as_wav(path)),
    )


def local_voice_lines(lines: list[VoiceLine], stack) -> list[VoiceLine]:
    """The stored lines as local files with their measured lengths (assembly needs both)."""
    local = []
    for line in lines:
        path = stack.enter_context(local_copy(line.path))
        local.append(VoiceLine(path=str(path), seconds=wav_seconds(Path(path)), scene=line.scene))
    return local


def record_voiceover(job: VideoJob, scenes: list[Scene], lines: list[VoiceLine], tempo: float) -> None:
    """Writes what was spoken onto the job document: the script and its measured seconds."""
    if not lines:
        return
    spoken = voiceover_lines(job, scenes)
    wanted = job.voiceover or {}
    seconds = round(sum(line.seconds for line in lines) / max(tempo, 1.0), 2)
    from videogen.providers import get_provider

    voiceover = {"enabled": True, "voice": wanted.get("voice") or get_provider().default_voice(),
                 "script": wanted.get("script") or " ".join(line.text for line in spoken), "seconds": seconds}
    if voiceover != wanted:
        VideoJob.objects.filter(pk=job.pk).update(voiceover=voiceover)
        bump_version(job.pk)
