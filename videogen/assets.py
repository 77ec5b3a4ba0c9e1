"""Uploaded assets: judge a file by its content, then store it and record it.

A file is accepted only if its first bytes say JPEG, PNG, MP4 or QuickTime *and* it decodes
as that: images through Pillow (header, checksums, then every pixel), videos through the
ISO-BMFF box layout (catches truncation cheaply) and one decoded frame from FFmpeg. The name
and the declared content type are never trusted; a `.png` whose bytes are a JPEG is stored
as the JPEG it is. Nothing reaches storage or the database until the file has passed.

Rejections raise :class:`AssetRejected` with one of the contract's codes; the API turns it
into a 400 envelope.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from clients.models import Client
from videogen.models import Asset

FILE_TOO_LARGE = "file_too_large"
UNSUPPORTED_TYPE = "unsupported_type"
CORRUPT_FILE = "corrupt_file"

#: Above this an image is refused before any pixel is decoded: a 30000x30000 PNG is a few
#: hundred KB on disk and gigabytes in memory. 40 MP is well above any camera or design export
#: the pipeline needs (it works at 1080p-4K).
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000

#: ISO-BMFF `ftyp` brands we accept, by container. Others (HEIF/AVIF images, M4A audio, ...)
#: share the box format but are not video we can use.
_MOV_BRANDS = frozenset({b"qt  "})
_MP4_BRANDS = frozenset(
    {
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
        b"M4V ", b"M4VH", b"M4VP", b"mmp4", b"MSNV", b"dash", b"f4v ",
    }
)  # fmt: skip
_NOT_VIDEO_BRANDS = frozenset(
    {
        b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ", b"heic", b"heix", b"hevc", b"heim", b"heis",
        b"hevx", b"mif1", b"msf1", b"avif", b"avis", b"crx ", b"jp2 ", b"jpx ",
    }
)  # fmt: skip
_MAX_TOP_LEVEL_BOXES = 10_000


class AssetRejected(Exception):
    """The upload is not something we accept; `code` is one of the contract's upload codes."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class MediaType:
    kind: str  # Asset.Kind
    ext: str
    mime_type: str


JPEG = MediaType(Asset.Kind.IMAGE, "jpg", "image/jpeg")
PNG = MediaType(Asset.Kind.IMAGE, "png", "image/png")
MP4 = MediaType(Asset.Kind.VIDEO, "mp4", "video/mp4")
MOV = MediaType(Asset.Kind.VIDEO, "mov", "video/quicktime")


@dataclass(frozen=True)
class InspectedMedia:
    media_type: MediaType
    size: int
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None


def _unsupported() -> AssetRejected:
    return AssetRejected(UNSUPPORTED_TYPE, "Only JPEG and PNG images and MP4 and MOV videos are accepted.")


def _corrupt(detail: str) -> AssetRejected:
    return AssetRejected(CORRUPT_FILE, detail)


