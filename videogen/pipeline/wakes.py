"""When a job's next step is due, and whether it is waiting on the provider.

A step never waits. When it cannot go on it leaves one of two reasons behind: a prediction in
flight (the webhook or the poller wakes the owner when it finishes) or a `wake_at` time (a retry
after backoff, the circuit breaker closing, a step asked for while another worker held the lease).
The poller queues the owner's step once `wake_at` is due. The owner is the storyboard of a job
(VideoJob row) or one variation's render (Variation row): each has its own lease and task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Model, Q
from django.utils import timezone

from videogen.models import Prediction, Variation, VideoJob

IN_FLIGHT = (Prediction.Status.CREATING, Prediction.Status.STARTING, Prediction.Status.PROCESSING)


def owner_of(job_id: int, variation_id: int | None) -> tuple[type[Model], int]:
    return (Variation, variation_id) if variation_id else (VideoJob, job_id)


def request_wake(model: type[Model], pk: int, at: datetime | None = None) -> None:
    """Asks for the owner's step at `at` (now by default); an earlier request already made stands."""
    at = at or timezone.now()
    model.objects.filter(Q(wake_at__isnull=True) | Q(wake_at__gt=at), pk=pk).update(wake_at=at)


def request_wake_in(model: type[Model], pk: int, seconds: float) -> None:
    request_wake(model, pk, timezone.now() + timedelta(seconds=max(0.0, seconds)))


def take_due_wake(model: type[Model], pk: int) -> bool:
    """Clears a due wake-up (the caller runs the step now). True when there was one."""
    return bool(model.objects.filter(pk=pk, wake_at__lte=timezone.now()).update(wake_at=None))


def has_predictions_in_flight(model: type[Model], pk: int) -> bool:
    """Predictions of the owner's current run still in flight (an older run's do not hold a new run up)."""
    in_flight = Prediction.objects.filter(status__in=IN_FLIGHT)
    if model is Variation:
        return in_flight.filter(variation_id=pk, run=F("variation__run")).exists()
    return in_flight.filter(job_id=pk, variation__isnull=True, run=F("job__run")).exists()


def is_waiting(model: type[Model], pk: int) -> bool:
    """After a step: True when the owner has a reason to stop now (a wake-up in the future, or a
    prediction in flight and no wake-up due).

    False means there is more to do at once: the step made progress without leaving a reason to wait
    (the brief was just parsed), or a wake-up fell due while it ran (it is taken here: the caller runs
    the step again).
    """
    wake_at = model.objects.filter(pk=pk).values_list("wake_at", flat=True).first()
    if wake_at is not None:
        if wake_at > timezone.now():
            return True
        model.objects.filter(pk=pk, wake_at=wake_at).update(wake_at=None)
        return False
    return has_predictions_in_flight(model, pk)
