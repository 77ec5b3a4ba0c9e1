"""Storyboard stage: parse the brief into scenes, then generate one image per scene in parallel.

`run_storyboard_step` is safe to call any number of times (it is what the task loops on):
each call moves every unfinished scene one step, in parallel, then reports once what changed
(one version bump and one progress write per step, not one per scene: with 100 jobs in flight
the database writes are what the workers' time goes to).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from videogen import metrics, pricing
from videogen.models import Asset, CostEntry, JobStatus, Prediction, Scene, SceneImageCache, SceneStatus, VideoJob
from videogen.pipeline import progress
from videogen.pipeline.concurrency import run_parallel
from videogen.pipeline.context import brand_context, frame_size, scene_seed
from videogen.pipeline.planning import advance_plan
from videogen.pipeline.predictions import advance_prediction, collect_output, input_hash
from videogen.pipeline.state import IllegalTransition, bump_version, record_event, report_progress, transition
from videogen.prompts import PromptTooThin
from videogen.providers import get_provider
from videogen.providers.base import ImageSpec, Provider
from videogen.providers.policy import PARSE_TIMEOUT_SECONDS
from videogen.storage import local_copy, save_file, storyboard_image_name

logger = logging.getLogger(__name__)
SECONDS_PER_IMAGE_GUESS = 8  # a flux-schnell image's average duration


def run_storyboard_step(job_id: int, run: int) -> bool:
    """Advances the storyboard of `job_id` in `run`. Returns True when there is nothing more to do."""
    job = VideoJob.objects.select_related("client", "campaign").get(pk=job_id)
    if job.run != run or job.status != JobStatus.GENERATING_STORYBOARD:
        return True
    if not job.scenes.exists():
        return _parse(job)
    provider = get_provider()
    unfinished = list(job.scenes.filter(status__in=[SceneStatus.PENDING, SceneStatus.GENERATING]))
    changed = run_parallel([lambda scene=scene: _advance_scene(job, scene, provider) for scene in unfinished])
    return _report_or_finish(job, scenes_changed=any(changed))


def _parse(job: VideoJob) -> bool:
    """Plans the scenes (one step of it, when the LLM is writing) and stores them. True when the job is over."""
    if job.storyboard_started_at is None:
        VideoJob.objects.filter(pk=job.pk).update(storyboard_started_at=timezone.now())
    if job.stage != "parsing_brief":
        report_progress(job.pk, run=job.run, stage="parsing_brief", percentage=2, estimated_time_remaining=60)
    started = time.monotonic()
    try:
        plan = advance_plan(job, get_provider())
    except PromptTooThin as exc:
        _finish(job, JobStatus.NEEDS_CLARIFICATION, clarification={"questions": exc.questions},
                message="the brief is too thin to build scenes from")
        return True
    if plan is None:
        return False  # the LLM planner is still writing: the next step polls it
    if plan.planner == "rules" and time.monotonic() - started > PARSE_TIMEOUT_SECONDS:
        _finish(job, JobStatus.FAILED, error="Reading your brief took too long. Shorten the prompt and try again.")
        metrics.JOB_FAILURES_TOTAL.labels(reason="parse_timeout").inc()
        return True
    scene_assets = _scene_assets(job)
    with transaction.atomic():
        for planned in plan.scenes:
            Scene.objects.create(
                job=job, number=planned.number, description=planned.description, prompt=planned.prompt,
                role=planned.role, caption=planned.caption, narration=planned.narration,
                negative_prompt=planned.negative_prompt, start_seconds=planned.start_seconds,
                duration_seconds=planned.duration_seconds, run=job.run, asset=scene_assets.get(planned.number),
                hook_variants=[{"caption": caption, "narration": narration}
                               for caption, narration in planned.hook_variants],
            )
        VideoJob.objects.filter(pk=job.pk).update(planner=plan.planner)
        record_event(job.pk, "planned", f"{len(plan.scenes)} scenes planned by the {plan.planner} planner",
                     planner=plan.planner, notes=plan.notes)
    report_progress(
        job.pk, run=job.run, stage="generating_scene_1", percentage=progress.PARSED_PERCENT, current_scene=1,
        estimated_time_remaining=SECONDS_PER_IMAGE_GUESS * 2,
    )
    return False


def _scene_assets(job: VideoJob) -> dict[int, Asset]:
    """Uploaded images the marketer pinned to a scene number are used as that scene's image."""
    wanted = {int(ref["sceneNumber"]): ref["id"] for ref in job.assets or [] if ref.get("sceneNumber")}
    assets = Asset.objects.filter(id__in=wanted.values(), client_id=job.client_id, type=Asset.Kind.IMAGE)
    by_id = {str(asset.id): asset for asset in assets}
    return {number: by_id[str(asset_id)] for number, asset_id in wanted.items() if str(asset_id) in by_id}


