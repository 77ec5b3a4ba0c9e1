"""HTTP Range (RFC 9110) for stored media: `<video>` seeks with `bytes=start-end` and expects 206."""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(start, end) inclusive for one satisfiable range; None to ignore the header; "unsatisfiable"."""
    match = _RANGE.match(header.strip())
    if not match:
        return None  # multiple or malformed ranges: serve the whole file (allowed by the RFC)
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def _iter_range(name: str, start: int, length: int):
    with default_storage.open(name, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def ranged_file_response(
    request: HttpRequest, name: str, *, content_type: str, attachment: str | None = None
) -> HttpResponse:
    size = default_storage.size(name)
    wanted = parse_range(request.headers.get("Range", ""), size) if request.headers.get("Range") else None
    if wanted == "unsatisfiable":
        response: HttpResponse = JsonResponse(
            {"code": "range_not_satisfiable", "detail": f"The file has {size} bytes."}, status=416
        )
        response["Content-Range"] = f"bytes */{size}"
        return response
    if wanted is None:
        response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        start, end = wanted
        response = StreamingHttpResponse(_iter_range(name, start, end - start + 1), status=206,
                                         content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    if attachment:
        response["Content-Disposition"] = f'attachment; filename="{attachment}"'
    return response
