"""Rate limits kept in the shared store, so they hold across processes, and exactly under concurrency.

Per-user limits (the rates in docs/api.md) on the API's endpoints, and per-username plus per-IP limits on logins (the
token endpoint and the admin login form) against password guessing. The counting is videogen.ratelimit's
atomic sliding window; DRF's own throttles read and then write the cache, so concurrent requests overshoot.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from config.errors import ApiError
from videogen import ratelimit

STORE_UNAVAILABLE_RETRY_SECONDS = 5


def store_unavailable() -> ApiError:
    return ApiError(
        "service_unavailable", "The service is briefly unavailable (rate-limit store unreachable). Try again shortly.",
        503, headers={"Retry-After": str(STORE_UNAVAILABLE_RETRY_SECONDS)},
    )


class AtomicThrottleMixin:
    """Counts through videogen.ratelimit instead of DRF's read-modify-write of a cached history."""

    _wait: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        try:
            decision = ratelimit.hit(key, self.num_requests, self.duration)
        except ratelimit.RateLimitUnavailable:
            raise store_unavailable() from None
        self._wait = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return self._wait


class SharedCacheUserThrottle(AtomicThrottleMixin, UserRateThrottle):
    scope = "default"


class UploadThrottle(SharedCacheUserThrottle):
    scope = "upload"


class GenerateThrottle(SharedCacheUserThrottle):
    scope = "generate"


class ApproveThrottle(SharedCacheUserThrottle):
    scope = "approve"


class RenderThrottle(SharedCacheUserThrottle):
    scope = "render"


class RefineThrottle(SharedCacheUserThrottle):
    scope = "refine"


class ListThrottle(SharedCacheUserThrottle):
    scope = "list"


class AnalyticsThrottle(SharedCacheUserThrottle):
    scope = "analytics"


class PollThrottle(SharedCacheUserThrottle):
    """30/min per user *and job*: a marketer watching 20 jobs at once is not throttled."""

    scope = "poll"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        base = super().get_cache_key(request, view)
        if base is None:
            return None
        return f"{base}:job:{view.kwargs.get('pk') or view.kwargs.get('job_id')}"


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the X-Forwarded-For entry added by the trusted proxies
    (NUM_PROXIES); a client-supplied X-Forwarded-For is never trusted on its own."""
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _username_key(username: str) -> str:
    # Hashed: usernames typed into a login form (sometimes a password by mistake) do not sit in the store.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def scope_hit(scope: str, ident: str) -> ratelimit.Decision:
    """Counts one request of `ident` against the rate of `scope` (DRF's rates, as every throttle reads
    them); always allowed when the scope has no rate. Raises ratelimit.RateLimitUnavailable."""
    rate = SimpleRateThrottle.THROTTLE_RATES.get(scope)
    if not rate:
        return ratelimit.Decision(True, 0)
    limit, window = SimpleRateThrottle.parse_rate(None, rate)
    return ratelimit.hit(f"throttle_{scope}_{ident}", limit, window)


def login_attempt(username: str, ip: str) -> ratelimit.Decision:
    """Counts one login attempt against the username and the address; refused when either is over its rate.

    Raises ratelimit.RateLimitUnavailable when the shared store is down.
    """
    decisions = []
    for scope, ident in (("login_user", _username_key(username) if username else ""), ("login_ip", ip)):
        if not ident:
            continue
        decisions.append(scope_hit(scope, ident))
    refused = [d for d in decisions if not d.allowed]
    if refused:
        return ratelimit.Decision(False, max(d.retry_after for d in refused))
    return ratelimit.Decision(True, 0)


class LoginThrottle(SimpleRateThrottle):
    """Per username and per IP, on the token endpoint (the admin login form uses login_attempt directly)."""

    scope = "login_ip"
    _wait: float | None = None

    def get_rate(self) -> str | None:
        return self.THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        data = request.data if hasattr(request, "data") else {}
        username = data.get("username", "") if hasattr(data, "get") else ""
        try:
            decision = login_attempt(username if isinstance(username, str) else "", client_ip(request))
        except ratelimit.RateLimitUnavailable:
            raise store_unavailable() from None
        self._wait = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return self._wait
