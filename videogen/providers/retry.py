"""Call-level fault tolerance for provider HTTP calls, in one place.

One HTTP call (create, get, cancel, upload, download) is retried here; a *prediction* that
failed or timed out is retried by the pipeline (`pipeline.predictions`, numbers in `policy`).

| failure                                | what happens                                              |
|----------------------------------------|-----------------------------------------------------------|
| network error (connect, read, timeout) | 1 immediate retry, then backoff 5/15/45 s, then give up   |
| 429 throttled                          | wait `Retry-After` if given, else backoff; at most 2 retries |
| 5xx                                    | backoff 5/15/45 s (3 retries), then give up               |
| 402, 422, any other 4xx                | no retry: `ProviderError(retryable=False, status=...)`    |

Backoff is scaled by `settings.PROVIDER_BACKOFF_SCALE` (tests shrink it). After the retries are
spent the call raises `ProviderError(retryable=True)`: the pipeline decides what comes next and
counts the failure for the circuit breaker. A retry stops early once the circuit is open.

Creates are POSTs that cost money. A network error that happens *after* the request may have
reached Replicate (read timeout, connection dropped before the answer) cannot tell us whether
a prediction was made, and Replicate has no idempotency key: retrying could pay twice, and we
would not know the first prediction's id to poll or cancel it. So a create is retried at once
only when the request provably never left (connect errors, pool timeouts); an ambiguous error
fails the attempt, and the pipeline's prediction-level retry creates a new one after its
backoff. The orphan (if any) is bounded by the `Cancel-After` header every create carries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
from django.conf import settings
from replicate.exceptions import ReplicateError

from videogen import metrics
from videogen.providers.base import ProviderError, ProviderUnavailable
from videogen.providers.policy import BACKOFF_SCHEDULE

logger = logging.getLogger("videogen.providers.retry")
T = TypeVar("T")

MAX_THROTTLE_RETRIES = 2
MAX_SERVER_ERROR_RETRIES = len(BACKOFF_SCHEDULE)  # 3
MAX_NETWORK_RETRIES = 1 + len(BACKOFF_SCHEDULE)  # one immediate, then the backoff schedule
MAX_RETRY_AFTER_SECONDS = 60.0  # a longer wait is the pipeline's business, not one call's

# The request never reached the server: always safe to send again, even a create.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Sleeping is injectable so tests can observe waits without spending them.
sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Failure:
    kind: str  # metrics label: network | throttled | server_error | client_error
    status: int | None
    message: str
    retry_after: float | None = None


def classify(exc: Exception) -> Failure | None:
    """What kind of failure `exc` is, or None when it is not a provider call failure."""
    if isinstance(exc, ReplicateError):
        status = exc.status or 0
        message = f"{status} {exc.title or ''}: {exc.detail or ''}".strip()
        if status == 429:
            return Failure("throttled", status, message)
        if status >= 500:
            return Failure("server_error", status, message)
        return Failure("client_error", status, message)
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        kind = "throttled" if status == 429 else "server_error" if status >= 500 else "client_error"
        return Failure(kind, status, f"{status} {exc.response.reason_phrase}", _retry_after(exc.response.headers))
    if isinstance(exc, httpx.TransportError):
        return Failure("network", None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return None


def _retry_after(headers) -> float | None:
    value = (headers.get("Retry-After") or "").strip() if headers else ""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: rare from an API, and backing off is still correct


def backoff(retry_number: int) -> float:
    """Seconds before retry `retry_number` (1-based) on the 5/15/45 s schedule, scaled."""
    base = BACKOFF_SCHEDULE[min(retry_number - 1, len(BACKOFF_SCHEDULE) - 1)]
    return base * settings.PROVIDER_BACKOFF_SCALE


def call_with_retries(
    operation: str,
    fn: Callable[[], T],
    *,
    idempotent: bool = True,
    retry_after_of: Callable[[Exception], float | None] | None = None,
) -> T:
    """Runs `fn` (one provider HTTP call) under the retry table above.

    `operation` names the call in logs and metrics. `idempotent=False` (creates) skips retries
    of network errors that may have reached the server (see the module docstring).
    `retry_after_of` extracts a `Retry-After` from an exception (the replicate client drops headers).
    """
    retries = {"network": 0, "throttled": 0, "server_error": 0}
    while True:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below; anything unknown is re-raised
            failure = classify(exc)
            if failure is None:
                raise
            if failure.retry_after is None and retry_after_of is not None:
                failure = Failure(failure.kind, failure.status, failure.message, retry_after_of(exc))
            metrics.REPLICATE_API_ERRORS_TOTAL.labels(kind=failure.kind).inc()
            wait = _next_wait(operation, failure, exc, retries, idempotent=idempotent)
            if wait is None:
                logger.warning("provider %s failed, giving up: %s", operation, failure.message)
                raise ProviderError(
                    f"{operation} failed: {failure.message}",
                    retryable=failure.kind != "client_error",
                    status=failure.status,
                ) from exc
            logger.warning(
                "provider %s failed (%s), retry %s in %.2fs", operation, failure.message,
                retries[failure.kind], wait,
            )
            _check_circuit(operation)
            sleep(wait)


def _next_wait(operation: str, failure: Failure, exc: Exception, retries: dict, *, idempotent: bool) -> float | None:
    """Seconds to wait before the next try, or None to give up. Counts the retry."""
    if failure.kind == "client_error":
        return None
    if failure.kind == "network":
        if not idempotent and not isinstance(exc, NOT_SENT):
            return None  # may have been created: let the pipeline decide (module docstring)
        if retries["network"] >= MAX_NETWORK_RETRIES:
            return None
        retries["network"] += 1
        return 0.0 if retries["network"] == 1 else backoff(retries["network"] - 1)
    if failure.kind == "throttled":
        if retries["throttled"] >= MAX_THROTTLE_RETRIES:
            return None
        retries["throttled"] += 1
        if failure.retry_after is not None:
            if failure.retry_after > MAX_RETRY_AFTER_SECONDS:
                return None
            return failure.retry_after
        return backoff(retries["throttled"])
    if retries["server_error"] >= MAX_SERVER_ERROR_RETRIES:
        return None
    retries["server_error"] += 1
    return backoff(retries["server_error"])


def _check_circuit(operation: str) -> None:
    """No point retrying into an outage other workers already detected: stop and let work wait."""
    from videogen.providers import circuit

    state = circuit.current_state()
    if state.is_open:
        logger.warning("provider %s not retried: the circuit is open", operation)
        raise ProviderUnavailable(state.retry_after)
