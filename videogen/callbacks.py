"""Status callbacks: every status change of a job with a `callbackUrl` is POSTed there, signed.

Body: `{"event": "job.status_changed", "job": <job document>}`, fixed when the status changes (the
delivery row is written in the transition's transaction, so no change is lost even if the process
dies right after). Header `X-Videogen-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>` with the client's callback secret. Anything but a 2xx is retried with backoff
for CALLBACK_RETRY_HOURS (24 h); each try is a `CallbackAttempt` row, shown in the admin job console.
A job's deliveries go out in the order of its status changes: one waits while an earlier one is pending.

Only https URLs whose host resolves to public addresses are accepted (at /generate) and contacted
(at every attempt, against DNS rebinding: the request goes to the address just vetted, with the
original Host and TLS server name). Hosts in CALLBACK_ALLOWED_HOSTS skip the address check, and may
use http when CALLBACK_ALLOW_HTTP is set (local receivers, tests).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clients.models import Client
from videogen.models import CallbackAttempt, CallbackDelivery, VideoJob

logger = logging.getLogger(__name__)

EVENT_STATUS_CHANGED = "job.status_changed"
SIGNATURE_HEADER = "X-Videogen-Signature"
DELIVER_TASK = "videogen.callbacks.deliver_callback"
# Seconds before the next try, by attempt number; the last step repeats until 24 h have passed.
BACKOFF_SECONDS = (60, 120, 300, 600, 1800, 3600, 7200, 14400, 21600)


class UnsafeCallbackURL(ValueError):
    """The callback URL may not be used (scheme, or a host that is not on the public internet)."""


# --- Secrets and signatures -----------------------------------------------------------------------

def rotate_secret(client: Client) -> str:
    """Makes a new callback secret for `client` and returns it (the only time it is shown)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    Client.objects.filter(pk=client.pk).update(callback_secret=secret, callback_secret_rotated_at=timezone.now())
    client.callback_secret = secret
    return secret


def has_secret(client_id: Any) -> bool:
    return Client.objects.filter(pk=client_id).exclude(callback_secret="").exists()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Videogen-Signature value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (documented in README): recompute, compare in constant time, check freshness."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


# --- URL safety ---------------------------------------------------------------------------------

def _allowed_hosts() -> list[str]:
    return [host.strip().lower() for host in settings.CALLBACK_ALLOWED_HOSTS if host.strip()]


def vet_callback_url(url: str) -> Any:
    """The URL with the addresses it may be sent to; raises UnsafeCallbackURL."""
    from videogen import netguard

    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    allowed = _allowed_hosts()
    listed = host in allowed or any(entry.startswith(f"{host}:") for entry in allowed)
    try:
        return netguard.vet_url(url, allowed_hosts=allowed, require_https=not (listed and settings.CALLBACK_ALLOW_HTTP))
    except netguard.UnsafeURL as exc:
        raise UnsafeCallbackURL(str(exc)) from None


def check_callback_url(url: str) -> None:
    """For /generate: 400 material (the view names the field)."""
    vet_callback_url(url)


# --- Queueing -----------------------------------------------------------------------------------

def queue_delivery(job: VideoJob, *, version: int, document: str) -> CallbackDelivery:
    """Called inside the status transition's transaction; the send is queued after commit."""
    body = f'{{"event":"{EVENT_STATUS_CHANGED}","job":{document}}}'
    delivery = CallbackDelivery.objects.create(
        job=job, version=version, event=EVENT_STATUS_CHANGED, url=job.callback_url, body=body,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(delivery.pk), robust=True)
    return delivery


def _enqueue(delivery_id: int) -> None:
    from videogen.pipeline.queue import enqueue

    enqueue(DELIVER_TASK, delivery_id)


def deliver_due_callbacks(now: datetime | None = None, **_: Any) -> int:
    """Scheduled every minute: queues the deliveries whose next attempt is due (retries, and sends
    whose task was lost with a worker). Returns how many it queued."""
    now = now or timezone.now()
    due = list(
        CallbackDelivery.objects.filter(state=CallbackDelivery.State.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at").values_list("pk", flat=True)[:500]
    )
    for delivery_id in due:
        _enqueue(delivery_id)
    return len(due)


# --- Sending ------------------------------------------------------------------------------------

def next_delay(attempt: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1])


