"""Writes behind the v2 job endpoints. Views stay thin; status changes go through the state machine."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.models import Client
from videogen import costs, metrics, pricing
from videogen.errors import (
    BudgetExceeded,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidField,
    InvalidState,
    ProviderUnavailable,
    UnknownScenes,
)
from videogen.media.layout import end_card_seconds
from videogen.media.timeline import generated_seconds
from videogen.models import (
    IdempotencyRecord,
    JobEvent,
    JobStatus,
    Scene,
    SceneStatus,
    Variation,
    VariationStatus,
    VideoJob,
)
from videogen.pipeline import tasks
from videogen.pipeline.context import brand_context
from videogen.pipeline.queue import enqueue_on_commit
from videogen.pipeline.state import REFINABLE, bump_version, record_event, transition
from videogen.planning.rules import prompt_for_description
from videogen.planning.text import WORDS_PER_SECOND, word_budget
from videogen.providers import circuit
from videogen.storage import delete_quietly

logger = logging.getLogger(__name__)
IDEMPOTENCY_WINDOW = timedelta(hours=24)


# --- Spending guards ------------------------------------------------------------------------


def ensure_can_spend(client_id: Any = None) -> None:
    """The hard daily budget, the client's own daily budget (if ops set one in admin) and the provider
    circuit breaker: refuse new spend with a clear answer.

    Raises BudgetExceeded or ProviderUnavailable (both SpendRefused, with `retry_after` seconds).
    """
    budget = costs.budget_status()
    if budget.hard_exceeded:
        raise BudgetExceeded(
            f"Today's spending limit of ${budget.hard_limit} is reached; new work resumes when the budget resets.",
            retry_after=budget.seconds_until_reset,
        )
    client_budget = (
        Client.objects.filter(pk=client_id).values_list("daily_budget", flat=True).first() if client_id else None
    )
    if client_budget is not None and costs.client_spent_today(client_id) >= client_budget:
        raise BudgetExceeded(
            f"This client's daily spending limit of ${client_budget} is reached; new work for it resumes when "
            "the budget resets at midnight UTC.",
            retry_after=budget.seconds_until_reset,
        )
    if budget.soft_exceeded:
        logger.warning("daily budget soft limit reached: spent %s of %s", budget.spent_today, budget.soft_limit)
    state = circuit.current_state()
    if state.is_open:
        raise ProviderUnavailable(
            "The video provider is having trouble. Please try again in a few minutes.",
            retry_after=max(state.retry_after, 1) if state.retry_after else 300,
        )


# --- Generate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedJob:
    job: VideoJob
    replayed: bool


def request_fingerprint(body: Any) -> str:
    """A stable digest of a request body (key order and formatting do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(user: Any, key: str, fingerprint: str = "") -> VideoJob | None:
    record = IdempotencyRecord.objects.select_related("job").filter(user=user, key=key).first()
    if record is None:
        return None
    if timezone.now() - record.created_at > IDEMPOTENCY_WINDOW:
        record.delete()
        return None
    if fingerprint and record.body_fingerprint and record.body_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request. Use a new key for a new request."
        )
    return record.job


def create_job(*, user: Any, data: dict[str, Any], idempotency_key: str | None, request_id: str = "",
               fingerprint: str = "") -> CreatedJob:
    """Validated request -> job row + estimate, queued for the storyboard after commit.

    With an idempotency key, the same key and body (by `fingerprint`) within 24 h answers the first job;
    the same key with another body is refused (IdempotencyKeyReused).
    """
    if idempotency_key:
        previous = _replay(user, idempotency_key, fingerprint)
        if previous is not None:
            return CreatedJob(previous, replayed=True)
    ensure_can_spend(data.get("client_id"))
    estimate = pricing.estimate_cost(
        duration=data["duration"],
        number_of_variations=data["number_of_variations"],
        style_presets=data.get("style_presets", []),
        voiceover=bool((data.get("voiceover") or {}).get("enabled")),
        provider=settings.VIDEOGEN_PROVIDER,
        video_seconds=generated_seconds(data["duration"], pricing.scene_count_for(data["duration"]),
                                        end_card_seconds(data["duration"])),
    )
    try:
        with transaction.atomic():
            job = VideoJob.objects.create(
                created_by=user, estimated_cost=estimate.total, cost_breakdown=estimate.as_dict(),
                request_id=request_id, **data,
            )
            if idempotency_key:
                IdempotencyRecord.objects.create(user=user, key=idempotency_key, job=job,
                                                 body_fingerprint=fingerprint)
            enqueue_on_commit(tasks.BUILD_STORYBOARD, job.pk, job.run)
    except IntegrityError:
        # A concurrent request with the same key won the race: answer its job.
        previous = _replay(user, idempotency_key, fingerprint) if idempotency_key else None
        if previous is None:
            raise
        return CreatedJob(previous, replayed=True)
    metrics.VIDEO_GEN_REQUESTS_TOTAL.labels(outcome="accepted").inc()
    logger.info("job_created job_id=%s campaign_id=%s", job.pk, job.campaign_id)
    return CreatedJob(job, replayed=False)


