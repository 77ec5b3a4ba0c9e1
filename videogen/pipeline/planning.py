"""The storyboard's first step: plan the scenes, with the LLM planner when the job uses it.

The LLM's prediction is recorded before it is awaited, like any other (`advance_prediction`): the
step creates it and returns, and the poller or the webhook wakes the step when the reply lands (or
when the planning budget runs out), so no worker waits on the model and a restarted worker finds
the same prediction instead of paying again. A reply that is not a valid plan gets one
retry; a second bad reply, a failed prediction, an open circuit or the 30 s parse budget running
out hand the job to the rules planner: the storyboard still gets made, and the timeline says why.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from videogen import costs
from videogen.models import CostEntry, Prediction, VideoJob
from videogen.pipeline import wakes
from videogen.pipeline.context import brand_context
from videogen.pipeline.predictions import advance_prediction, cancel_in_flight_of, input_hash, latest_attempt
from videogen.pipeline.state import record_event
from videogen.planning import Plan, RulesPlanner, planner_for
from videogen.planning.beats import split_brief
from videogen.planning.llm import InvalidPlan, build_input, parse_reply
from videogen.planning.rules import target_scene_count
from videogen.prompts import PromptTooThin, questions_for_thin_prompt
from videogen.providers.base import Provider
from videogen.providers.policy import planner_budget_seconds, prediction_policy

logger = logging.getLogger(__name__)
PLANNER = Prediction.Purpose.PLANNER
INVALID_PREFIX = "invalid plan: "


def advance_plan(job: VideoJob, provider: Provider) -> Plan | None:
    """The job's plan, or None while the LLM is still writing it (call again on the next step).

    Raises PromptTooThin when the brief needs the marketer's answers first.
    """
    questions = questions_for_thin_prompt(job.creative_prompt)
    if questions:
        raise PromptTooThin(questions)
    context = brand_context(job)
    if planner_for(provider) == "rules":
        return _rules_plan(job)
    scene_count = target_scene_count(split_brief(job.creative_prompt), job.duration)
    return _advance_llm(job, provider, context, scene_count)


def _rules_plan(job: VideoJob, *, reason: str = "") -> Plan:
    plan = RulesPlanner().plan_scenes(job.creative_prompt, duration=job.duration, platform=job.platform,
                                      context=brand_context(job))
    return replace(plan, notes=[reason]) if reason else plan


def _advance_llm(job: VideoJob, provider: Provider, context, scene_count: int) -> Plan | None:
    model = provider.planner_model()
    first = Prediction.objects.filter(job=job, purpose=PLANNER, run=job.run).order_by("attempt", "id").first()
    budget = planner_budget_seconds()
    if first is not None and (timezone.now() - first.created_at).total_seconds() > budget:
        cancel_in_flight_of(job, provider, purpose=PLANNER, reason=f"timed out after {budget:g} s")
        return _fall_back(job, f"the planner model did not answer within {budget:g} s")

    latest = latest_attempt(job, purpose=PLANNER, run=job.run)
    retry_reason = ""
    if latest is not None and latest.error.startswith(INVALID_PREFIX):
        retry_reason = latest.error.removeprefix(INVALID_PREFIX)
    payload = build_input(job.creative_prompt, duration=job.duration, scene_count=scene_count,
                          platform=job.platform, context=context, retry_reason=retry_reason)
    key = input_hash({"model": model, "input": payload})
    if latest is None:
        cached = _cached_plan(job, model, key, scene_count, context)
        if cached is not None:
            return cached

    step = advance_prediction(
        job, purpose=PLANNER, run=job.run, model=model, payload_hash=key, provider=provider,
        create=lambda: provider.create_text(model, payload),
    )
    if step.prediction is None:
        return _fall_back(job, f"the planner model is unavailable ({step.error or 'circuit open'})")
    if step.state == "pending":
        # The poller or the webhook wakes the step when the reply lands; this wake-up is the deadline.
        started = first.created_at if first is not None else timezone.now()
        wakes.request_wake(VideoJob, job.pk, started + timedelta(seconds=budget + 0.05))
        return None
    if step.state == "failed":
        return _fall_back(job, f"the planner model failed: {step.error or 'no answer'}")
    return _read_reply(job, provider, step.prediction, model, scene_count, context)


def _read_reply(job, provider, prediction: Prediction, model: str, scene_count: int, context) -> Plan | None:
    price = provider.planner_cost()
    # A reply is paid for whether or not it is usable: book it first (once per prediction).
    costs.record_cost(job=job, kind=CostEntry.Kind.PLANNER, amount=price, prediction=prediction,
                      description=f"scene plan ({model})")
    Prediction.objects.filter(pk=prediction.pk).update(cost=price)
    try:
        return parse_reply(prediction.output_text, duration=job.duration, scene_count=scene_count, context=context)
    except InvalidPlan as exc:
        Prediction.objects.filter(pk=prediction.pk).update(
            status=Prediction.Status.FAILED, error=f"{INVALID_PREFIX}{exc}"[:2000], updated_at=timezone.now(),
        )
        record_event(job.pk, "planner_invalid_reply", str(exc), attempt=prediction.attempt,
                     prediction=prediction.external_id)
        logger.warning("job %s: planner reply %s unusable: %s", job.pk, prediction.attempt, exc)
        if prediction.attempt >= prediction_policy(PLANNER).max_attempts:
            return _fall_back(job, f"the planner model's reply was not a valid plan twice ({exc})")
        return None  # the next step asks again


def _cached_plan(job: VideoJob, model: str, key: str, scene_count: int, context) -> Plan | None:
    """The same request answered validly within SCENE_CACHE_HOURS: reuse that plan, pay nothing."""
    fresh_after = timezone.now() - timedelta(hours=settings.SCENE_CACHE_HOURS)
    candidates = Prediction.objects.filter(
        purpose=PLANNER, model=model, input_hash=key, status=Prediction.Status.SUCCEEDED, created_at__gte=fresh_after,
    ).exclude(output_text="").order_by("-id")[:3]
    for cached in candidates:
        try:
            plan = parse_reply(cached.output_text, duration=job.duration, scene_count=scene_count, context=context)
        except InvalidPlan:
            continue
        Prediction.objects.create(
            job=job, run=job.run, purpose=PLANNER, provider="cache", model=model, input_hash=key,
            status=Prediction.Status.SUCCEEDED, cache_hit=True, output_text=cached.output_text,
            completed_at=timezone.now(),
        )
        return plan
    return None


def _fall_back(job: VideoJob, reason: str) -> Plan:
    record_event(job.pk, "planner_fallback", f"Planned with the rules planner: {reason}.", reason=reason)
    logger.warning("job %s: LLM planner fell back to rules: %s", job.pk, reason)
    return _rules_plan(job, reason=reason)
