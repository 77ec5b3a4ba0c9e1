"""Render stage, one variation at a time: scene images -> clips (provider) -> assembly (FFmpeg)
-> optional upscale (provider) -> exports (GIF, WebM, thumbnail). The last variation to finish
decides the job's outcome: completed, partially_completed or failed.
"""

from __future__ import annotations

import logging
import shutil
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from videogen import metrics, pricing
from videogen.media.assemble import AudioBed, EndCard, OnScreen, VoiceLine, assemble
from videogen.media.ffmpeg import MediaError, probe
from videogen.media.layout import end_card_seconds, safe_zone
from videogen.models import (
    Asset,
    CostEntry,
    JobStatus,
    Prediction,
    Scene,
    SceneStatus,
    Variation,
    VariationStatus,
    VideoJob,
)
from videogen.pipeline import creative, progress
from videogen.pipeline.concurrency import run_parallel
from videogen.pipeline.context import brand_context, frame_size, variation_seed
from videogen.pipeline.exports import export_formats
from videogen.pipeline.predictions import advance_prediction, cancel_in_flight, collect_output, input_hash
from videogen.pipeline.state import IllegalTransition, bump_version, record_event, report_progress, transition
from videogen.providers import get_provider
from videogen.providers.base import ClipSpec, Provider, UpscaleSpec
from videogen.storage import clip_name, local_copy, output_name, save_file, work_dir

logger = logging.getLogger(__name__)
CLIPS_SHARE = 70  # % of a variation's progress spent making clips; assembly and exports take the rest
MOTIONS = ("zoom_in", "pan_right", "zoom_out", "pan_left")
V = VariationStatus


def run_variation_step(job_id: int, index: int, run: int) -> bool:
    """Advances variation `index` of `job_id` in `run`. Returns True when there is nothing more to do."""
    job = VideoJob.objects.select_related("client", "campaign").get(pk=job_id)
    variation = Variation.objects.filter(job=job, index=index, run=run).first()
    if variation is None or job.run != run or job.status != JobStatus.GENERATING_VIDEO:
        return True
    if variation.status in (V.COMPLETED, V.FAILED, V.CANCELLED):
        finalize_job(job_id, run)
        return True
    provider = get_provider()
    if not variation.video:
        if not _advance_clips(job, variation, provider):
            return False
        voice = _advance_voice(job, variation, provider)
        if voice is None:
            return False
        _assemble(job, variation, voice)
        variation.refresh_from_db()
        if variation.status == V.FAILED or not _still_rendering(job):
            finalize_job(job_id, run)
            return True
    if pricing.wants_upscale(job.style_presets) and "upscale" not in (variation.export_errors or {}):
        if not _advance_upscale(job, variation, provider):
            return False
    _export(job, variation)
    finalize_job(job_id, run)
    return True


def _still_rendering(job: VideoJob) -> bool:
    return VideoJob.objects.filter(pk=job.pk, run=job.run, status=JobStatus.GENERATING_VIDEO).exists()


def _scenes(job: VideoJob) -> list[Scene]:
    return list(job.scenes.filter(status=SceneStatus.COMPLETED).order_by("number"))


def _clip_spec(job: VideoJob, variation: Variation, scene: Scene, image_path: Path, seconds: float) -> ClipSpec:
    """`seconds` is the scene's time in the finished video plus the crossfade into the next piece, so
    the provider animates through the transition and no crossfade shows a frozen frame."""
    width, height = frame_size(job)
    seed = variation_seed(job.pk, variation.index, scene.number)
    return ClipSpec(
        image_path=str(image_path), prompt=scene.prompt, negative_prompt=scene.negative_prompt,
        duration_seconds=round(seconds, 3), width=width, height=height, fps=settings.VIDEO_FPS, seed=seed,
        aspect_ratio=job.aspect_ratio, motion=MOTIONS[(scene.number + variation.index) % len(MOTIONS)],
    )


def _advance_clips(job: VideoJob, variation: Variation, provider: Provider) -> bool:
    """One step for every missing clip. True once every scene has its clip stored."""
    if Variation.objects.filter(pk=variation.pk, status=V.PENDING).update(status=V.RENDERING):
        bump_version(job.pk)
    scenes = _scenes(job)
    missing = [s for s in scenes if not default_storage.exists(clip_name(job.pk, variation.index, s.number))]
    failures: list[str] = []
    timeline = creative.render_timeline(job, scenes)
    seconds = {scene.number: timeline.clip_seconds(i) for i, scene in enumerate(scenes)}
    product = creative.product_asset(job)
    product_scenes = creative.product_scene_numbers(scenes) if product else set()
    run_parallel([lambda scene=scene: _advance_clip(job, variation, scene, provider, failures, seconds[scene.number],
                                                    product if scene.number in product_scenes else None)
                  for scene in missing])
    if failures:
        # The variation cannot be completed: stop paying for its other clips.
        cancel_in_flight(job, provider, variation=variation, reason="another clip of this variation failed")
        _fail_variation(variation, failures[0])
        finalize_job(job.pk, job.run)
        return False
    return all(default_storage.exists(clip_name(job.pk, variation.index, scene.number)) for scene in scenes)