# --- Approve / render -------------------------------------------------------------------------


def _approval_time() -> Coalesce:
    """The first approval of the current storyboard counts: approving again keeps its time."""
    return Coalesce(F("approved_at"), Value(timezone.now()))


def approve(job: VideoJob) -> VideoJob:
    updated = VideoJob.objects.filter(pk=job.pk, status=JobStatus.STORYBOARD_COMPLETE).update(
        approved=True, approved_at=_approval_time(), updated_at=timezone.now()
    )
    if not updated:
        raise InvalidState(f"Only a finished storyboard can be approved; this job is {job.status}.")
    bump_version(job.pk)
    job.refresh_from_db()
    return job


NOT_RENDERABLE = "Rendering starts from a finished storyboard; this job is {}."


def start_render(job: VideoJob) -> VideoJob:
    """Approves implicitly and queues one render per variation, in parallel."""
    if job.status != JobStatus.STORYBOARD_COMPLETE:
        raise InvalidState(NOT_RENDERABLE.format(job.status))
    failed = list(job.scenes.exclude(status=SceneStatus.COMPLETED).values_list("number", flat=True))
    if failed:
        raise InvalidState(
            f"Scenes {', '.join(map(str, failed))} have no image yet. Refine them before rendering.",
            code="scenes_incomplete",
        )
    ensure_can_spend(job.client_id)
    with transaction.atomic():
        try:
            job = transition(
                job.pk, JobStatus.GENERATING_VIDEO, new_run=True, approved=True, approved_at=_approval_time(),
                stage="rendering_video",
                percentage=50, render_started_at=timezone.now(), error="", finished_at=None,
                estimated_time_remaining=job.duration * 4, message="render requested",
            )
        except IllegalTransition as exc:
            raise InvalidState(NOT_RENDERABLE.format(exc.current)) from None
        _reset_variations(job)
        for index in range(1, job.number_of_variations + 1):
            enqueue_on_commit(tasks.RENDER_VARIATION, job.pk, index, job.run)
    return job


def _reset_variations(job: VideoJob) -> None:
    for variation in Variation.objects.filter(job=job):
        _delete_variation_files(variation)
    Variation.objects.filter(job=job).delete()
    Variation.objects.bulk_create(
        [Variation(job=job, index=index, run=job.run) for index in range(1, job.number_of_variations + 1)]
    )


def _delete_variation_files(variation: Variation) -> None:
    for field in ("video", "gif", "webm", "thumbnail"):
        delete_quietly(getattr(variation, field).name)


# --- Refine -----------------------------------------------------------------------------------


NOT_REFINABLE = "A job can be refined once its current stage has finished; this job is {}."
REFINABLE_FIELDS = ("creative_prompt", "keywords", "style_presets", "assets")