def image_spec(job: VideoJob, scene: Scene) -> ImageSpec:
    width, height = frame_size(job)
    context = brand_context(job)
    return ImageSpec(
        prompt=scene.prompt, negative_prompt=scene.negative_prompt, aspect_ratio=job.aspect_ratio,
        width=width, height=height, seed=scene_seed(job.pk, scene.number, scene.run),
        hd=pricing.image_price(job.style_presets) == pricing.HD_IMAGE_PRICE, scene_number=scene.number,
        description=scene.description, palette=context.palette, brand_name=context.brand_name,
    )


def _cache_key(model: str, spec: ImageSpec) -> str:
    return input_hash({"model": model, "prompt": spec.prompt, "negative": spec.negative_prompt,
                       "aspect": spec.aspect_ratio, "seed": spec.seed})


def _advance_scene(job: VideoJob, scene: Scene, provider: Provider) -> bool:
    """Moves one scene a step. True when the scene changed in a way a client sees (status, image)."""
    if scene.asset_id:
        with local_copy(scene.asset.file.name) as path:
            _store_scene_image(job, scene, path)
        return True
    spec = image_spec(job, scene)
    model = provider.image_model(spec.hd)
    key = _cache_key(model, spec)
    if scene.status == SceneStatus.PENDING and _use_cached_image(job, scene, model, key):
        return True
    step = advance_prediction(
        job, purpose=Prediction.Purpose.STORYBOARD, run=scene.run, scene=scene, model=model, payload_hash=key,
        provider=provider, create=lambda: provider.create_image(spec),
    )
    if step.state == "pending":
        return bool(Scene.objects.filter(pk=scene.pk, status=SceneStatus.PENDING).update(status=SceneStatus.GENERATING))
    if step.state == "failed":
        Scene.objects.filter(pk=scene.pk).update(
            status=SceneStatus.FAILED, error=_scene_error(step.error), updated_at=timezone.now()
        )
        return True
    _collect_image(job, scene, step.prediction, provider, model, key, hd=spec.hd)
    return True  # stored, or its attempt failed (the scene stays generating, its next attempt is due)


def _collect_image(job: VideoJob, scene: Scene, prediction: Prediction, provider: Provider, model: str, key: str,
                   *, hd: bool) -> None:
    def store(path: Path) -> None:
        name = _store_scene_image(job, scene, path)
        SceneImageCache.objects.bulk_create(  # one upsert: a refine may store the same key again
            [SceneImageCache(key=key, model=model, image=name)],
            update_conflicts=True, unique_fields=["key"], update_fields=["model", "image"],
        )

    collect_output(
        job, prediction, provider, filename=f"scene_{scene.number}", check=_verify_image,
        kind=CostEntry.Kind.STORYBOARD, price=provider.image_cost(hd),
        description=f"scene {scene.number} image ({model})", store=store,
    )


