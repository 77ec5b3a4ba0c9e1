"""`GET /api/v2/jobs/{job_id}/events`: the job as Server-Sent Events (docs/api.md, Live updates).

Each event is `event: job`, `id: <job version>`, `data: <the job document>`. The first event is the
current document (or, with `Last-Event-ID`, every status change since that version followed by the
current document); then one event per change this process hears of (progress is coalesced, since
each event carries the whole document; a status is never skipped: the snapshots recorded with each
transition are replayed in order). A comment line every EVENTS_HEARTBEAT_SECONDS keeps proxies from
closing an idle stream; the stream ends after `completed`, `partially_completed`, `failed` or
`cancelled`. Reconnecting to a finished job that the client has fully seen answers 204, which tells
EventSource to stop reconnecting.

An async view: under the ASGI server (uvicorn workers) an open stream is a coroutine waiting on the
process's hub (videogen.live.hub), not a thread, so streams do not starve the API.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.views import APIView

from config.errors import ErrorSerializer
from config.security import AuditedJWTAuthentication
from config.throttles import scope_hit, store_unavailable
from videogen import ratelimit, selectors
from videogen.live.hub import Rendered, get_hub, run_db
from videogen.models import JobStatus, VideoJob
from videogen.signed_urls import EventsTokenError, read_events_token

TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.PARTIALLY_COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
RETRY_MILLISECONDS = 3000


def _error(status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse({"code": code, "detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _authenticated_user(request: Any) -> Any:
    """The Bearer token's user, None without a token; raises AuthenticationFailed for a bad token."""
    result = AuditedJWTAuthentication().authenticate(request)
    return result[0] if result else None


def _job_state(job_id: int, user: Any) -> tuple[int, str] | None:
    """(version, status) of the job if this caller may see it (any job, for a signed URL's caller)."""
    jobs = selectors.jobs_for(user) if user is not None else VideoJob.objects.all()
    return jobs.filter(pk=job_id).values_list("version", "status").first()


def _last_event_id(request: Any) -> int | None:
    raw = request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isdigit() else None


def _throttled(caller: str) -> JsonResponse | None:
    """The `events` rate (opening streams) counted like every other throttle: 429 over it, 503 when
    the shared store is down; None when the stream may open."""
    try:
        decision = scope_hit("events", caller)
    except ratelimit.RateLimitUnavailable:
        unavailable = store_unavailable()  # the same 503 every throttled endpoint answers
        response = _error(unavailable.status_code, unavailable.error_code, str(unavailable.detail))
        for name, value in unavailable.headers.items():
            response[name] = value
        return response
    if decision.allowed:
        return None
    response = _error(429, "throttled", f"Too many live-update streams opened. Try again in {decision.retry_after} s.")
    response["Retry-After"] = str(decision.retry_after)
    return response


def _event(version: int, document: str) -> str:
    return f"event: job\nid: {version}\ndata: {document}\n\n"


