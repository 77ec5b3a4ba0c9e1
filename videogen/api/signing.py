"""Signed, expiring media URLs: how every stored file leaves the service.

`<img>` and `<video>` tags send no Authorization header, so media URLs carry their own
proof: a token signed with SECRET_KEY (salt "media") naming the storage object and when
the URL stops working. On S3-compatible storage the bucket's own presigned URLs are used
instead and this view is not involved.

Expiry is rounded up to a step (a tenth of the TTL, at most five minutes), so the same file
gets the same URL for a few minutes: browsers can cache it, and a job polled every few
seconds keeps the same body and ETag (304s keep working). Every URL still lives at least TTL.
"""

from __future__ import annotations

import math
import mimetypes
import re
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header

SALT = "media"
_CHUNK = 64 * 1024
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}


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
        return default_storage.url(storage_name, parameters=parameters or None, expire=ttl)
    token = make_token(storage_name, ttl=ttl, filename=filename, as_attachment=as_attachment)
    path = reverse("signed-media", kwargs={"token": token})
    if request is not None:
        return request.build_absolute_uri(path)
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    return path


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def _content_type(name: str) -> str:
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """`(first, last)` for a satisfiable single byte range, False if unsatisfiable, None to ignore it.

    Multiple ranges and malformed headers are ignored (the whole file is sent), as RFC 9110 allows.
    """
    match = _RANGE_RE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.groups()
    if not first_text:  # suffix range: the last N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        return False
    return first, min(last, size - 1)


def _read_range(handle: Any, first: int, length: int) -> Iterator[bytes]:
    """Yields `length` bytes from `first`; closes the file when done or when the response is closed."""
    try:
        handle.seek(first)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def stored_file_response(
    request: HttpRequest, name: str, *, content_type: str | None = None, disposition: str | None = None
) -> HttpResponse:
    """Streams a stored file with HTTP Range support (video seeking needs 206); 404 JSON if it is gone."""
    try:
        size = default_storage.size(name)
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        return _error(404, "not_found", "This file no longer exists.")
    content_type = content_type or _content_type(name)
    byte_range = parse_range(request.headers.get("Range", ""), size) if "Range" in request.headers else None
    if byte_range is False:
        handle.close()
        response = _error(416, "range_not_satisfiable", "The requested byte range is outside the file.")
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range:
        first, last = byte_range
        response = StreamingHttpResponse(_read_range(handle, first, last - first + 1), status=206,
                                         content_type=content_type)
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    else:
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    if disposition:
        response["Content-Disposition"] = disposition
    return response


def serve_signed_media(request: HttpRequest, token: str) -> HttpResponse:
    """Serves the file a valid token names, without auth (for <img> and <video>)."""
    if request.method not in ("GET", "HEAD"):
        response = _error(405, "method_not_allowed", "Only GET and HEAD are allowed here.")
        response["Allow"] = "GET, HEAD"
        return response
    payload = read_token(token)
    if payload is None:
        return _error(404, "not_found", "This link is invalid or has expired.")
    name = payload["n"]
    disposition = content_disposition_header(bool(payload.get("a")), payload.get("f") or name.rsplit("/", 1)[-1])
    response = stored_file_response(request, name, disposition=disposition)
    if response.status_code in (200, 206):
        response["Cache-Control"] = f"private, max-age={max(0, int(payload['e'] - _now()))}"
    return response