def _advance_clip(job: VideoJob, variation: Variation, scene: Scene, provider: Provider, failures: list,
                  seconds: float, product: Asset | None) -> None:
    with ExitStack() as stack:
        folder = work_dir("clip-input-")
        stack.callback(shutil.rmtree, folder, True)
        # Each variation frames the scene its own way; the product scene gets the client's product on top.
        image_path = creative.clip_input_image(
            job, variation.index, stack.enter_context(local_copy(scene.image.name)),
            stack.enter_context(local_copy(product.file.name)) if product is not None else None, folder,
        )
        spec = _clip_spec(job, variation, scene, image_path, seconds)
        model = provider.video_model()
        payload = input_hash({"model": model, "image": scene.image.name, "prompt": spec.prompt, "seed": spec.seed,
                              "seconds": spec.duration_seconds, "size": [spec.width, spec.height],
                              "product": str(product.pk) if product else None})
        step = advance_prediction(
            job, purpose=Prediction.Purpose.VIDEO, run=variation.run, scene=scene, variation=variation,
            model=model, payload_hash=payload, provider=provider, create=lambda: provider.create_clip(spec),
        )
    if step.state == "failed":
        failures.append(f"Scene {scene.number} could not be animated ({step.error}).")
    elif step.state == "succeeded":
        stored = _collect(job, step.prediction, provider, clip_name(job.pk, variation.index, scene.number),
                          kind=CostEntry.Kind.VIDEO, price=provider.clip_cost(spec.duration_seconds),
                          description=f"variation {variation.index} scene {scene.number} clip ({model})")
        if stored:
            _report_clip_progress(job, variation)


