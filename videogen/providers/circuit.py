"""A circuit breaker shared by every process through the shared cache.

Three consecutive provider call failures on different jobs open it for CIRCUIT_OPEN_SECONDS
(new spend answers 503 with Retry-After 300, and ops are alerted). After that one probe is let
through (half-open): success closes it, failure opens it again. Work already queued waits
(the pipeline asks `allow_call()` before creating anything) and resumes once it closes.

Only failures that say something about the provider's health count: a 422 for one bad
input must not stop everybody's work, while 401/402 (bad token, no credit) and any
5xx, 429 or network failure do.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

logger = logging.getLogger("videogen.circuit")

_FAILURES = "circuit:failures"  # job keys of the current run of consecutive failures
_OPENED_AT = "circuit:opened_at"
_PROBE = "circuit:probe"
# Client errors that are about the account, not the input: every call will fail alike.
_ACCOUNT_ERRORS = (401, 402, 403)


def _cache():
    return caches[settings.SHARED_CACHE_ALIAS]


@dataclass(frozen=True)
class CircuitState:
    state: str  # closed | open | half_open
    retry_after: int

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def current_state() -> CircuitState:
    opened_at = _cache().get(_OPENED_AT)
    if opened_at is None:
        return CircuitState("closed", 0)
    remaining = settings.CIRCUIT_OPEN_SECONDS - (time.time() - opened_at)
    if remaining > 0:
        return CircuitState("open", max(1, int(remaining + 0.999)))
    return CircuitState("half_open", 0)


def allow_call() -> bool:
    """Closed: yes. Open: no. Half-open: only the one caller that wins the probe slot."""
    state = current_state()
    if state.state == "closed":
        return True
    if state.state == "open":
        return False
    # The slot expires, so a prober that died does not keep the circuit half-open forever.
    return _cache().add(_PROBE, "1", timeout=max(5, settings.CIRCUIT_OPEN_SECONDS // 10))


def counts_as_outage(error: Exception | None) -> bool:
    """Whether a failed call says the provider (or our account with it) is unhealthy."""
    status = getattr(error, "status", None)
    retryable = getattr(error, "retryable", True)
    return retryable or status in _ACCOUNT_ERRORS


def record_success() -> None:
    cache = _cache()
    found = cache.get_many([_FAILURES, _OPENED_AT])  # one read per success; writes only on a change
    if found.get(_OPENED_AT) is not None:
        logger.warning("provider circuit closed after a successful call")
    if found:
        cache.delete_many([_FAILURES, _OPENED_AT, _PROBE])


def record_failure(job_key: str, error: Exception | None = None) -> None:
    """Counts a failure for `job_key`; opens the circuit on the threshold-th distinct consecutive job."""
    if not counts_as_outage(error):
        return
    cache = _cache()
    state = current_state()
    if state.state == "half_open":
        _open(cache, reason=f"probe failed: {error or 'provider error'}", reopen=True)
        return
    failures: list[str] = cache.get(_FAILURES) or []
    if job_key not in failures:
        failures.append(job_key)
    cache.set(_FAILURES, failures[-10:], timeout=3600)
    if len(failures) >= settings.CIRCUIT_FAILURE_THRESHOLD and state.state == "closed":
        _open(cache, reason=f"{len(failures)} consecutive failures across jobs (last: {error or 'provider error'})")


def _open(cache, *, reason: str, reopen: bool = False) -> None:
    from videogen import metrics

    now = time.time()
    if reopen:
        cache.set(_OPENED_AT, now, timeout=settings.CIRCUIT_OPEN_SECONDS * 10)
    elif not cache.add(_OPENED_AT, now, timeout=settings.CIRCUIT_OPEN_SECONDS * 10):
        return  # another process opened it a moment ago: one alert is enough
    cache.delete_many([_FAILURES, _PROBE])
    metrics.CIRCUIT_OPENED_TOTAL.inc()
    # The circuit opening is logged at CRITICAL: ops alert on it.
    logger.critical("provider circuit opened: %s; new work answers 503 for %ss", reason, settings.CIRCUIT_OPEN_SECONDS)


def reset() -> None:
    _cache().delete_many([_FAILURES, _OPENED_AT, _PROBE])