def sniff_type(head: bytes) -> MediaType:
    """Tells the media type from the file's first bytes (at least 12; 64+ lets us see more brands)."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[0:4], "big")
        major = head[8:12]
        # Compatible brands follow the minor version, up to the end of the ftyp box.
        end = min(box_size, len(head)) if box_size >= 16 else 16
        compatible = [head[i : i + 4] for i in range(16, end - 3, 4)]
        if major in _MOV_BRANDS:
            return MOV
        if major in _MP4_BRANDS:
            return MP4
        if major in _NOT_VIDEO_BRANDS:
            raise _unsupported()
        if any(brand in _MOV_BRANDS for brand in compatible):
            return MOV
        if any(brand in _MP4_BRANDS for brand in compatible):
            return MP4
    raise _unsupported()


def _max_image_pixels() -> int:
    return int(getattr(settings, "MAX_UPLOAD_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))


def _inspect_image(path: Path, media_type: MediaType) -> tuple[int, int]:
    """Decodes the whole image (truncation and bad checksums fail); refuses pixel bombs first."""
    # Pillow calls multi-picture JPEGs (many phone and stereo cameras) "MPO"; they are JPEGs.
    expected_formats = {"JPEG", "MPO"} if media_type is JPEG else {"PNG"}
    limit = _max_image_pixels()
    too_big = _corrupt(
        f"The image is too large to process safely: at most {limit // 1_000_000} megapixels are accepted."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if image.format not in expected_formats:
                    raise _corrupt("The image could not be decoded.")
                if width * height > limit:
                    raise _corrupt(
                        f"The image is {width}x{height} pixels, too large to process safely: "
                        f"at most {limit // 1_000_000} megapixels are accepted."
                    )
                image.verify()  # structure and checksums, without decoding pixels
            with Image.open(path) as image:
                image.load()  # every pixel: a truncated file fails here
                orientation = image.getexif().get(0x0112)
    except AssetRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except Exception:  # noqa: BLE001 - Pillow's plugins raise many types on malformed input
        raise _corrupt("The image is damaged or truncated and could not be decoded.") from None
    if width <= 0 or height <= 0:
        raise _corrupt("The image has no pixels.")
    if orientation in (5, 6, 7, 8):  # EXIF says the picture is displayed rotated by 90 degrees
        width, height = height, width
    return width, height


def _check_iso_boxes(path: Path, size: int) -> None:
    """Walks the top-level boxes of an MP4/MOV file: each must fit in the file, and `moov` must exist.

    A truncated upload ends in the middle of a box; this finds it without decoding anything.
    """
    offset = 0
    seen: set[bytes] = set()
    with path.open("rb") as handle:
        for _ in range(_MAX_TOP_LEVEL_BOXES):
            if offset >= size:
                break
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                raise _corrupt("The video file is truncated.")
            box_size = int.from_bytes(header[0:4], "big")
            box_type = header[4:8]
            if box_size == 1:  # 64-bit size follows the type
                if len(header) < 16:
                    raise _corrupt("The video file is truncated.")
                box_size = int.from_bytes(header[8:16], "big")
                if box_size < 16:
                    raise _corrupt("The video file's structure is damaged.")
            elif box_size == 0:  # the last box runs to the end of the file
                box_size = size - offset
            elif box_size < 8:
                raise _corrupt("The video file's structure is damaged.")
            if offset + box_size > size:
                raise _corrupt("The video file is truncated.")
            seen.add(box_type)
            offset += box_size
        else:
            raise _corrupt("The video file's structure is damaged.")
    if b"moov" not in seen:
        raise _corrupt("The video file is incomplete: it has no movie header.")


def _inspect_video(path: Path, size: int) -> tuple[int, int, float]:
    from videogen.media.ffmpeg import MediaError, probe

    _check_iso_boxes(path, size)
    try:
        info = probe(path, count_frames=False, timeout=30)
    except MediaError:
        raise _corrupt("The video could not be decoded.") from None
    return info.width, info.height, info.duration


def inspect_file(path: Path) -> InspectedMedia:
    """Judges a file on disk by its content; raises :class:`AssetRejected` if we cannot use it."""
    size = path.stat().st_size
    if size == 0:
        # An empty upload is a broken upload, not a different type of file.
        raise _corrupt("The file is empty.")
    limit = settings.MAX_UPLOAD_BYTES
    if size > limit:
        raise AssetRejected(FILE_TOO_LARGE, f"Files may be at most {limit // (1024 * 1024)} MB.")
    with path.open("rb") as handle:
        head = handle.read(256)
    media_type = sniff_type(head)
    if media_type.kind == Asset.Kind.IMAGE:
        width, height = _inspect_image(path, media_type)
        return InspectedMedia(media_type, size, width, height)
    width, height, duration = _inspect_video(path, size)
    return InspectedMedia(media_type, size, width, height, duration)


@contextmanager
def _path_of(upload: UploadedFile) -> Iterator[Path]:
    """A path on local disk holding the upload (FFmpeg needs one); copies only if it is in memory."""
    temporary_file_path = getattr(upload, "temporary_file_path", None)
    if temporary_file_path is not None:
        yield Path(temporary_file_path())
        return
    with tempfile.NamedTemporaryFile(prefix="videogen-upload-", dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        upload.seek(0)
        shutil.copyfileobj(upload, copy, 1024 * 1024)
        copy.flush()
        yield Path(copy.name)


def _clean_filename(name: str | None) -> str:
    base = os.path.basename(name or "")
    printable = "".join(ch for ch in base if ch.isprintable())
    return printable[-255:]


def storage_name_for(client_id: Any, asset_id: Any, ext: str) -> str:
    return f"uploads/{client_id}/{asset_id}.{ext}"


def store_asset(*, client: Client, upload: UploadedFile, user: Any = None, role: str = "") -> Asset:
    """Validates `upload` by content, stores it at `uploads/{clientId}/{assetId}.{ext}`, records the Asset.

    Raises :class:`AssetRejected` before anything is written if the file is not acceptable.
    """
    with _path_of(upload) as path:
        media = inspect_file(path)
    asset_id = uuid.uuid4()
    upload.seek(0)
    stored_name = default_storage.save(storage_name_for(client.id, asset_id, media.media_type.ext), upload)
    try:
        return Asset.objects.create(
            id=asset_id,
            client=client,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
            file=stored_name,
            type=media.media_type.kind,
            mime_type=media.media_type.mime_type,
            size=media.size,
            width=media.width,
            height=media.height,
            duration_seconds=media.duration_seconds,
            filename=_clean_filename(upload.name),
            role=role or "",
        )
    except BaseException:
        default_storage.delete(stored_name)  # no file without its row
        raise
