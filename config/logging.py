"""Structured logs (docs/design.md, Logs and metrics): one JSON object per line, from the web and from the workers.

Every line carries `timestamp` (ISO 8601, UTC), `level` (INFO, WARNING, ...), `event`,
`logger`, and, whenever they are known, `request_id`, `job_id`, `campaign_id`, `client_id`
and `duration_ms`. Standard-library records (Django, django-q2, our modules' `logging`
calls) go through the same processors as structlog's own, so there is one format only.

- The request id comes from RequestIdMiddleware (the `current_request_id` context variable)
  and is bound for the whole request by :class:`RequestLogMiddleware`; tasks receive it as an
  argument and bind it again with :func:`bind_job_context`, so a job's task lines carry the id of
  the API call that queued them.
- :func:`redact` runs last before rendering: values under secret-looking keys, bearer tokens,
  JWTs, Replicate tokens (`r8_...`), presigned-URL signatures and signed media tokens are
  replaced, wherever they appear (the message included).
- `LOG_FORMAT=json` (default) or `console` (default when DEBUG=1) picks the renderer.

Django applies this through `LOGGING_CONFIG = "config.logging.configure_logging"`, so every
process (gunicorn, qcluster and its workers, management commands) is set up the same way.
"""

from __future__ import annotations

import logging
import logging.config
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import structlog

from config.middleware import current_request_id

REDACTED = "[redacted]"

#: Keys whose values never reach a log line (compared lower-case; `_`/`-` separated parts too).
SENSITIVE_KEYS = frozenset(
    {
        "authorization", "password", "passwd", "token", "api_token", "api_key", "apikey", "secret", "access",
        "refresh", "cookie", "set-cookie", "x-api-key", "signature", "credentials", "session", "sessionid",
        "csrftoken", "replicate_api_token", "secret_key", "access_token", "refresh_token", "webhook_secret",
        "http_authorization", "http_cookie",
    }
)  # fmt: skip
_SENSITIVE_PARTS = ("password", "secret", "token", "authorization", "api_key", "apikey", "cookie")

_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),  # JWT
    (re.compile(r"\br8_[A-Za-z0-9]{8,}"), "r8_" + REDACTED),  # Replicate API token
    (
        re.compile(r"(?i)\b(x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|token|"
                   r"access_token|api_key|password)=[^&\s\"']+"),
        r"\1=" + REDACTED,
    ),
    (re.compile(r"(/media/signed/)[^/\s\"'?]+"), r"\1" + REDACTED),
    # django.core.signing tokens (signed media, events URLs): value:timestamp:signature, anywhere.
    (re.compile(r"[A-Za-z0-9_.=-]{8,}:[A-Za-z0-9]{4,}:[A-Za-z0-9_-]{16,}"), REDACTED),
)
_PLAIN_TYPES = (str, bytes, int, float, bool, type(None))