def refine(
    job: VideoJob, *, changes: dict[str, Any], scenes: list[int] | None, event_kind: str = JobEvent.REFINE
) -> VideoJob:
    """Re-runs the storyboard: only `scenes` if given (others kept), else the whole thing.

    The timeline gets an `event_kind` entry (`refine`, or `retry` for an ops retry): analytics counts refines.
    """
    if scenes:
        unknown = set(scenes) - {scene.number for scene in job.scenes.all()}
        if unknown:
            raise UnknownScenes(sorted(unknown))
    if job.status not in REFINABLE:
        raise InvalidState(NOT_REFINABLE.format(job.status))
    ensure_can_spend(job.client_id)  # regenerating scenes is new spend
    with transaction.atomic():
        try:
            job = transition(
                job.pk, JobStatus.GENERATING_STORYBOARD, new_run=True, approved=False, approved_at=None, stage="queued",
                percentage=0, error="", clarification=None, current_scene=None, finished_at=None,
                storyboard_started_at=timezone.now(), storyboard_completed_at=None, render_started_at=None,
                retry_count=job.retry_count + 1, message="refine requested",
                event_data={"scenes": scenes or "all", "changed": sorted(changes)}, **changes,
            )
        except IllegalTransition as exc:
            raise InvalidState(NOT_REFINABLE.format(exc.current)) from None
        record_event(job.pk, event_kind, "refine requested" if event_kind == JobEvent.REFINE else "retry requested",
                     scenes=scenes or "all", changed=sorted(changes))
        for variation in Variation.objects.filter(job=job):
            _delete_variation_files(variation)
        Variation.objects.filter(job=job).delete()
        if scenes:
            job.scenes.filter(number__in=scenes).update(
                status=SceneStatus.PENDING, image="", error="", run=job.run, updated_at=timezone.now()
            )
        else:
            for scene in job.scenes.all():
                delete_quietly(scene.image.name)
            job.scenes.all().delete()
        enqueue_on_commit(tasks.BUILD_STORYBOARD, job.pk, job.run)
    return job


# --- Scene edits --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SceneEdit:
    """A marketer's change to one scene; fields left as None are kept."""

    number: int
    description: str | None = None
    caption: str | None = None
    narration: str | None = None


def edit_scenes(job: VideoJob, *, edits: list[SceneEdit], scenes: list[int] | None = None) -> VideoJob:
    """Applies scene edits. A new description regenerates that scene's image (spend, like a scene refine,
    together with any `scenes` listed); caption and narration edits change text only. Approval is reset.

    Text-only edits of a finished storyboard keep it finished (no provider call, no new run); from the
    other refinable states they start a run that regenerates nothing and finishes the storyboard at once.
    """
    scenes_by_number = {scene.number: scene for scene in job.scenes.all()}
    unknown = sorted({edit.number for edit in edits} - set(scenes_by_number))
    if unknown:
        raise UnknownScenes(unknown, field="sceneEdits")
    _check_scene_edits(job, edits, scenes_by_number)
    regenerate = sorted({edit.number for edit in edits if edit.description is not None} | set(scenes or []))
    if regenerate:
        with transaction.atomic():
            job = refine(job, changes={}, scenes=regenerate)
            _apply_scene_edits(job, edits, scenes_by_number)
        return job
    return _edit_text_only(job, edits, scenes_by_number)


def _check_scene_edits(job: VideoJob, edits: list[SceneEdit], scenes_by_number: dict) -> None:
    """Copy the campaign must not say, or a line that cannot be spoken within its scene, is refused."""
    avoid = [phrase.strip() for phrase in brand_context(job).avoid if phrase.strip()]
    problems: list[str] = []
    for edit in edits:
        for name, text in (("caption", edit.caption), ("narration", edit.narration)):
            for phrase in avoid:
                if text and phrase.lower() in text.lower():
                    problems.append(f"Scene {edit.number} {name} mentions \"{phrase}\", which the brand "
                                    f"guidelines or the campaign brief rule out.")
        seconds = scenes_by_number[edit.number].duration_seconds
        words = len((edit.narration or "").split())
        if words > word_budget(seconds):
            problems.append(f"Scene {edit.number} narration takes about {words / WORDS_PER_SECOND:.0f} s to say but "
                            f"the scene lasts {seconds:.0f} s; shorten it to about {word_budget(seconds)} words.")
    if problems:
        raise InvalidField("sceneEdits", problems)


def _apply_scene_edits(job: VideoJob, edits: list[SceneEdit], scenes_by_number: dict) -> None:
    context = brand_context(job)
    for edit in edits:
        changes: dict[str, Any] = {}
        if edit.description is not None:
            changes["description"] = edit.description.strip()
            changes["prompt"] = prompt_for_description(edit.description, context)
        if edit.caption is not None:
            changes["caption"] = edit.caption.strip()
        if edit.narration is not None:
            changes["narration"] = edit.narration.strip()
        if edit.caption is not None or edit.narration is not None:
            changes["hook_variants"] = []  # the marketer's words open every variation
        if changes:
            Scene.objects.filter(pk=scenes_by_number[edit.number].pk).update(updated_at=timezone.now(), **changes)


