"""Login endpoints with brute-force protection: the API's token endpoint and the admin login form.

Both count attempts per username and per client address in the shared store (config.throttles), so
the limits hold across every web process. The API answers 429 JSON with Retry-After; the admin login
answers a readable 429 page with Retry-After.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

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


class RefreshSerializer(TokenRefreshSerializer):
    """A new access token (and, with rotation, a new refresh token; the used one is blacklisted).

    A refresh token whose user no longer exists is a 401, like any other token that cannot be used.
    """

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist:
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from None


class RefreshView(TokenRefreshView):
    """`POST /auth/token/refresh`: `{refresh}` -> `{access, refresh}`; each refresh token works once."""

    serializer_class = RefreshSerializer


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")


@extend_schema(
    request=LogoutSerializer,
    responses={204: OpenApiResponse(description="The refresh token is revoked.")},
    description="Revokes a refresh token (blacklisted: it can no longer be used to refresh). "
                "Access tokens already issued stay valid until they expire.",
)
class LogoutView(APIView):
    """`POST /auth/logout`: blacklists the given refresh token. Needs only the token itself, so a client
    whose access token has expired can still sign out."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [throttles.LoginThrottle]

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # a refused token is a 401 (DRF answers 403 without this header)

    def post(self, request: Request) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise InvalidToken(str(exc)) from None
        return Response(status=204)
