"""`/media/signed/<token>`: serves the file a signed media URL names, with HTTP Range support.

The URLs and their tokens are made in videogen.signed_urls (storage, not HTTP); this module
only answers them, and streams stored files for the API's download endpoints.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt

from videogen.signed_urls import read_token, seconds_left

_CHUNK = 64 * 1024
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
# No stored file is near 10**18 bytes; longer numbers (thousands of digits) are unsatisfiable, and
# int() of them is refused by Python's digit limit.
_MAX_RANGE_DIGITS = 18
_CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}


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
    if len(first_text) > _MAX_RANGE_DIGITS or len(last_text) > _MAX_RANGE_DIGITS:
        return False
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


@csrf_exempt  # read-only, no session: any other method answers the 405 envelope below, not a CSRF page
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
        response["Cache-Control"] = f"private, max-age={seconds_left(payload)}"
    return response