def _edit_text_only(job: VideoJob, edits: list[SceneEdit], scenes_by_number: dict) -> VideoJob:
    numbers = sorted(edit.number for edit in edits)
    with transaction.atomic():
        still_finished = VideoJob.objects.select_for_update().filter(
            pk=job.pk, status=JobStatus.STORYBOARD_COMPLETE
        ).update(approved=False, approved_at=None, updated_at=timezone.now())
        if still_finished:
            _apply_scene_edits(job, edits, scenes_by_number)
            bump_version(job.pk)
            record_event(job.pk, JobEvent.REFINE, "scene text edited", scenes=numbers, changed=["text"])
            return VideoJob.objects.get(pk=job.pk)
    if job.status not in REFINABLE or job.status == JobStatus.NEEDS_CLARIFICATION:
        raise InvalidState(NOT_REFINABLE.format(job.status))
    with transaction.atomic():
        try:
            job = transition(
                job.pk, JobStatus.GENERATING_STORYBOARD, new_run=True, approved=False, approved_at=None,
                stage="queued", percentage=0, error="", current_scene=None, finished_at=None,
                storyboard_completed_at=None, render_started_at=None, message="scene text edited",
                event_data={"scenes": numbers, "changed": ["text"]},
            )
        except IllegalTransition as exc:
            raise InvalidState(NOT_REFINABLE.format(exc.current)) from None
        record_event(job.pk, JobEvent.REFINE, "scene text edited", scenes=numbers, changed=["text"])
        for variation in Variation.objects.filter(job=job):
            _delete_variation_files(variation)
        Variation.objects.filter(job=job).delete()
        _apply_scene_edits(job, edits, scenes_by_number)
        enqueue_on_commit(tasks.BUILD_STORYBOARD, job.pk, job.run)  # nothing to generate: it finishes at once
    return job


# --- Cancel -----------------------------------------------------------------------------------


IN_FLIGHT_VARIATIONS = (VariationStatus.PENDING, VariationStatus.RENDERING, VariationStatus.EXPORTING)
IN_FLIGHT_SCENES = (SceneStatus.PENDING, SceneStatus.GENERATING)


def stop_job(
    job: VideoJob, to_status: str, *, variations_become: str, variation_error: str = "", scene_error: str,
    **transition_fields: Any,
) -> VideoJob:
    """Moves the job to a stopped status and stops what is in flight: unfinished variations and scenes
    take their stopped status, and the provider's running predictions are cancelled after commit.

    Raises IllegalTransition when the state machine refuses `to_status` from where the job is now.
    Cancel (the API, the console) and mark-failed (the console) both stop a job this way.
    """
    with transaction.atomic():
        job = transition(job.pk, to_status, **transition_fields)
        stopped: dict[str, Any] = {"status": variations_become, "updated_at": timezone.now()}
        if variation_error:
            stopped["error"] = variation_error
        Variation.objects.filter(job=job, status__in=IN_FLIGHT_VARIATIONS).update(**stopped)
        job.scenes.filter(status__in=IN_FLIGHT_SCENES).update(status=SceneStatus.FAILED, error=scene_error)
        enqueue_on_commit(tasks.CANCEL_PREDICTIONS, job.pk)
    return job


def cancel(job: VideoJob, *, reason: str = "cancelled by the user") -> VideoJob:
    """Drops queued work, cancels in-flight predictions, stops further spend. Idempotent."""
    if job.status == JobStatus.CANCELLED:
        return job
    if job.status == JobStatus.COMPLETED:
        raise InvalidState("A completed job cannot be cancelled.")
    try:
        return stop_job(
            job, JobStatus.CANCELLED, variations_become=VariationStatus.CANCELLED, scene_error="Cancelled.",
            new_run=True, message=reason, error="",
        )
    except IllegalTransition as exc:
        if exc.current == JobStatus.CANCELLED:
            return VideoJob.objects.get(pk=job.pk)
        raise InvalidState(f"This job can no longer be cancelled; it is {exc.current}.") from None
