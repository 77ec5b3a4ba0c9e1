"""Driving one provider prediction a step at a time, crash-safely.

Each unit of paid work (a scene image, a clip, an upscale) is a chain of Prediction rows,
one per attempt. A row is written *before* the create call is made; the provider's id is
saved as soon as it answers. A restarted worker finds the row and waits for the same
prediction instead of paying for a second one. Timeouts and retry counts come from
`providers.policy`.

A step never polls or sleeps: predictions in flight are watched by the poller (and the
webhook), which wake the owning step when one finishes; a retry after backoff or a closed
circuit is a timed wake-up (`pipeline.wakes`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from videogen import costs, metrics
from videogen.models import Prediction, Scene, Variation, VideoJob
from videogen.pipeline import wakes
from videogen.pipeline.state import record_event
from videogen.providers import circuit
from videogen.providers.base import PredictionResult, Provider, ProviderError
from videogen.providers.policy import prediction_policy
from videogen.storage import work_dir

logger = logging.getLogger(__name__)
P = Prediction.Status
# A row left in "creating" this long was interrupted mid-call (worker died): treat the attempt as failed.
CREATE_INTERRUPTED_AFTER = timedelta(seconds=60)
ORPHAN_ERROR = "create call interrupted (worker stopped)"


def input_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Step:
    prediction: Prediction | None
    state: str  # "pending" | "succeeded" | "failed"
    error: str = ""


def latest_attempt(
    job: VideoJob, *, purpose: str, run: int, scene: Scene | None = None, variation: Variation | None = None
) -> Prediction | None:
    return (
        Prediction.objects.filter(job=job, purpose=purpose, run=run, scene=scene, variation=variation)
        .order_by("-attempt", "-id")
        .first()
    )


APPLIED_FIELDS = ("external_id", "status", "output_url", "output_text", "error", "predict_seconds", "completed_at",
                  "updated_at")


def _apply(prediction: Prediction, result: PredictionResult, *, save: bool = True) -> None:
    prediction.external_id = result.external_id or prediction.external_id
    prediction.status = result.status if result.status in P.values else P.FAILED
    prediction.output_url = result.output_url or ""
    prediction.output_text = result.text or ""
    prediction.error = (result.error or "")[:2000]
    prediction.predict_seconds = result.predict_seconds
    prediction.updated_at = timezone.now()
    if result.terminal and prediction.completed_at is None:
        prediction.completed_at = timezone.now()
        metrics.REPLICATE_API_LATENCY_SECONDS.labels(purpose=prediction.purpose).observe(
            (prediction.completed_at - prediction.created_at).total_seconds()
        )
    if save:
        prediction.save(update_fields=APPLIED_FIELDS)


def _fail(prediction: Prediction, message: str) -> None:
    prediction.status = P.FAILED
    prediction.error = message[:2000]
    prediction.completed_at = timezone.now()
    prediction.save(update_fields=["status", "error", "completed_at", "updated_at"])


def _create(
    job: VideoJob, *, purpose: str, run: int, scene, variation, model: str, payload_hash: str, attempt: int,
    provider: Provider, create: Callable[[], PredictionResult],
) -> Step:
    if not circuit.allow_call():
        # Look again when it half-opens (a probe slot may be free then), or soon if half-open now.
        wakes.request_wake_in(*wakes.owner_of(job.pk, getattr(variation, "pk", None)),
                              max(1, circuit.current_state().retry_after))
        return Step(None, "pending", "provider circuit open")
    prediction = Prediction.objects.create(
        job=job, scene=scene, variation=variation, run=run, purpose=purpose, provider=provider.name,
        model=model, input_hash=payload_hash, attempt=attempt, status=P.CREATING,
    )
    try:
        result = create()
    except ProviderError as exc:
        circuit.record_failure(f"job:{job.pk}", exc)
        metrics.REPLICATE_API_ERRORS_TOTAL.labels(kind="create").inc()
        _fail(prediction, f"create failed: {exc}")
        record_event(job.pk, "provider_error", str(exc), purpose=purpose, attempt=attempt, model=model)
        if not exc.retryable:
            prediction.attempt = prediction_policy(purpose).max_attempts  # no point retrying a refused input
            prediction.save(update_fields=["attempt"])
        return Step(prediction, "pending")
    circuit.record_success()
    _apply(prediction, result, save=False)
    # Saved only while the row is still "creating", in one conditional write.
    still_ours = Prediction.objects.filter(pk=prediction.pk, status=P.CREATING).update(
        **{name: getattr(prediction, name) for name in APPLIED_FIELDS}
    )
    if not still_ours:
        # The watchdog gave this attempt up meanwhile (poller.resolve_orphan_creates) and the step may
        # already have made the next one: never revive it, stop the provider's copy from costing money.
        _cancel_quietly(provider, prediction)
        return Step(Prediction.objects.get(pk=prediction.pk), "pending")
    if VideoJob.objects.filter(pk=job.pk, status="cancelled").exists():
        # The job was cancelled while this create was on the wire: stop paying for it at once.
        _cancel_quietly(provider, prediction)
        _fail(prediction, "cancelled with the job")
        return Step(prediction, "failed", "cancelled")
    record_event(
        job.pk, "prediction_created", "", purpose=purpose, attempt=attempt, model=model,
        prediction=prediction.external_id, scene=getattr(scene, "number", None),
        variation=getattr(variation, "index", None),
    )
    return _state_of(prediction)


def _state_of(prediction: Prediction) -> Step:
    if prediction.status == P.SUCCEEDED:
        return Step(prediction, "succeeded")
    return Step(prediction, "pending")


def advance_prediction(
    job: VideoJob,
    *,
    purpose: str,
    run: int,
    model: str,
    payload_hash: str,
    provider: Provider,
    create: Callable[[], PredictionResult],
    scene: Scene | None = None,
    variation: Variation | None = None,
) -> Step:
    """Moves one unit of work forward by one step: create, time out, or retry after backoff.

    A prediction in flight is "pending" here: the poller (or the webhook) records its outcome and
    wakes the owner's step, which then finds it succeeded or failed.
    """
    policy = prediction_policy(purpose)
    prediction = latest_attempt(job, purpose=purpose, run=run, scene=scene, variation=variation)
    common = {"purpose": purpose, "run": run, "scene": scene, "variation": variation, "model": model,
              "payload_hash": payload_hash, "provider": provider, "create": create}
    if prediction is None:
        return _create(job, attempt=1, **common)

    now = timezone.now()
    if prediction.status == P.CREATING:
        if now - prediction.created_at < CREATE_INTERRUPTED_AFTER:
            wakes.request_wake(*wakes.owner_of(job.pk, prediction.variation_id),
                               prediction.created_at + CREATE_INTERRUPTED_AFTER)
            return Step(prediction, "pending")
        _fail(prediction, ORPHAN_ERROR)

    if prediction.status in (P.STARTING, P.PROCESSING):
        if (now - prediction.created_at).total_seconds() <= policy.timeout_seconds:
            return Step(prediction, "pending")
        expire(job, prediction, provider, policy.timeout_seconds)

    if prediction.status == P.SUCCEEDED:
        return Step(prediction, "succeeded")
    return _retry_or_fail(job, prediction, policy, common)


def expire(job: VideoJob, prediction: Prediction, provider: Provider, timeout_seconds: float) -> None:
    """A prediction past its timeout: cancel it at the provider (stop paying) and fail the attempt."""
    _cancel_quietly(provider, prediction)
    _fail(prediction, f"timed out after {int(timeout_seconds)} s")
    metrics.REPLICATE_API_ERRORS_TOTAL.labels(kind="timeout").inc()
    record_event(job.pk, "prediction_timeout", prediction.error, prediction=prediction.external_id)


def _apply_polled(prediction: Prediction, result: PredictionResult) -> None:
    _apply(prediction, result)
    if prediction.status == P.FAILED:
        metrics.REPLICATE_API_ERRORS_TOTAL.labels(kind="prediction_failed").inc()
        record_event(prediction.job_id, "prediction_failed", prediction.error, prediction=prediction.external_id)


def apply_reported_result(result: PredictionResult) -> Prediction | None:
    """Applies a result the provider pushed (a webhook) exactly as a poll would have.

    Returns the prediction when this changed it; None when it is unknown (not recorded yet, or
    not ours) or already settled by a poll, a timeout or a cancel (duplicate deliveries too).
    """
    if not result.external_id:
        return None
    with transaction.atomic():
        prediction = (
            Prediction.objects.select_for_update()
            .filter(external_id=result.external_id, status__in=[P.STARTING, P.PROCESSING])
            .order_by("-id")
            .first()
        )
        if prediction is None:
            return None
        _apply_polled(prediction, result)
    return prediction


def _retry_or_fail(job: VideoJob, prediction: Prediction, policy, common: dict) -> Step:
    if prediction.attempt >= policy.max_attempts:
        return Step(prediction, "failed", prediction.error or "the provider could not produce this")
    wait = policy.backoff_before(prediction.attempt + 1)
    finished = prediction.completed_at or prediction.updated_at
    if (timezone.now() - finished).total_seconds() < wait:
        wakes.request_wake(*wakes.owner_of(job.pk, prediction.variation_id), finished + timedelta(seconds=wait))
        return Step(prediction, "pending")
    return _create(job, attempt=prediction.attempt + 1, **common)


def _cancel_quietly(provider: Provider, prediction: Prediction) -> None:
    if not prediction.external_id:
        return
    try:
        provider.cancel(prediction.external_id)
    except ProviderError as exc:
        logger.warning("cancel of %s failed: %s", prediction.external_id, exc)


def cancel_in_flight(
    job: VideoJob, provider: Provider, *, variation: Variation | None = None, reason: str = "cancelled with the job"
) -> int:
    """Cancels unfinished predictions of the job (or of one variation) at the provider. Returns how many."""
    in_flight = Prediction.objects.filter(job=job, status__in=[P.CREATING, P.STARTING, P.PROCESSING])
    if variation is not None:
        in_flight = in_flight.filter(variation=variation)
    return _cancel_all(in_flight, provider, reason)


def cancel_in_flight_of(job: VideoJob, provider: Provider, *, purpose: str, reason: str) -> int:
    """Cancels the job's unfinished predictions of one purpose (the planner's, when it ran out of time)."""
    in_flight = Prediction.objects.filter(job=job, purpose=purpose, status__in=[P.CREATING, P.STARTING, P.PROCESSING])
    return _cancel_all(in_flight, provider, reason)


def _cancel_all(in_flight, provider: Provider, reason: str) -> int:
    cancelled = 0
    for prediction in in_flight:
        _cancel_quietly(provider, prediction)
        prediction.status = P.CANCELED
        prediction.completed_at = timezone.now()
        prediction.error = reason
        prediction.save(update_fields=["status", "completed_at", "error", "updated_at"])
        cancelled += 1
    return cancelled


def collect_output(
    job: VideoJob, prediction: Prediction, provider: Provider, *, filename: str, check: Callable[[Path], object],
    kind: str, price: Decimal, description: str, store: Callable[[Path], object],
) -> bool:
    """Takes a succeeded prediction's output: downloads it, checks it, books its cost, then stores it.

    The cost is booked before `store` marks the scene or clip done: a crash in between collects
    again, and the ledger refuses a second entry for the same prediction. An output that cannot be
    downloaded or fails `check` fails this attempt (the retry policy takes over); nothing is booked.
    Returns whether the output was stored.
    """
    folder = work_dir("collect-")
    try:
        result = PredictionResult(external_id=prediction.external_id, status="succeeded",
                                  output_url=prediction.output_url)
        path = provider.download(result, folder / filename)
        check(path)
    except Exception as exc:  # noqa: BLE001 - a bad output fails this attempt, not the worker
        logger.warning("job %s: unusable provider output %s: %s", job.pk, prediction.external_id, exc)
        Prediction.objects.filter(pk=prediction.pk).update(
            status=P.FAILED, error=f"unusable output: {exc}"[:2000], completed_at=timezone.now()
        )
        shutil.rmtree(folder, ignore_errors=True)
        return False
    try:
        costs.record_cost(job=job, kind=kind, amount=price, prediction=prediction, description=description)
        Prediction.objects.filter(pk=prediction.pk).update(cost=price)
        store(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return True
