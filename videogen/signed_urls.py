"""Signed, expiring media URLs: how every stored file leaves the service.

`<img>` and `<video>` tags send no Authorization header, so media URLs carry their own
proof: a token signed with SECRET_KEY (salt "media") naming the storage object and when
the URL stops working. On S3-compatible storage the bucket's own presigned URLs are used
instead (signed for AWS_S3_PUBLIC_ENDPOINT_URL when browsers reach the bucket under another
host) and the signed-media view (videogen.api.signing) is not involved.

Expiry is rounded up to a step (a tenth of the TTL, at most five minutes), so the same file
gets the same URL for a few minutes: browsers can cache it, and a job polled every few
seconds keeps the same body and ETag (304s keep working). Every URL still lives at least TTL.
Presigned URLs carry their signing time, so they are memoized in the cache per expiry step:
every process hands out the same URL for a file within a step.
"""

from __future__ import annotations

import hashlib
import math
import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.http import content_disposition_header

SALT = "media"


def _now() -> float:
    return time.time()


def _signer() -> signing.Signer:
    # The expiry is part of the signed payload (not TimestampSigner's issue time) so that the
    # token is deterministic within a step; see the module docstring.
    return signing.Signer(salt=SALT)


def _uses_object_storage() -> bool:
    return bool(getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""))


def _expiry(ttl: int) -> int:
    step = max(1, min(300, ttl // 10))
    return math.ceil((_now() + ttl) / step) * step


def rotation_marker(ttl: int | None = None) -> int:
    """Changes exactly when freshly signed media URLs (of the default TTL) change: their expiry step.

    A job's ETag includes it, so a client holding a 304'd document still gets new URLs every step.
    """
    return _expiry(int(ttl if ttl is not None else settings.MEDIA_URL_TTL_SECONDS))


def make_token(storage_name: str, *, ttl: int, filename: str | None = None, as_attachment: bool = False) -> str:
    payload: dict[str, Any] = {"n": storage_name, "e": _expiry(ttl)}
    if filename:
        payload["f"] = filename
    if as_attachment:
        payload["a"] = 1
    return _signer().sign_object(payload, compress=True)


def read_token(token: str) -> dict[str, Any] | None:
    """The token's payload if it is genuine and not expired, else None."""
    try:
        payload = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str) or not isinstance(payload.get("e"), int):
        return None
    if payload["e"] < _now():
        return None
    return payload


def seconds_left(payload: dict[str, Any]) -> int:
    """How long a read token's URL still works (for Cache-Control)."""
    return max(0, int(payload["e"] - _now()))


def sign_media_url(
    storage_name: str,
    *,
    request: Any = None,
    ttl: int | None = None,
    filename: str | None = None,
    as_attachment: bool = False,
) -> str:
    """A URL that serves `storage_name` from the default storage, without auth, for about `ttl` seconds.

    `filename` names the file in Content-Disposition (inline, or attachment with `as_attachment`).
    Absolute when a request is given (its host) or PUBLIC_BASE_URL is set; relative otherwise.
    """
    ttl = int(ttl if ttl is not None else settings.MEDIA_URL_TTL_SECONDS)
    if _uses_object_storage():
        parameters: dict[str, str] = {}
        if filename:
            parameters["ResponseContentDisposition"] = content_disposition_header(as_attachment, filename) or ""
        return presigned_url(storage_name, expires_at=_expiry(ttl), parameters=parameters)
    token = make_token(storage_name, ttl=ttl, filename=filename, as_attachment=as_attachment)
    path = reverse("signed-media", kwargs={"token": token})
    if request is not None:
        return request.build_absolute_uri(path)
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    return path


def media_url(name: str | None, filename: str | None = None, *, request: Any = None) -> str | None:
    """`sign_media_url` for a file that may not exist yet: None when there is no stored name."""
    return sign_media_url(name, request=request, filename=filename) if name else None


def presigned_url(name: str, *, expires_at: int, parameters: dict[str, str] | None = None) -> str:
    """A presigned GET URL for `name` in the bucket, valid until the epoch second `expires_at`.

    The same (bucket, name, expires_at, parameters) gives the same URL in every process sharing the
    cache, so a polled job keeps the same body and browsers reuse what they downloaded.
    """
    signer = _signing_storage()
    where = (getattr(signer, "endpoint_url", ""), getattr(signer, "bucket_name", ""), getattr(signer, "location", ""))
    key_source = repr((where, name, expires_at, sorted((parameters or {}).items())))
    key = "presigned:" + hashlib.sha256(key_source.encode()).hexdigest()
    url = cache.get(key)
    if url is None:
        lifetime = max(1, expires_at - int(_now()))
        url = signer.url(name, parameters=parameters or None, expire=lifetime)
        cache.set(key, url, timeout=max(1, lifetime - 5))
    return url


def _signing_storage() -> Any:
    """The storage that signs URLs: the default one, or a twin pointed at the browsers' endpoint."""
    public = getattr(settings, "AWS_S3_PUBLIC_ENDPOINT_URL", None)
    if not public or public == getattr(default_storage, "endpoint_url", None):
        return default_storage
    return _public_twin(public, getattr(default_storage, "bucket_name", ""), getattr(default_storage, "location", ""))


@lru_cache(maxsize=4)
def _public_twin(endpoint_url: str, bucket_name: str, location: str) -> Any:
    # Signing is local computation: this twin never connects to its endpoint.
    from storages.backends.s3 import S3Storage

    return S3Storage(endpoint_url=endpoint_url, bucket_name=bucket_name, location=location)


# --- Signed live-update URLs (`eventsUrl`) ------------------------------------------------------
# EventSource sends no Authorization header either, so the job document carries a URL whose token
# names the one job it opens and when it stops working: the same signer and expiry rounding as media
# URLs, with its own salt (a media token never opens a stream, nor the other way round).
EVENTS_SALT = "job-events"


class EventsTokenError(Exception):
    """The token is forged or garbled (`invalid`) or past its expiry (`expired`)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def make_events_token(job_id: int, *, ttl: int) -> str:
    return signing.Signer(salt=EVENTS_SALT).sign_object({"j": int(job_id), "e": _expiry(ttl)})


def read_events_token(token: str) -> int:
    """The job id a genuine, unexpired token opens; raises EventsTokenError otherwise."""
    try:
        payload = signing.Signer(salt=EVENTS_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        raise EventsTokenError("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("j"), int) or not isinstance(payload.get("e"), int):
        raise EventsTokenError("invalid")
    if payload["e"] < _now():
        raise EventsTokenError("expired")
    return payload["j"]


def sign_events_url(job_id: int, *, request: Any = None, ttl: int | None = None) -> str:
    """`/api/v2/jobs/{id}/events?token=...`, absolute like media URLs (request host or PUBLIC_BASE_URL)."""
    ttl = int(ttl if ttl is not None else settings.EVENTS_URL_TTL_SECONDS)
    path = reverse("job-events", kwargs={"job_id": job_id}) + "?token=" + make_events_token(job_id, ttl=ttl)
    if request is not None:
        return request.build_absolute_uri(path)
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    return path
