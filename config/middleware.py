"""Request-scoped context shared by the web logs and the tasks a request queues."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")


def get_request_id() -> str:
    return current_request_id.get()


class RequestIdMiddleware:
    """Accepts a sane `X-Request-ID` or mints one, so a job can be traced from its API call into its tasks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response
