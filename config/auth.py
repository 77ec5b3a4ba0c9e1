"""Login endpoints with brute-force protection: the API's token endpoint and the admin login form.

Both count attempts per username and per client address in the shared store (config.throttles), so
the limits hold across every web process. The API answers 429 JSON with Retry-After; the admin login
answers a readable 429 page with Retry-After.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from rest_framework_simplejwt.views import TokenObtainPairView

from config import throttles
from videogen import ratelimit


class ThrottledTokenObtainPairView(TokenObtainPairView):
    """`POST /auth/token`: a JWT pair for good credentials; attempts limited per username and per IP."""

    throttle_classes = [throttles.LoginThrottle]


@never_cache
def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Django admin's login view, with the same per-username and per-IP attempt limits."""
    if request.method == "POST":
        try:
            decision = throttles.login_attempt(request.POST.get("username", ""), throttles.client_ip(request))
        except ratelimit.RateLimitUnavailable:
            return _refusal(request, 503, throttles.STORE_UNAVAILABLE_RETRY_SECONDS,
                            "Sign-in is briefly unavailable. Please try again in a few seconds.")
        if not decision.allowed:
            return _refusal(request, 429, decision.retry_after,
                            "Too many sign-in attempts. Please wait a moment before trying again.")
    return admin.site.login(request, extra_context)


def _refusal(request: HttpRequest, status: int, retry_after: int, message: str) -> HttpResponse:
    context = {**admin.site.each_context(request), "title": "Sign-in paused", "message": message,
               "retry_after": retry_after}
    response = TemplateResponse(request, "admin/login_throttled.html", context, status=status)
    response["Retry-After"] = str(retry_after)
    return response