async def job_events(request: Any, job_id: int) -> HttpResponse:
    user = None
    token = request.GET.get("token")
    if token:
        try:
            token_job = read_events_token(token)
        except EventsTokenError as exc:
            if exc.reason == "expired":
                return _error(403, "link_expired", "This live-updates link has expired: fetch the job for a new one.")
            return _error(403, "invalid_link", "This live-updates link is not valid.")
        if token_job != job_id:
            return _error(404, "not_found", "Not found.")
    else:
        try:
            user = await run_db(_authenticated_user, request)
        except exceptions.AuthenticationFailed as exc:
            detail = exc.detail.get("detail", exc.detail) if isinstance(exc.detail, dict) else exc.detail
            return _error(401, "token_not_valid", str(detail))
        if user is None:
            return _error(401, "not_authenticated", "Send a Bearer token or use the job's signed eventsUrl.")
    if request.method != "GET":  # after authentication, as DRF views answer (401 before 405)
        response = _error(405, "method_not_allowed", "Only GET is allowed here.")
        response["Allow"] = "GET"
        return response
    state = await run_db(_job_state, job_id, user)
    if state is None:
        return _error(404, "not_found", "Not found.")
    refused = await run_db(_throttled, f"user_{user.pk}" if user is not None else f"job_{job_id}")
    if refused is not None:
        return refused
    last_seen = _last_event_id(request)
    version, status = state
    if status in TERMINAL and last_seen is not None and last_seen >= version:
        return HttpResponse(status=204)
    response = StreamingHttpResponse(_stream(request, job_id, last_seen), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
    return response


async def _stream(request: Any, job_id: int, last_seen: int | None) -> AsyncIterator[str]:
    hub = get_hub()
    subscription = hub.subscribe(job_id)  # before the first read: no change can fall in between
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        current: Rendered | None = await hub.document(job_id, request, fresh=True)
        # A stream lives at most EVENTS_MAX_STREAM_SECONDS: EventSource then reconnects with Last-Event-ID
        # (nothing is lost) and the reconnect authenticates again, so a removed member stops receiving.
        closes_at = time.monotonic() + settings.EVENTS_MAX_STREAM_SECONDS
        while current is not None:
            if current.version != last_seen:
                if last_seen is not None and last_seen < current.version:
                    for version, _status, document in await hub.replay(job_id, last_seen, current):
                        yield _event(version, document)
                yield _event(current.version, current.text)
                last_seen = current.version
            if current.status in TERMINAL:
                return
            remaining = closes_at - time.monotonic()
            if remaining <= 0:
                return
            if await subscription.wait(min(settings.EVENTS_HEARTBEAT_SECONDS, remaining)):
                current = await hub.document(job_id, request)
            elif time.monotonic() < closes_at:
                yield ": heartbeat\n\n"
    finally:
        hub.unsubscribe(subscription)


class JobEventsView(APIView):
    """Documents the stream in the OpenAPI schema; requests are served by the async `job_events`.

    DRF views are synchronous, so `as_view` hands Django the coroutine view while keeping the class
    attributes drf-spectacular reads (`cls`, `initkwargs`).
    """

    @extend_schema(
        summary="Live updates of one job (Server-Sent Events)",
        description=(
            "A `text/event-stream`. Each event is `event: job`, `id: <job version>`, `data: <the job document "
            "as JSON, as GET /jobs/{job_id}>`. Send `Last-Event-ID` to resume: every status change since that "
            "version is replayed in order, then the current document. A comment line (`: heartbeat`) every 15 s; "
            "a stream closes after at most 5 minutes (reconnect with Last-Event-ID); the stream ends after "
            "completed, partially_completed, failed or cancelled (a reconnect that has seen "
            "everything gets 204). Auth: a Bearer token, or the signed `token` of the job document's `eventsUrl` "
            "(EventSource sends no headers); a link for another job is 404, an expired or forged one 403."
        ),
        parameters=[
            OpenApiParameter("token", str, OpenApiParameter.QUERY, required=False,
                             description="The signed token of the job document's eventsUrl."),
            OpenApiParameter("Last-Event-ID", {"type": "integer", "minimum": 0}, OpenApiParameter.HEADER,
                             required=False, description="The last event id (job version) received."),
        ],
        auth=[{"jwtAuth": []}, {}],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                inline_serializer("JobEvent", {
                    "event": serializers.CharField(required=False, help_text="Always `job`."),
                    "id": serializers.CharField(required=False, help_text="The job's version."),
                    "data": serializers.CharField(required=False, help_text="The job document (Job) as JSON."),
                    "retry": serializers.IntegerField(required=False, help_text="Reconnect delay (ms)."),
                }),
                description="One event per change: `job` with the job document (Job) as data.",
            ),
            204: OpenApiResponse(description="The job is finished and the client has seen its last version."),
            401: OpenApiResponse(ErrorSerializer),
            403: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(ErrorSerializer),
            429: OpenApiResponse(ErrorSerializer, description="Too many streams opened (THROTTLE_EVENTS)."),
        },
    )
    def get(self, request: Any, job_id: int) -> Any:  # pragma: no cover - served by job_events
        raise NotImplementedError

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        documented = super().as_view(**initkwargs)

        async def view(request: Any, job_id: int) -> Any:
            return await job_events(request, job_id)

        view.cls = documented.cls  # type: ignore[attr-defined]
        view.initkwargs = documented.initkwargs  # type: ignore[attr-defined]
        view.csrf_exempt = True  # type: ignore[attr-defined]
        return view
