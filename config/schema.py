"""OpenAPI generation: every operation documents the error answers it can give.

drf-spectacular documents only the success response unless a view lists its errors. The
contract promises the error envelope for every non-2xx, and the schema is what the frontend's
types and the fuzzing tests (tests/test_schemathesis.py) are built from, so this AutoSchema
adds the envelope for the codes an operation can actually produce, unless the view already
declared them:

- 401 everywhere (missing/invalid/expired token; the token endpoints for bad credentials);
- 400 when the operation takes a body or query parameters (validation errors);
- 404 when the path names an object (another tenant's answers 404 too) or the list is paginated;
- 403 for writes (viewers may read, not write);
- 415 when the operation takes a body (another content type);
- 413 when the operation takes a body (over the size limit);
- 429 and 503 when the view is throttled (the rate-limit store unreachable).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import SAFE_METHODS

from config.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `validation_error` with `fields`, or an endpoint-specific code.",
    401: "Missing, invalid or expired credentials.",
    403: "Not allowed: viewers may read but not change a client's data.",
    404: "Not found, or not one of yours.",
    415: "Unsupported content type.",
    413: "`payload_too_large`: the request body is over the size limit.",
    429: "Rate limit reached; see Retry-After.",
    503: "`service_unavailable`: the rate-limit store is unreachable; see Retry-After.",
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), str(code)
                )
        return dict(sorted(responses.items()))

    def _error_codes(self) -> list[int]:
        takes_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        has_query = any(parameter.get("in") == "query" for parameter in self._get_parameters())
        codes = [401]
        if takes_body or has_query:
            codes.append(400)
        if "{" in self.path or (self.method == "GET" and self._is_list_view() and self._get_paginator()):
            codes.append(404)
        if self.method not in SAFE_METHODS:
            codes.append(403)
        if takes_body:
            codes.extend([413, 415])
        if self._is_throttled():
            codes.extend([429, 503])
        return codes

    def _is_throttled(self) -> bool:
        try:
            return bool(self.view.get_throttles())
        except Exception:  # noqa: BLE001 - a view's get_throttles may need a real request; then assume not
            return bool(getattr(self.view, "throttle_classes", ()))
