"""The provider poller: one leased loop per deployment that watches every prediction in flight.

Steps create predictions and return; nothing else waits on the provider. Every POLLER_INTERVAL
the poller that holds the `provider-poller` lease
1. asks the provider about the predictions in flight of active jobs, PROVIDER_CONCURRENCY at a
   time (each at a pace set by its model's usual run time: `PollSchedule`), records what changed,
   and wakes the owning step (storyboard or one variation's render) only when one of its
   predictions finished (or ran past its timeout);
2. queues the steps whose wake-up is due (a retry after backoff, a step asked for while another
   worker held the lease, the ones it just woke);
3. is the watchdog: it takes back the leases of workers that died (SIGKILL, lost container) and
   re-queues active work that nothing else will wake (a task lost by the broker).

Why a loop in the qcluster process and not a django-q2 task or Schedule: django-q2 looks at its
schedules only about every 30 s, and a task that never ends would hold one of the few workers and be
killed at the cluster's `timeout`. Every `manage.py qcluster` runs this loop in its main process
(which otherwise only waits for its workers); the lease row makes exactly one of them active and the
others standbys, so a SIGKILLed poller is replaced by any live or restarted qcluster within
POLLER_LEASE_SECONDS. `manage.py run_poller` runs it as a process of its own.

The webhook (api/webhooks.py) is the fast path; this loop is the fallback that always runs.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from videogen.models import (
    JobStatus,
    Prediction,
    ServiceLease,
    Variation,
    VariationStatus,
    VideoJob,
)
from videogen.pipeline import wakes
from videogen.pipeline.leases import OWNER_PREFIX
from videogen.pipeline.predictions import CREATE_INTERRUPTED_AFTER, ORPHAN_ERROR, apply_reported_result
from videogen.pipeline.queue import enqueue
from videogen.pipeline.state import ACTIVE
from videogen.providers import circuit
from videogen.providers.base import PredictionResult, ProviderError
from videogen.providers.policy import prediction_policy

logger = logging.getLogger(__name__)
LEASE_NAME = "provider-poller"
BATCH = 1000  # predictions polled per tick at most (oldest first); the rest wait a tick
POLLED = (Prediction.Status.STARTING, Prediction.Status.PROCESSING)
UNFINISHED_VARIATION = (VariationStatus.PENDING, VariationStatus.RENDERING, VariationStatus.EXPORTING)
BUILD_STORYBOARD = "videogen.pipeline.tasks.build_storyboard"
RENDER_VARIATION = "videogen.pipeline.tasks.render_variation"
USUAL_SAMPLE = 50  # recent run times per model behind its usual run time
USUAL_MIN_SAMPLES = 3
USUAL_REFRESH_SECONDS = 30.0
LEARNING_REFRESH_SECONDS = 2.0


@dataclass
class TickReport:
    polled: int = 0
    finished: int = 0
    enqueued: int = 0
    reclaimed: int = 0
    orphans: int = 0
    errors: list[str] = field(default_factory=list)


def _free_lease(now) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def _poll_all(external_ids: list[str]) -> dict[str, PredictionResult | ProviderError]:
    """GETs every prediction, PROVIDER_CONCURRENCY at a time. Threads only talk HTTP, never to the database."""
    from concurrent.futures import ThreadPoolExecutor

    from videogen.providers import get_provider

    provider = get_provider()

    def get(external_id: str) -> PredictionResult | ProviderError:
        try:
            return provider.get(external_id)
        except ProviderError as exc:
            return exc

    limit = max(1, settings.PROVIDER_CONCURRENCY)
    if limit == 1 or len(external_ids) <= 1:
        return {external_id: get(external_id) for external_id in external_ids}
    with ThreadPoolExecutor(max_workers=min(limit, len(external_ids)), thread_name_prefix="poller") as pool:
        return dict(zip(external_ids, pool.map(get, external_ids), strict=True))


def usual_run_times(now: datetime) -> dict[str, float]:
    """Per model, how soon its predictions finished lately: the 10th percentile of the run times
    (created -> seen finished) of its last USUAL_SAMPLE succeeded predictions of the past hour.
    A model with fewer than USUAL_MIN_SAMPLES of them has no usual run time yet."""
    recent = (
        Prediction.objects.filter(status=Prediction.Status.SUCCEEDED, updated_at__gte=now - timedelta(hours=1),
                                  completed_at__isnull=False, cache_hit=False)
        .exclude(external_id="")
        .order_by("-updated_at")
        .values_list("model", "created_at", "completed_at")[: 10 * USUAL_SAMPLE]
    )
    run_times: dict[str, list[float]] = defaultdict(list)
    for model, created_at, completed_at in recent:
        if len(run_times[model]) < USUAL_SAMPLE:
            run_times[model].append((completed_at - created_at).total_seconds())
    return {model: sorted(seconds)[len(seconds) // 10] for model, seconds in run_times.items()
            if len(seconds) >= USUAL_MIN_SAMPLES}


class PollSchedule:
    """Which predictions in flight are worth a request this tick.

    Asking about every prediction every tick costs one request each: 500 in flight at one tick a
    second is 500 requests a second, CPU the workers need for downloads and FFmpeg. A prediction is
    seldom done long before its model's usual run time (`usual_run_times`, refreshed every
    USUAL_REFRESH_SECONDS), so until it is within one POLLER_INTERVAL of it, it is asked about every
    POLLER_SLOW_INTERVAL (an early failure is still seen within that); from then on, every tick.
    A model without a usual run time yet is asked about every tick. The webhook, when configured,
    reports completions at once either way.
    """

    def __init__(self) -> None:
        self._last_polled: dict[str, datetime] = {}
        self._usual: dict[str, float] = {}
        self._usual_at = float("-inf")

    def due(self, rows: list[dict], now: datetime) -> list[dict]:
        # A model in flight without a usual run time yet (a new poller, a new model) is looked up
        # again soon: its first predictions to finish teach it.
        learning = any(row["model"] not in self._usual for row in rows)
        if time.monotonic() - self._usual_at >= (LEARNING_REFRESH_SECONDS if learning else USUAL_REFRESH_SECONDS):
            self._usual, self._usual_at = usual_run_times(now), time.monotonic()
        due = [row for row in rows if self._is_due(row, now)]
        in_flight = {row["external_id"] for row in rows}
        self._last_polled = {pid: at for pid, at in self._last_polled.items() if pid in in_flight}
        self._last_polled.update((row["external_id"], now) for row in due)
        return due

    def _is_due(self, row: dict, now: datetime) -> bool:
        usual = self._usual.get(row["model"])
        if usual is None or (now - row["created_at"]).total_seconds() >= usual - settings.POLLER_INTERVAL:
            return True
        last_asked = self._last_polled.get(row["external_id"], row["created_at"])
        return (now - last_asked).total_seconds() >= settings.POLLER_SLOW_INTERVAL


def poll_in_flight(report: TickReport, schedule: PollSchedule | None = None) -> set[tuple[type, int]]:
    """Polls the predictions in flight of active jobs (those `schedule` says are due; all without
    one); returns the owners to wake."""
    from videogen.providers import get_provider

    now = timezone.now()
    rows = list(
        Prediction.objects.filter(status__in=POLLED, job__status__in=ACTIVE, provider=get_provider().name)
        .exclude(external_id="")
        .order_by("updated_at")
        .values("pk", "job_id", "variation_id", "external_id", "status", "purpose", "model", "created_at")[:BATCH]
    )
    owners: set[tuple[type, int]] = set()
    to_poll = []
    for row in rows:
        if (now - row["created_at"]).total_seconds() > prediction_policy(row["purpose"]).timeout_seconds:
            owners.add(wakes.owner_of(row["job_id"], row["variation_id"]))  # its step cancels and retries it
        else:
            to_poll.append(row)
    if schedule is not None:
        to_poll = schedule.due(to_poll, now)
    results = _poll_all([row["external_id"] for row in to_poll])
    report.polled += len(to_poll)
    healthy = False
    for row in to_poll:
        result = results[row["external_id"]]
        if isinstance(result, ProviderError):
            circuit.record_failure(f"job:{row['job_id']}", result)
            report.errors.append(str(result))
            continue
        healthy = True
        if result.status == row["status"]:
            continue
        changed = apply_reported_result(result)
        if changed is not None and changed.status not in POLLED:
            report.finished += 1
            owners.add(wakes.owner_of(row["job_id"], row["variation_id"]))
    if healthy:
        circuit.record_success()
    _heartbeat({row["job_id"] for row in rows})
    return owners


_last_heartbeat = {"at": 0.0}


def _heartbeat(job_ids: set[int]) -> None:
    """Jobs waiting on a slow prediction (a video takes minutes) are not stuck: keep the stall rule off them.

    Touches `updated_at` only (no version bump: nothing a client sees changed), at most every few seconds.
    """
    if not job_ids or time.monotonic() - _last_heartbeat["at"] < max(1.0, settings.LEASE_SECONDS / 4):
        return
    _last_heartbeat["at"] = time.monotonic()
    VideoJob.objects.filter(pk__in=job_ids, status__in=ACTIVE).update(updated_at=timezone.now())


def resolve_orphan_creates(report: TickReport) -> set[tuple[type, int]]:
    """Predictions left in `creating` by a worker killed inside the create call (kill -9, OOM).

    Such a row has no provider id, so nothing can poll it, and as "in flight" it kept its job out of
    the lost-work sweep. Once it is older than CREATE_INTERRUPTED_AFTER and no live worker holds its
    owner's lease (a live one may still be inside a slow create), it is marked failed and its owner is
    woken: the step re-creates that scene or clip once, as its next attempt. The failed row is never
    booked (only succeeded predictions are), and a create answer arriving after this is cancelled at the
    provider instead of reviving the row (predictions._create). Returns the owners to wake.
    """
    now = timezone.now()
    live_owner = (Q(variation__isnull=True) & Q(job__lease_expires_at__gte=now)) | (
        Q(variation__isnull=False) & Q(variation__lease_expires_at__gte=now)
    )
    orphans = (
        Prediction.objects.filter(status=Prediction.Status.CREATING, external_id="",
                                  created_at__lt=now - CREATE_INTERRUPTED_AFTER)
        .exclude(live_owner)
        .values_list("pk", "job_id", "variation_id")[:BATCH]
    )
    owners: set[tuple[type, int]] = set()
    for pk, job_id, variation_id in orphans:
        resolved = Prediction.objects.filter(pk=pk, status=Prediction.Status.CREATING, external_id="").update(
            status=Prediction.Status.FAILED, error=ORPHAN_ERROR, completed_at=now, updated_at=now
        )
        if resolved:
            report.orphans += 1
            owners.add(wakes.owner_of(job_id, variation_id))
    if report.orphans:
        logger.warning("watchdog: %s prediction(s) left in creating by stopped workers marked failed", report.orphans)
    return owners


def reclaim_expired_leases(report: TickReport) -> None:
    """A lease past its expiry belongs to a worker that died mid-step: free it and wake the step now."""
    now = timezone.now()
    expired = Q(lease_expires_at__lt=now)
    reclaimable = [
        VideoJob.objects.filter(expired, status=JobStatus.GENERATING_STORYBOARD),
        Variation.objects.filter(expired, status__in=UNFINISHED_VARIATION, job__status=JobStatus.GENERATING_VIDEO),
    ]
    for rows in reclaimable:
        if rows.exists():  # read first: an UPDATE takes SQLite's write lock even when it matches nothing
            report.reclaimed += rows.update(lease_owner="", lease_expires_at=None, wake_at=now)
    if report.reclaimed:
        logger.warning("watchdog: took back %s lease(s) of stopped workers", report.reclaimed)


def enqueue_due(report: TickReport) -> None:
    """Queues every step whose wake-up is due and whose lease is free; each wake-up is queued once."""
    now = timezone.now()
    jobs = VideoJob.objects.filter(_free_lease(now), status=JobStatus.GENERATING_STORYBOARD, wake_at__lte=now)
    for pk, run, request_id, wake_at in jobs.values_list("pk", "run", "request_id", "wake_at")[:BATCH]:
        if VideoJob.objects.filter(pk=pk, wake_at=wake_at).update(wake_at=None):
            enqueue(BUILD_STORYBOARD, pk, run, request_id=request_id)
            report.enqueued += 1
    variations = Variation.objects.filter(
        _free_lease(now), wake_at__lte=now, status__in=UNFINISHED_VARIATION,
        job__status=JobStatus.GENERATING_VIDEO, run=F("job__run"),
    )
    fields = ("pk", "job_id", "index", "run", "job__request_id", "wake_at")
    for pk, job_id, index, run, request_id, wake_at in variations.values_list(*fields)[:BATCH]:
        if Variation.objects.filter(pk=pk, wake_at=wake_at).update(wake_at=None):
            enqueue(RENDER_VARIATION, job_id, index, run, request_id=request_id)
            report.enqueued += 1
    # Wake-ups of work that ended meanwhile (cancelled, completed) would only sit in the index.
    for stale in (VideoJob.objects.filter(wake_at__isnull=False).exclude(status=JobStatus.GENERATING_STORYBOARD),
                  Variation.objects.filter(wake_at__isnull=False).exclude(status__in=UNFINISHED_VARIATION)):
        if stale.exists():
            stale.update(wake_at=None)


def lost_work(now=None) -> tuple[list[VideoJob], list[Variation]]:
    """Active work nothing will wake: lease free, no wake-up asked, no prediction in flight, quiet for
    WATCHDOG_AFTER_SECONDS (its task was lost, e.g. a Redis broker restarted, or its step crashed)."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.WATCHDOG_AFTER_SECONDS)
    in_flight = Prediction.objects.filter(status__in=wakes.IN_FLIGHT)
    storyboards = (
        VideoJob.objects.filter(_free_lease(now), status=JobStatus.GENERATING_STORYBOARD, wake_at__isnull=True,
                                updated_at__lt=quiet_since)
        .exclude(pk__in=in_flight.filter(variation__isnull=True).values("job_id"))
        .only("id", "run", "request_id")
    )
    variations = (
        Variation.objects.filter(_free_lease(now), status__in=UNFINISHED_VARIATION, wake_at__isnull=True,
                                 job__status=JobStatus.GENERATING_VIDEO, job__updated_at__lt=quiet_since,
                                 run=F("job__run"))
        .exclude(pk__in=in_flight.filter(variation__isnull=False).values("variation_id"))
        .select_related("job")
        .only("id", "index", "run", "job__id", "job__request_id")
    )
    return list(storyboards[:BATCH]), list(variations[:BATCH])


