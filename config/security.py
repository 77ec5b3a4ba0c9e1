"""JWT authentication that tells ops about forged tokens (auth bypass attempts are logged at CRITICAL).

A rejected bearer token is classified without ever logging it:

- bad signature, or an algorithm we do not issue (`none`, HS512, RS256...): someone is
  forging tokens -> `auth_bypass_attempt` at CRITICAL;
- not a JWT at all, or claims that do not validate: `invalid_token` at WARNING;
- expired, or a refresh token sent as an access token: an everyday client mistake -> INFO.

The answer to the client is unchanged (401 with the error envelope).
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import structlog
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

log = structlog.get_logger("videogen.security")


class AuditedJWTAuthentication(JWTAuthentication):
    def authenticate(self, request: Request) -> Any:
        self._audited_request = request  # authenticators are made per request
        return super().authenticate(request)

    def get_validated_token(self, raw_token: bytes) -> Any:
        try:
            return super().get_validated_token(raw_token)
        except InvalidToken:
            audit_rejected_token(raw_token, getattr(self, "_audited_request", None))
            raise


def classify_token(raw: bytes | str) -> tuple[str, str]:
    """(level, reason) for a token simplejwt refused."""
    token = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return "warning", "malformed"
    if header.get("alg") != api_settings.ALGORITHM:
        return "critical", "unexpected_algorithm"
    key = api_settings.VERIFYING_KEY or api_settings.SIGNING_KEY
    try:
        claims = jwt.decode(token, key, algorithms=[api_settings.ALGORITHM],
                            options={"verify_exp": False, "verify_aud": False, "verify_iss": False})
    except jwt.InvalidSignatureError:
        return "critical", "bad_signature"
    except jwt.PyJWTError:
        return "warning", "invalid_claims"
    if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < time.time():
        return "info", "expired"
    if claims.get(api_settings.TOKEN_TYPE_CLAIM) != "access":
        return "info", "wrong_token_type"
    return "warning", "rejected"


def audit_rejected_token(raw: bytes | str, request: Request | None) -> None:
    level, reason = classify_token(raw)
    event = "auth_bypass_attempt" if level == "critical" else "invalid_token"
    where = {"method": request.method, "path": request.path, "remote_addr": request.META.get("REMOTE_ADDR", "")} \
        if request is not None else {}
    getattr(log, level)(event, reason=reason, **where)


class AuditedJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt (bearer JWT) for the audited subclass."""

    target_class = "config.security.AuditedJWTAuthentication"
