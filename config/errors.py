"""One error envelope for every non-2xx answer: `{"code", "detail", "fields"?}`.

The domain's refusals (videogen.errors) are given their HTTP status here and nowhere else.
DRF's own handler runs first so that headers it sets (Retry-After on 429, WWW-Authenticate
on 401) survive; we only reshape the body.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from videogen.errors import (
    BudgetExceeded,
    DomainError,
    IdempotencyKeyReused,
    InvalidField,
    InvalidState,
    NotReady,
    ProviderUnavailable,
    SpendRefused,
)

logger = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    """The error envelope every non-2xx answer carries (documented on every operation)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ApiError(exceptions.APIException):
    """An API error with an explicit machine code, status and optional extra headers."""

    def __init__(self, code: str, detail: str, status_code: int = 400, headers: dict[str, str] | None = None):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.error_code = code
        self.headers = headers or {}


class Conflict(ApiError):
    def __init__(self, detail: str, code: str = "invalid_state"):
        super().__init__(code, detail, status.HTTP_409_CONFLICT)


# Most specific first: a domain error answers the status of the first class it is an instance of.
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (BudgetExceeded, status.HTTP_429_TOO_MANY_REQUESTS),
    (ProviderUnavailable, status.HTTP_503_SERVICE_UNAVAILABLE),
    (InvalidState, status.HTTP_409_CONFLICT),
    (IdempotencyKeyReused, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (NotReady, status.HTTP_409_CONFLICT),
)


def from_domain(exc: DomainError) -> exceptions.APIException:
    """The API answer for a domain refusal: its code and message, the status above, Retry-After for spend."""
    if isinstance(exc, InvalidField):
        return exceptions.ValidationError({exc.field: exc.messages})
    status_code = next((code for kind, code in DOMAIN_STATUS if isinstance(exc, kind)), status.HTTP_400_BAD_REQUEST)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, SpendRefused) else None
    return ApiError(exc.code, exc.message, status_code, headers=headers)


_DEFAULT_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turns DRF's nested ValidationError detail into `{"camelCasePath": [messages]}`."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # ListField reports child errors as {index: errors}
                path = f"{prefix}[{key}]"
            else:
                name = "nonFieldErrors" if key in ("non_field_errors", "__all__") else _camel(str(key))
                path = f"{prefix}.{name}" if prefix else name
            fields.update(_flatten_fields(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            fields[prefix or "nonFieldErrors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                fields.update(_flatten_fields(item, f"{prefix}[{index}]"))
    else:
        fields[prefix or "nonFieldErrors"] = [str(detail)]
    return fields


def _first_code(codes: Any) -> str | None:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        for value in codes.values():
            found = _first_code(value)
            if found:
                return found
    if isinstance(codes, list):
        for value in codes:
            found = _first_code(value)
            if found:
                return found
    return None


def _from_infrastructure(exc: Exception) -> exceptions.APIException | None:
    """Client faults Django raises outside DRF's exception family, and an unreachable Redis, as 4xx/503."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

    if isinstance(exc, exceptions.APIException):
        return None  # already an API answer (an upload's file_too_large is also a RequestDataTooBig)
    if isinstance(exc, RequestDataTooBig):
        from config.parsers import payload_too_large

        return payload_too_large()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError("Too many fields in the request.")
    if isinstance(exc, RecursionError):
        return exceptions.ParseError("The request is nested too deeply.")
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a pinned dependency
        return None
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        logger.error("cache unreachable: %s", exc)
        return ApiError("service_unavailable", "The service is briefly unavailable. Please try again shortly.",
                        status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        exc = from_domain(exc)
    exc = _from_infrastructure(exc) or exc
    response = exception_handler(exc, context)
    if response is None:
        # Unexpected error: log it with its traceback, answer a clean 500 envelope.
        logger.exception("unhandled API error", exc_info=exc)
        return Response(
            {"code": "server_error", "detail": "Something went wrong on our side. Please try again."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, ApiError):
        body: dict[str, Any] = {"code": exc.error_code, "detail": str(exc.detail)}
        for header, value in exc.headers.items():
            response[header] = value
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        code = _first_code(exc.get_codes())
        specific = code if code in {"file_too_large", "unsupported_type", "corrupt_file"} else "validation_error"
        first = next(iter(fields.values()), ["Invalid input."])[0]
        detail = first if specific != "validation_error" else "The request has invalid fields."
        body = {"code": specific, "detail": detail, "fields": fields}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", None) if isinstance(exc, exceptions.APIException) else None
        if isinstance(exc, (Http404, exceptions.NotFound)):
            code, detail = "not_found", "Not found."
        if isinstance(exc, exceptions.Throttled):
            code = "throttled"
        if isinstance(detail, dict) and "detail" in detail:
            # simplejwt's InvalidToken carries {"detail", "code", "messages"}: keep the sentence.
            detail = detail["detail"]
        if isinstance(detail, (dict, list)):
            detail = "; ".join(str(v) for v in (detail.values() if isinstance(detail, dict) else detail))
        body = {"code": code or _DEFAULT_CODES.get(response.status_code, "error"), "detail": str(detail)}
    response.data = body
    return response


def json_404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)


def json_500(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"code": "server_error", "detail": "Something went wrong on our side. Please try again."}, status=500
    )


def json_400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exception, RequestDataTooBig) and not isinstance(exception, exceptions.APIException):
        return JsonResponse({"code": "payload_too_large", "detail": "The request body is too large."}, status=413)
    return JsonResponse({"code": "bad_request", "detail": "The request could not be understood."}, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """CSRF_FAILURE_VIEW: browser-session writes without a valid CSRF token (the API uses Bearer tokens)."""
    return JsonResponse(
        {"code": "csrf_failed", "detail": "This request needs a valid CSRF token (the API takes a Bearer token)."},
        status=403,
    )


def json_403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"code": "permission_denied", "detail": "You may not do this."}, status=403)
