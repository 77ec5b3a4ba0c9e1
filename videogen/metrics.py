"""The service's Prometheus metrics (listed in docs/operations.md), shared by the web process and the workers."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LONG_BUCKETS = (1, 5, 15, 30, 60, 120, 180, 300, 360, 600, 900, 1800)

VIDEO_GEN_REQUESTS_TOTAL = Counter("video_gen_requests_total", "Total /generate calls", ["outcome"])
VIDEO_GEN_DURATION_SECONDS = Histogram(
    "video_gen_duration_seconds", "End-to-end generation time (job created to finished)", buckets=LONG_BUCKETS
)
STORYBOARD_GEN_DURATION_SECONDS = Histogram(
    "storyboard_gen_duration_seconds", "Storyboard generation time", buckets=LONG_BUCKETS
)
VIDEO_RENDER_DURATION_SECONDS = Histogram(
    "video_render_duration_seconds", "Video render time (render requested to finished)", buckets=LONG_BUCKETS
)
REPLICATE_API_ERRORS_TOTAL = Counter("replicate_api_errors_total", "Provider call failures", ["kind"])
REPLICATE_API_LATENCY_SECONDS = Histogram(
    "replicate_api_latency_seconds", "Provider prediction latency (created to terminal)", ["purpose"],
    buckets=LONG_BUCKETS,
)
JOB_FAILURES_TOTAL = Counter("job_failures_total", "Failed jobs by reason", ["reason"])
# Exposed as provider_spend_dollars_total: the documented `cost_actual_dollars` is read from the
# cost ledger at scrape time (videogen/observability.py), and two families may not share a name.
COST_ACTUAL_DOLLARS = Counter("provider_spend_dollars", "Provider spend recorded by this host, in dollars", ["kind"])
COST_VARIANCE_RATIO = Gauge(
    "cost_variance_ratio", "actual/estimate of the last finished job", multiprocess_mode="mostrecent"
)
POLL_REQUESTS_TOTAL = Counter("poll_requests_total", "GET /jobs/{id} calls")
SCENE_CACHE_LOOKUPS_TOTAL = Counter("scene_cache_lookups_total", "Scene image cache lookups", ["result"])
CIRCUIT_OPENED_TOTAL = Counter("provider_circuit_opened_total", "Times the provider circuit breaker opened")
EXPORT_FAILURES_TOTAL = Counter("export_failures_total", "Export formats that failed", ["format"])
# Daily budget. "mostrecent": the last process to look at today's spend is right,
# and the value must be able to fall back to 0 (midnight UTC, a raised limit).
DAILY_SPEND_DOLLARS = Gauge(
    "daily_spend_dollars", "Provider spend so far today (UTC), in dollars", multiprocess_mode="mostrecent"
)
BUDGET_SOFT_LIMIT_EXCEEDED = Gauge(
    "budget_soft_limit_exceeded", "1 when today's spend reached the daily soft limit (alert)",
    multiprocess_mode="mostrecent",
)
BUDGET_HARD_LIMIT_EXCEEDED = Gauge(
    "budget_hard_limit_exceeded", "1 when today's spend reached the daily hard limit (new work refused)",
    multiprocess_mode="mostrecent",
)