def requeue_lost_work(report: TickReport, *, recently: dict[tuple[str, int], float] | None = None) -> None:
    """Re-queues lost work; `recently` (key -> monotonic time) keeps a loop from re-queueing the same
    job every tick while its task waits in a long queue."""
    storyboards, variations = lost_work()
    now = time.monotonic()

    def fresh(key: tuple[str, int]) -> bool:
        if recently is None:
            return True
        if now - recently.get(key, -1e9) < settings.WATCHDOG_AFTER_SECONDS:
            return False
        recently[key] = now
        return True

    for job in storyboards:
        if fresh(("job", job.pk)):
            enqueue(BUILD_STORYBOARD, job.pk, job.run, request_id=job.request_id)
            report.enqueued += 1
    for variation in variations:
        if fresh(("variation", variation.pk)):
            enqueue(RENDER_VARIATION, variation.job.pk, variation.index, variation.run,
                    request_id=variation.job.request_id)
            report.enqueued += 1
    if recently is not None and len(recently) > 10 * BATCH:
        recently.clear()


def watchdog_pass(*, recently: dict | None = None) -> TickReport:
    report = TickReport()
    reclaim_expired_leases(report)
    enqueue_due(report)
    requeue_lost_work(report, recently=recently)
    return report


class Poller:
    """The loop. `tick()` is one pass; `run()` repeats it every POLLER_INTERVAL while it holds the lease."""

    def __init__(self, owner: str | None = None) -> None:
        self.owner = owner or f"{OWNER_PREFIX}:poller:{uuid.uuid4().hex[:8]}"
        self._recently: dict[tuple[str, int], float] = {}
        self.schedule = PollSchedule()

    def hold_lease(self) -> bool:
        """Takes or renews the deployment's poller lease. False while another live poller holds it."""
        now = timezone.now()
        expires = now + timedelta(seconds=settings.POLLER_LEASE_SECONDS)
        free = Q(expires_at__isnull=True) | Q(expires_at__lt=now) | Q(owner=self.owner)
        if ServiceLease.objects.filter(free, name=LEASE_NAME).update(owner=self.owner, expires_at=expires, beat_at=now):
            return True
        try:
            with transaction.atomic():  # a savepoint when called inside a transaction
                ServiceLease.objects.create(name=LEASE_NAME, owner=self.owner, expires_at=expires, beat_at=now)
            return True
        except IntegrityError:
            return False  # it exists and someone else holds it

    def release_lease(self) -> None:
        ServiceLease.objects.filter(name=LEASE_NAME, owner=self.owner).update(owner="", expires_at=None)

    def tick(self) -> TickReport:
        report = TickReport()
        for model, pk in poll_in_flight(report, self.schedule) | resolve_orphan_creates(report):
            wakes.request_wake(model, pk)
        reclaim_expired_leases(report)
        enqueue_due(report)
        requeue_lost_work(report, recently=self._recently)
        return report

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        logger.info("provider poller %s started (interval %.1fs)", self.owner, settings.POLLER_INTERVAL)
        holding = False
        try:
            while not should_stop():
                started = time.monotonic()
                try:
                    close_old_connections()
                    now_holding = self.hold_lease()
                    if now_holding != holding:
                        logger.info("provider poller %s %s the lease", self.owner,
                                    "took" if now_holding else "lost")
                        holding = now_holding
                    if holding:
                        report = self.tick()
                        if report.errors:
                            logger.warning("poller: %s poll(s) failed, e.g. %s", len(report.errors), report.errors[0])
                except DatabaseError as exc:  # a blip: the next tick tries again
                    logger.warning("poller tick failed: %s", exc)
                    close_old_connections()
                except Exception:  # noqa: BLE001 - the loop must outlive any one bad tick
                    logger.exception("poller tick failed")
                _sleep_until(started + settings.POLLER_INTERVAL, should_stop)
        finally:
            try:
                self.release_lease()
            except DatabaseError:
                pass
            logger.info("provider poller %s stopped", self.owner)


def _sleep_until(deadline: float, should_stop: Callable[[], bool]) -> None:
    while not should_stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.2))