def _verify_image(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        image.verify()


def _use_cached_image(job: VideoJob, scene: Scene, model: str, key: str) -> bool:
    fresh_after = timezone.now() - timedelta(hours=settings.SCENE_CACHE_HOURS)
    cached = SceneImageCache.objects.filter(key=key, created_at__gte=fresh_after).first()
    if cached is None or not default_storage.exists(cached.image.name):
        metrics.SCENE_CACHE_LOOKUPS_TOTAL.labels(result="miss").inc()
        return False
    metrics.SCENE_CACHE_LOOKUPS_TOTAL.labels(result="hit").inc()
    with local_copy(cached.image.name) as path:
        _store_scene_image(job, scene, path)
    Prediction.objects.create(
        job=job, scene=scene, run=scene.run, purpose=Prediction.Purpose.STORYBOARD, provider="cache", model=model,
        input_hash=key, status=Prediction.Status.SUCCEEDED, cache_hit=True, completed_at=timezone.now(),
    )
    return True


def _store_scene_image(job: VideoJob, scene: Scene, path: Path) -> str:
    """Stores the image and completes the scene; the step reports it (run_storyboard_step)."""
    suffix = path.suffix.lower() if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp") else ".png"
    name = save_file(storyboard_image_name(job.pk, scene.number, suffix), path)
    Scene.objects.filter(pk=scene.pk).update(
        image=name, status=SceneStatus.COMPLETED, error="", updated_at=timezone.now()
    )
    return name


def _scene_error(detail: str) -> str:
    return f"We couldn't generate this scene's image ({detail or 'provider error'}). Refine this scene to try again."


def _scene_counts(job: VideoJob) -> dict[str, int]:
    counts = {status: 0 for status in SceneStatus.values}
    for status in job.scenes.values_list("status", flat=True):
        counts[status] += 1
    return counts


def _report_storyboard_progress(job: VideoJob, counts: dict[str, int]) -> None:
    total = sum(counts.values())
    finished = counts[SceneStatus.COMPLETED] + counts[SceneStatus.FAILED]
    next_scene = job.scenes.filter(status__in=[SceneStatus.PENDING, SceneStatus.GENERATING]).order_by("number")
    current = next_scene.values_list("number", flat=True).first()
    if current is None:
        return
    report_progress(
        job.pk, run=job.run, stage=f"generating_scene_{current}", current_scene=current,
        percentage=progress.storyboard_percentage(finished, total),
        estimated_time_remaining=progress.time_remaining(
            job.storyboard_started_at, finished / max(1, total), fallback=SECONDS_PER_IMAGE_GUESS * 2
        ),
    )


def _report_or_finish(job: VideoJob, *, scenes_changed: bool) -> bool:
    counts = _scene_counts(job)
    if counts[SceneStatus.PENDING] + counts[SceneStatus.GENERATING]:
        if scenes_changed:
            bump_version(job.pk)  # a scene's status or image moved: pollers must not get a 304
        _report_storyboard_progress(job, counts)
        return False
    if counts[SceneStatus.COMPLETED] == 0:
        _finish(job, JobStatus.FAILED,
                error="We couldn't generate any storyboard image. The image service may be busy; "
                      "use Refine to try again in a few minutes.")
        metrics.JOB_FAILURES_TOTAL.labels(reason="storyboard_failed").inc()
        return True
    _finish(job, JobStatus.STORYBOARD_COMPLETE, percentage=progress.STORYBOARD_DONE_PERCENT,
            storyboard_completed_at=timezone.now(), current_scene=None)
    if job.storyboard_started_at:
        metrics.STORYBOARD_GEN_DURATION_SECONDS.observe((timezone.now() - job.storyboard_started_at).total_seconds())
    return True


def _finish(job: VideoJob, status: str, message: str = "", **fields) -> None:
    try:
        transition(job.pk, status, expected_run=job.run, message=message or fields.get("error", ""), **fields)
    except IllegalTransition:
        logger.info("job %s moved on (cancelled or refined) before the storyboard finished", job.pk)