def deliver_callback(delivery_id: int, now: datetime | None = None, **_: Any) -> str:
    """The task: one attempt at a due delivery. Safe to run twice (the claim is a conditional UPDATE)."""
    now = now or timezone.now()
    claim_until = now + timedelta(seconds=settings.CALLBACK_TIMEOUT_SECONDS + 30)
    claimed = CallbackDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery_id, state=CallbackDelivery.State.PENDING, next_attempt_at__lte=now,
    ).update(claimed_until=claim_until)
    if not claimed:
        return "not_due"
    delivery = CallbackDelivery.objects.select_related("job__client").get(pk=delivery_id)
    if CallbackDelivery.objects.filter(job_id=delivery.job_id, version__lt=delivery.version,
                                       state=CallbackDelivery.State.PENDING).exists():
        # In order per job: an earlier status change is still on its way; when it is delivered (or
        # given up) it queues this one (the sweeper would too).
        CallbackDelivery.objects.filter(pk=delivery_id).update(claimed_until=None)
        return "waiting"
    number = delivery.attempts + 1
    started = time.monotonic()
    status_code, error = _send(delivery, delivery.job.client.callback_secret)
    duration_ms = int((time.monotonic() - started) * 1000)
    delivered = status_code is not None and 200 <= status_code < 300
    next_attempt_at = None
    if delivered:
        state = CallbackDelivery.State.DELIVERED
    else:
        next_attempt_at = now + next_delay(number)
        state = CallbackDelivery.State.PENDING
        if next_attempt_at > delivery.created_at + timedelta(hours=settings.CALLBACK_RETRY_HOURS):
            state, next_attempt_at = CallbackDelivery.State.FAILED, None
    with transaction.atomic():
        CallbackAttempt.objects.create(delivery=delivery, number=number, status_code=status_code, error=error[:2000],
                                       duration_ms=duration_ms, next_attempt_at=next_attempt_at)
        CallbackDelivery.objects.filter(pk=delivery_id).update(
            attempts=number, last_status_code=status_code, last_error=error[:2000], state=state,
            next_attempt_at=next_attempt_at, claimed_until=None,
            delivered_at=timezone.now() if delivered else None,
        )
    logger.info("callback_attempt job_id=%s delivery=%s attempt=%s status=%s state=%s", delivery.job_id,
                delivery_id, number, status_code or error[:80], state)
    if state != CallbackDelivery.State.PENDING:
        _queue_next(delivery.job_id, delivery.version)
    return state


def _queue_next(job_id: int, after_version: int) -> None:
    following = (
        CallbackDelivery.objects.filter(job_id=job_id, version__gt=after_version, state=CallbackDelivery.State.PENDING)
        .order_by("version").values_list("pk", "next_attempt_at").first()
    )
    if following is not None and following[1] is not None and following[1] <= timezone.now():
        _enqueue(following[0])


def _send(delivery: CallbackDelivery, secret: str) -> tuple[int | None, str]:
    """POSTs the body to the vetted address; (status code, "") or (None, why it could not be sent)."""
    if not secret:
        return None, "The client has no callback secret (rotate one in admin)."
    try:
        vetted = vet_callback_url(delivery.url)  # again now: the name may resolve elsewhere than at /generate
    except UnsafeCallbackURL as exc:
        return None, f"Refused: {exc}"
    body = delivery.body.encode()
    default_port = 443 if vetted.scheme == "https" else 80
    host_header = vetted.host if vetted.port == default_port else f"{vetted.host}:{vetted.port}"
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "videogen-callbacks/2",
        "Host": host_header,
        "X-Videogen-Event": delivery.event,
        "X-Videogen-Delivery": str(delivery.pk),
        # The job's version at this status change: deliveries of one job arrive in this order.
        "X-Videogen-Job-Version": str(delivery.version),
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
    }
    error = "No address to send to."
    for address in vetted.addresses:
        literal = f"[{address}]" if ":" in address else address
        pinned = f"{vetted.scheme}://{literal}:{vetted.port}{vetted.path}"
        try:
            with httpx.Client(timeout=settings.CALLBACK_TIMEOUT_SECONDS, follow_redirects=False) as http, \
                    http.stream("POST", pinned, content=body, headers=headers,
                                extensions={"sni_hostname": vetted.host}) as response:
                return response.status_code, ""  # the receiver's body is not read
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
    return None, error