def _is_sensitive(key: Any) -> bool:
    name = str(key).lower()
    return name in SENSITIVE_KEYS or any(part in name for part in _SENSITIVE_PARTS)


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        for pattern, replacement in _VALUE_PATTERNS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, bytes):
        return redact_value(value.decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_sensitive(k) and v not in (None, "") else redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [redact_value(item) for item in value]
    if _is_http_request(value):
        # django.request / django.security records carry the request object; its repr holds the full
        # path and query (signed media tokens, ?token=). Keep method and path, redacted.
        return redact_value(f"{getattr(value, 'method', '')} {getattr(value, 'path', '')}".strip())
    if not isinstance(value, _PLAIN_TYPES):
        return redact_value(str(value))  # rendered as text anyway (JSONRenderer default=str): redact that text
    return value


def _is_http_request(value: Any) -> bool:
    from django.http import HttpRequest

    return isinstance(value, HttpRequest) or value.__class__.__name__ in ("Request", "ASGIRequest", "WSGIRequest")


def redact(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no secrets or tokens in logs, whatever the key or the message."""
    return {
        key: REDACTED if _is_sensitive(key) and value not in (None, "") else redact_value(value)
        for key, value in event_dict.items()
    }


def add_request_id(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Fills `request_id` from the request's context variable when nothing bound it explicitly."""
    if not event_dict.get("request_id"):
        request_id = current_request_id.get()
        if request_id:
            event_dict["request_id"] = request_id
        else:
            event_dict.pop("request_id", None)
    return event_dict


def uppercase_level(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    if "level" in event_dict:
        event_dict["level"] = str(event_dict["level"]).upper()
    return event_dict


_LEADING_KEYS = ("timestamp", "level", "event", "logger", "request_id", "job_id", "campaign_id", "client_id")


def order_keys(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The documented fields first, in a fixed order, so lines read the same everywhere."""
    leading = {key: event_dict[key] for key in _LEADING_KEYS if key in event_dict}
    return {**leading, **{key: value for key, value in event_dict.items() if key not in leading}}


SHARED_PROCESSORS: list[Callable[..., Any]] = [
    structlog.contextvars.merge_contextvars,
    add_request_id,
    structlog.stdlib.add_log_level,
    uppercase_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
]


def build_formatter(fmt: str = "json") -> structlog.stdlib.ProcessorFormatter:
    """The one formatter for every handler: `json` (one object per line) or `console` (for people)."""
    renderer: Callable[..., Any]
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(default=str)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            order_keys,
            renderer,
        ],
    )


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure_logging(logging_settings: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG hook: structlog first, then the stdlib dictConfig from settings.LOGGING."""
    configure_structlog()
    logging.config.dictConfig(logging_settings)


log = structlog.get_logger("videogen.jobs")


#: Reads a job's log labels (campaign_id, client_id) by its id; the videogen app registers it in
#: AppConfig.ready(), so logging itself knows no models.
_job_labels_lookup: Callable[[int], dict[str, str]] | None = None


def register_job_labels(lookup: Callable[[int], dict[str, str]]) -> None:
    global _job_labels_lookup
    _job_labels_lookup = lookup


def _job_labels(job_id: int) -> dict[str, str]:
    """campaign_id/client_id of a job for its log lines; nothing if the database cannot tell right now."""
    from django.db import DatabaseError

    if _job_labels_lookup is None:
        return {}
    try:
        return _job_labels_lookup(job_id)
    except DatabaseError:
        return {}


@contextmanager
def bind_job_context(*, job_id: int, request_id: str = "", **extra: Any) -> Iterator[None]:
    """Binds job_id/request_id (and extras) to every log line emitted inside the block.

    Inside a task (`task=...` given) it also binds the job's campaign and client and logs
    `task_finished` (INFO) or `task_failed` (ERROR) with `duration_ms` when the block ends.
    """
    token = current_request_id.set(request_id or current_request_id.get())
    labels = _job_labels(job_id) if "task" in extra and "campaign_id" not in extra else {}
    started = time.monotonic()
    with structlog.contextvars.bound_contextvars(job_id=job_id, request_id=request_id, **labels, **extra):
        try:
            yield
        except BaseException as exc:  # django-q2's timeout is a SystemExit: log it too, then re-raise
            if "task" in extra:
                log.error("task_failed", duration_ms=_elapsed_ms(started), error=exc.__class__.__name__,
                          exc_info=isinstance(exc, Exception))
            raise
        else:
            if "task" in extra:
                log.info("task_finished", duration_ms=_elapsed_ms(started))
        finally:
            current_request_id.reset(token)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


# --- Requests ---------------------------------------------------------------------------------

access_log = structlog.get_logger("videogen.requests")
security_log = structlog.get_logger("videogen.security")
_QUIET_PATHS = ("/metrics", "/healthz", "/readyz", "/static/")
#: Object kind -> probe(object_id, user): True when the object exists under a client the user is not a
#: member of. Each app registers its kinds in AppConfig.ready() (see config.tenancy.belongs_to_another_tenant).
_TENANT_PROBES: dict[str, Callable[[Any, Any], bool]] = {}
#: URL keyword arguments that name an object, by the kind of object (the routes' own names).
_ROUTE_KWARGS = {"job_id": "job", "client_pk": "client"}


def register_tenant_probe(kind: str, probe: Callable[[Any, Any], bool]) -> None:
    _TENANT_PROBES[kind] = probe


class RequestLogMiddleware:
    """Binds the request id to every log line of the request and writes one access line with `duration_ms`.

    A 404 on another tenant's existing object is logged as `cross_tenant_access` (WARNING):
    the caller got the same answer as for a missing object, but ops should see the probe.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        started = time.monotonic()
        request_id = getattr(request, "request_id", "") or current_request_id.get()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            response = self.get_response(request)
            user = getattr(request, "user", None)
            user_id = user.pk if getattr(user, "is_authenticated", False) else None
            fields = {
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": _elapsed_ms(started), "user_id": user_id,
            }
            if request.path.startswith(_QUIET_PATHS):
                access_log.debug("request_finished", **fields)
            elif response.status_code >= 500:
                access_log.error("request_finished", **fields)
            else:
                access_log.info("request_finished", **fields)
            if response.status_code == 404 and user_id is not None:
                _log_cross_tenant(request, user)
        return response


def routed_object(request: Any) -> tuple[str, Any] | None:
    """(kind, id) of the object the resolved route names, e.g. ("job", 42) for /api/v2/jobs/42/render."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    for kwarg, kind in _ROUTE_KWARGS.items():
        if kwarg in match.kwargs:
            return kind, match.kwargs[kwarg]
    if "pk" in match.kwargs and match.url_name:  # router routes: "client-detail", "campaign-detail"
        return match.url_name.split("-", 1)[0], match.kwargs["pk"]
    return None


def _log_cross_tenant(request: Any, user: Any) -> None:
    from django.db import DatabaseError

    routed = routed_object(request)
    probe = _TENANT_PROBES.get(routed[0]) if routed else None
    if probe is None:
        return
    kind, object_id = routed
    try:
        foreign = probe(object_id, user)
    except DatabaseError:
        return
    if foreign:
        security_log.warning("cross_tenant_access", object=kind, object_id=str(object_id), user_id=user.pk,
                             method=request.method, path=request.path)
