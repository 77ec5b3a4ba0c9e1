"""`/metrics` for the whole host: what the web processes and the qcluster workers recorded, plus
figures read from the database at scrape time.

Every process (gunicorn workers, qcluster sentinel and workers, management commands) runs
prometheus_client in multiprocess mode: `config/settings.py` points PROMETHEUS_MULTIPROC_DIR at
one directory per host before prometheus_client is first imported, and each process writes its
samples to its own files there. This view merges them, so a histogram observed inside a worker
(storyboard duration, provider latency) is visible to the web's scrape.

Gauges that describe shared state are not kept in process memory at all; they are computed
from the database (or the broker) when Prometheus scrapes, which is right by construction
across any number of processes and hosts:

- `job_status_gauge{status}`: jobs by status, every status present (0 included).
- `task_queue_depth`: tasks waiting in django-q2's broker (ORM or Redis) for this cluster.
- `cache_hit_rate`: share of scene image lookups answered by the scene image cache over the
  cache window (SCENE_CACHE_HOURS), from the Prediction rows; NaN while there were no lookups.
- `cost_actual_dollars{kind}`: cumulative spend from the CostEntry ledger. It is documented as a
  Counter, but prometheus_client would expose a Counter as `cost_actual_dollars_total`; the
  ledger sum is exposed under the documented name as a gauge (it only grows, so `increase()`
  and `rate()` work on it as on a counter). The in-process counter of the same increments is
  `provider_spend_dollars_total`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

#: The documented metric names (docs/operations.md) exactly as /metrics exposes them.
DOCUMENTED_METRICS = (
    "video_gen_requests_total",
    "video_gen_duration_seconds",
    "storyboard_gen_duration_seconds",
    "video_render_duration_seconds",
    "replicate_api_errors_total",
    "replicate_api_latency_seconds",
    "job_status_gauge",
    "job_failures_total",
    "cost_actual_dollars",
    "cost_variance_ratio",
    "poll_requests_total",
    "cache_hit_rate",
)


class DatabaseCollector:
    """Gauges computed at scrape time from shared state; a failing source skips its family, never the page."""

    def collect(self) -> Iterator[Metric]:
        for build in (_job_status, _queue_depth, _cache_hit_rate, _cost_actual):
            try:
                yield from build()
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail because one source is down
                logger.error("metrics source %s failed: %s", build.__name__.lstrip("_"), exc)


def _job_status() -> Iterable[Metric]:
    from videogen.models import JobStatus, VideoJob

    counts = dict(VideoJob.objects.order_by().values_list("status").annotate(n=Count("id")))
    family = GaugeMetricFamily("job_status_gauge", "Jobs by status (from the database at scrape time)",
                               labels=["status"])
    for status in JobStatus.values:
        family.add_metric([status], counts.get(status, 0))
    yield family


def _queue_depth() -> Iterable[Metric]:
    from django_q.brokers import get_broker

    broker = get_broker()
    try:
        depth = GaugeMetricFamily("task_queue_depth", "Tasks waiting in the django-q2 broker for a worker")
        depth.add_metric([], broker.queue_size() or 0)
        yield depth
        in_flight = broker.lock_size()
        if in_flight is not None:  # the Redis broker cannot tell
            locked = GaugeMetricFamily("task_queue_in_flight", "Tasks taken by a worker and not yet acknowledged")
            locked.add_metric([], in_flight)
            yield locked
    finally:
        connection = getattr(broker, "connection", None)
        if hasattr(connection, "connection_pool"):  # a Redis client made for this scrape (the ORM needs nothing)
            connection.close()


def _cache_hit_rate() -> Iterable[Metric]:
    from videogen.models import Prediction

    since = timezone.now() - timedelta(hours=settings.SCENE_CACHE_HOURS)
    lookups = Prediction.objects.filter(purpose=Prediction.Purpose.STORYBOARD, created_at__gte=since)
    hits = lookups.filter(cache_hit=True).count()
    # A miss is the first paid attempt for a scene image; retries of the same miss are not new lookups.
    misses = lookups.filter(cache_hit=False, attempt=1).count()
    family = GaugeMetricFamily(
        "cache_hit_rate",
        f"Scene image cache hits / lookups over the last {settings.SCENE_CACHE_HOURS} h (NaN: no lookups)",
    )
    family.add_metric([], hits / (hits + misses) if hits + misses else math.nan)
    yield family


def _cost_actual() -> Iterable[Metric]:
    from videogen.models import CostEntry

    totals = dict(CostEntry.objects.order_by().values_list("kind").annotate(total=Sum("amount")))
    family = GaugeMetricFamily(
        "cost_actual_dollars", "Cumulative provider spend in dollars, from the cost ledger", labels=["kind"]
    )
    for kind in CostEntry.Kind.values:
        family.add_metric([kind], float(totals.get(kind) or 0))
    yield family


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def build_registry() -> CollectorRegistry:
    """This host's processes merged (or this process alone outside multiprocess mode) plus the database gauges."""
    path = multiprocess_dir()
    if path and os.path.isdir(path):
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=path)
    else:
        registry = CollectorRegistry()
        registry.register(_DefaultRegistry())
    registry.register(DatabaseCollector())
    return registry


class _DefaultRegistry:
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(build_registry()), content_type=CONTENT_TYPE_LATEST)


def reset_multiprocess_dir(path: str | None = None) -> int:
    """Empties the multiprocess directory; run once per host before web and workers start. Returns files removed.

    Never call it while processes of this host are running: a process keeps writing into the
    files it has open (now unlinked) and its samples vanish from /metrics until it restarts.
    """
    folder = path or multiprocess_dir()
    if not folder or not os.path.isdir(folder):
        return 0
    removed = 0
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.unlink(os.path.join(folder, name))
            removed += 1
    return removed


#: Label values known in advance, created at 0 in every process so each documented family is on /metrics from
#: the first scrape (a labelled family has no sample, and so no line, until a child exists).
KNOWN_LABELS = {
    "VIDEO_GEN_REQUESTS_TOTAL": [{"outcome": "accepted"}],
    "REPLICATE_API_ERRORS_TOTAL": [{"kind": kind} for kind in ("create", "poll", "timeout", "prediction_failed")],
    "REPLICATE_API_LATENCY_SECONDS": [{"purpose": purpose} for purpose in ("storyboard", "video", "upscale")],
    "JOB_FAILURES_TOTAL": [
        {"reason": reason} for reason in ("parse_timeout", "storyboard_failed", "render_failed", "stalled", "ops")
    ],
}


def initialise_metrics() -> None:
    from videogen import metrics

    for name, label_sets in KNOWN_LABELS.items():
        metric = getattr(metrics, name, None)
        if metric is None:
            continue
        for labels in label_sets:
            metric.labels(**labels)