def _report_clip_progress(job: VideoJob, variation: Variation) -> None:
    scenes = _scenes(job)
    done = sum(1 for scene in scenes if default_storage.exists(clip_name(job.pk, variation.index, scene.number)))
    _set_variation_progress(job, variation, CLIPS_SHARE * done // max(1, len(scenes)))


def _collect(job: VideoJob, prediction: Prediction, provider: Provider, name: str, *, kind: str, price: Decimal,
             description: str) -> bool:
    """Takes a succeeded prediction's video (it must decode) and stores it at `name`."""
    return collect_output(
        job, prediction, provider, filename="output.mp4", check=lambda path: probe(path, count_frames=False),
        kind=kind, price=price, description=description, store=lambda path: save_file(name, path),
    )


LOGO_MAX_BYTES = 5 * 1024 * 1024
LOGO_FETCH_SECONDS = 10.0
LOGO_MAX_PIXELS = 4096 * 4096


def _logo_path(job: VideoJob, stack: ExitStack) -> str | None:
    """The end card's logo as a local file, or None.

    Only two sources, neither of which turns a stored string into a storage name: an image asset row of
    the job's own client (a `logo` asset of the job, else the client's `logo_asset`), or the client's
    external http(s) `logo_url`, fetched through the SSRF guard and decoded as an image first.
    """
    asset = _logo_asset(job)
    if asset is not None:
        if not default_storage.exists(asset.file.name):
            return None
        return str(stack.enter_context(local_copy(asset.file.name)))
    url = job.client.logo_url or ""
    if url.lower().startswith(("http://", "https://")):
        return _fetched_logo(job, url, stack)
    return None


def _logo_asset(job: VideoJob) -> Asset | None:
    own_images = Asset.objects.filter(client_id=job.client_id, type=Asset.Kind.IMAGE)
    logo_ids = [ref.get("id") for ref in job.assets or [] if isinstance(ref, dict) and ref.get("role") == "logo"]
    logo = own_images.filter(id__in=logo_ids).first() if logo_ids else None
    if logo is None and job.client.logo_asset_id:
        logo = own_images.filter(id=job.client.logo_asset_id).first()
    return logo


def _fetched_logo(job: VideoJob, url: str, stack: ExitStack) -> str | None:
    """Downloads an external logo (public addresses only, size-limited) and keeps it if it decodes."""
    from io import BytesIO

    from PIL import Image

    from videogen.netguard import FetchFailed, UnsafeURL, fetch_public

    try:
        body = fetch_public(url, max_bytes=LOGO_MAX_BYTES, timeout=LOGO_FETCH_SECONDS)
        with Image.open(BytesIO(body)) as image:
            if image.format not in ("PNG", "JPEG", "WEBP", "GIF") or image.width * image.height > LOGO_MAX_PIXELS:
                raise ValueError(f"not a usable logo image ({image.format}, {image.width}x{image.height})")
            image.verify()
    except (UnsafeURL, FetchFailed, OSError, ValueError, Image.DecompressionBombError) as exc:
        # A missing logo is better than no video: the end card is drawn without it.
        logger.warning("job %s: client logo URL skipped: %s", job.pk, exc)
        return None
    folder = work_dir("logo-")
    stack.callback(shutil.rmtree, folder, True)
    path = folder / "logo"
    path.write_bytes(body)
    return str(path)


def _advance_voice(job: VideoJob, variation: Variation, provider: Provider) -> list[VoiceLine] | None:
    """The variation's spoken lines once all are stored (None while some are pending).

    A line that fails for good does not cost the marketer the video: it is assembled without the
    voiceover and the reason is kept in `exportErrors.voiceover` (like a failed upscale)."""
    if not (job.voiceover or {}).get("enabled") or "voiceover" in (variation.export_errors or {}):
        return []
    failures: list[str] = []
    lines = creative.advance_voiceover(job, variation, _scenes(job), provider, failures)
    if failures:
        variation.export_errors = {**(variation.export_errors or {}), "voiceover": failures[0]}
        Variation.objects.filter(pk=variation.pk).update(export_errors=variation.export_errors)
        record_event(job.pk, "voiceover_failed", failures[0], variation=variation.index)
        return []
    return lines


def _assemble(job: VideoJob, variation: Variation, voice: list[VoiceLine]) -> None:
    scenes = _scenes(job)
    context = brand_context(job)
    audio_controls = job.audio_controls or {}
    audio = AudioBed(
        music_style=str(audio_controls.get("musicStyle") or "upbeat"),
        volume=float(audio_controls.get("volume", 0.6) if audio_controls.get("volume") is not None else 0.6),
        muted=bool(audio_controls.get("muted", False)),
    )
    size = frame_size(job)
    zone = safe_zone(job.platform, job.aspect_ratio, size)
    variant = variation.index - 1
    folder = work_dir("assemble-")
    try:
        with ExitStack() as stack:
            clips = [(str(stack.enter_context(local_copy(clip_name(job.pk, variation.index, scene.number)))),
                      scene.duration_seconds) for scene in scenes]
            logo = _logo_path(job, stack)
            end_card = EndCard(text=context.cta or context.brand_name, palette=context.palette, logo_path=logo,
                               seconds=end_card_seconds(job.duration), zone=zone, variant=variant) \
                if creative.has_end_card(job) else None
            # Captions as they are now (edits need no new images); the logo marks every scene.
            on_screen = OnScreen(captions=[creative.scene_copy(scene, variation.index)[0] if job.captions else ""
                                           for scene in scenes],
                                 palette=context.palette, zone=zone, logo_path=logo, variant=variant)
            lines = creative.local_voice_lines(voice, stack)
            out = folder / "final.mp4"
            _set_variation_progress(job, variation, CLIPS_SHARE + 5)
            assembled = assemble(clips, out, size=size, total_duration=float(job.duration), fps=settings.VIDEO_FPS,
                                 end_card=end_card, audio=audio, on_screen=on_screen, voice=lines)
        if not _still_rendering(job):
            return  # cancelled or refined meanwhile: keep nothing, change nothing
        name = save_file(output_name(job.pk, variation.index, "mp4"), out)
        creative.record_voiceover(job, scenes, lines, assembled.voice_tempo)
    except MediaError as exc:
        logger.error("job %s variation %s: assembly failed: %s", job.pk, variation.index, exc)
        _fail_variation(variation, "We couldn't assemble the video from its scenes. Use Refine to try again.")
        return
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    variation.video = name
    Variation.objects.filter(pk=variation.pk).update(video=name)
    bump_version(job.pk)
    _set_variation_progress(job, variation, CLIPS_SHARE + 15)


def _advance_upscale(job: VideoJob, variation: Variation, provider: Provider) -> bool:
    width, height = frame_size(job)
    with local_copy(variation.video.name) as video_path:
        spec = UpscaleSpec(video_path=str(video_path), width=width, height=height)
        model = provider.upscale_model()
        step = advance_prediction(
            job, purpose=Prediction.Purpose.UPSCALE, run=variation.run, variation=variation, model=model,
            payload_hash=input_hash({"model": model, "video": variation.video.name}), provider=provider,
            create=lambda: provider.create_upscale(spec),
        )
    if step.state == "pending":
        return False
    if step.state == "succeeded" and _collect(
        job, step.prediction, provider, variation.video.name, kind=CostEntry.Kind.UPSCALE,
        price=provider.upscale_cost(), description=f"variation {variation.index} upscale ({model})",
    ):
        variation.export_errors = {**(variation.export_errors or {}), "upscale": ""}
    elif step.state == "failed":
        # The un-upscaled video is still a good deliverable (partial results over failure).
        variation.export_errors = {**(variation.export_errors or {}), "upscale": step.error or "upscale failed"}
    else:
        return False
    Variation.objects.filter(pk=variation.pk).update(export_errors=variation.export_errors)
    bump_version(job.pk)
    return True


def _export(job: VideoJob, variation: Variation) -> None:
    if Variation.objects.filter(pk=variation.pk).exclude(status=V.EXPORTING).update(status=V.EXPORTING):
        bump_version(job.pk)
    report_progress(job.pk, run=job.run, stage="exporting_formats")
    wanted = [fmt for fmt in ("gif", "webm") if fmt in (job.export_formats or [])]
    exported = export_formats(job.pk, variation.index, variation.video.name, [*wanted, "thumbnail"],
                              keep_going=lambda: _still_rendering(job))
    if exported.stopped:
        return
    for fmt, message in exported.errors.items():  # skipped formats; the MP4 is still served
        record_event(job.pk, "export_failed", message, variation=variation.index, format=fmt)
    Variation.objects.filter(pk=variation.pk, run=variation.run).update(
        status=V.COMPLETED, percentage=100, duration_seconds=round(exported.duration, 3),
        export_errors={**(variation.export_errors or {}), **exported.errors}, updated_at=timezone.now(),
        **exported.stored,
    )
    bump_version(job.pk)
    _set_variation_progress(job, variation, 100)


def _set_variation_progress(job: VideoJob, variation: Variation, percentage: int) -> None:
    if Variation.objects.filter(pk=variation.pk, percentage__lt=percentage).update(percentage=percentage):
        bump_version(job.pk)
    percentages = list(Variation.objects.filter(job=job, run=job.run).values_list("percentage", flat=True))
    fraction = sum(percentages) / (100 * max(1, len(percentages)))
    stage = "exporting_formats" if percentage >= CLIPS_SHARE + 15 and percentage < 100 else "rendering_video"
    report_progress(
        job.pk, run=job.run, stage=stage, percentage=progress.render_percentage(percentages),
        estimated_time_remaining=progress.time_remaining(job.render_started_at, fraction, fallback=job.duration * 4),
    )


def _fail_variation(variation: Variation, message: str) -> None:
    if Variation.objects.filter(pk=variation.pk, status__in=[V.PENDING, V.RENDERING, V.EXPORTING]).update(
        status=V.FAILED, error=message, updated_at=timezone.now()
    ):
        bump_version(variation.job_id)


def finalize_job(job_id: int, run: int) -> None:
    """Once every variation of the run is done, settles the job. Safe to call from every variation."""
    variations = list(Variation.objects.filter(job_id=job_id, run=run))
    if not variations or any(v.status not in (V.COMPLETED, V.FAILED, V.CANCELLED) for v in variations):
        return
    succeeded = [v for v in variations if v.status == V.COMPLETED]
    failed = [v for v in variations if v.status == V.FAILED]
    job = VideoJob.objects.get(pk=job_id)
    try:
        if len(succeeded) == len(variations):
            transition(job_id, JobStatus.COMPLETED, expected_run=run)
        elif succeeded:
            transition(job_id, JobStatus.PARTIALLY_COMPLETED, expected_run=run,
                       error=f"{len(failed)} of {len(variations)} variations failed: {failed[0].error}")
        else:
            transition(job_id, JobStatus.FAILED, expected_run=run,
                       error=failed[0].error if failed else "The video could not be rendered.")
            metrics.JOB_FAILURES_TOTAL.labels(reason="render_failed").inc()
    except IllegalTransition:
        return  # another variation settled it first, or the job was cancelled
    _observe_finished(job)


def _observe_finished(job: VideoJob) -> None:
    job.refresh_from_db()
    now = timezone.now()
    if job.render_started_at:
        metrics.VIDEO_RENDER_DURATION_SECONDS.observe((now - job.render_started_at).total_seconds())
    metrics.VIDEO_GEN_DURATION_SECONDS.observe((now - job.created_at).total_seconds())
    if job.estimated_cost:
        metrics.COST_VARIANCE_RATIO.set(float(job.actual_cost / job.estimated_cost))
