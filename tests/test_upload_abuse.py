"""Hostile uploads that tests/test_upload_asset.py does not already cover.

Decisions these tests pin down:
- Polyglots are judged by decoding: a file whose image part Pillow decodes completely is an
  image, whatever trails it (a ZIP, HTML). It is stored as uploaded under `.jpg`/`.png` and only
  ever served as that image type with `X-Content-Type-Options: nosniff`, so a browser never
  runs the trailing part. A file whose header says JPEG but whose body is not a JPEG is
  `corrupt_file`; content with no image/video signature at all (HTML, SVG, ZIP, PDF) is
  `unsupported_type`, whatever its name.
- The client's filename is never a path: the object is stored at
  `uploads/{clientId}/{assetId}.{ext}` and the name, reduced to its last component without
  control characters, is only kept as `filename`. A name that reduces to nothing is no file.
- Nothing reaches storage or the database for a refused file.

(Zero bytes, 50 MB + 1, pixel bombs by PNG dimensions, truncations and renamed executables are
covered in test_upload_asset.py.)
"""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from tests.media_files import jpeg_bytes, png_bytes
from videogen.models import Asset

URL = "/api/v2/upload-asset"


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(document.cookie)</script>")
    return buffer.getvalue()


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"


def multipart(client_id, filename: bytes, content: bytes) -> tuple[bytes, str]:
    """A hand-built multipart body: the test client would strip the filename's path itself."""
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"clientId\"\r\n\r\n{client_id}\r\n".encode()
        + f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".encode()
        + filename
        + b"\"\r\nContent-Type: image/jpeg\r\n\r\n"
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def post_raw(api, client_id, filename: bytes, content: bytes):
    body, content_type = multipart(client_id, filename, content)
    return api.generic("POST", URL, body, content_type=content_type)


def upload(api, client_id, name: str, content: bytes):
    return post_raw(api, client_id, name.encode(), content)


def stored_files() -> list[Path]:
    root = Path(default_storage.location)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_refused(response, code: str) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert Asset.objects.count() == 0
    assert stored_files() == []


def assert_stored_safely(response, tenant, ext: str) -> Asset:
    assert response.status_code == 201, response.content
    asset = Asset.objects.get(id=response.json()["id"])
    assert asset.file.name == f"uploads/{tenant.client.id}/{asset.id}.{ext}"
    assert [p.relative_to(default_storage.location).as_posix() for p in stored_files()] == [asset.file.name]
    return asset


# --- polyglots and disguised content ---------------------------------------------------------------------


def test_jpeg_header_over_garbage_is_corrupt(api, tenant):
    content = jpeg_bytes()[:20] + b"\x00garbage, not entropy-coded data" * 50

    assert_refused(upload(api, tenant.client.id, "photo.jpg", content), "corrupt_file")


def test_jpeg_magic_followed_by_html_is_corrupt(api, tenant):
    assert_refused(upload(api, tenant.client.id, "photo.jpg", b"\xff\xd8\xff\xe0" + HTML), "corrupt_file")


def test_jpeg_with_a_zip_appended_decodes_so_it_is_stored_as_the_jpeg_it_is(api, tenant):
    content = jpeg_bytes() + zip_bytes()

    response = upload(api, tenant.client.id, "archive.zip", content)

    asset = assert_stored_safely(response, tenant, "jpg")
    assert response.json()["mimeType"] == "image/jpeg"
    assert asset.filename == "archive.zip"


def test_png_with_html_appended_is_served_only_as_a_png_with_nosniff(api, tenant, anon):
    response = upload(api, tenant.client.id, "page.html", png_bytes() + HTML)
    assert_stored_safely(response, tenant, "png")

    served = anon.get(response.json()["url"])

    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name, content", [
    ("page.jpg", HTML),
    ("vector.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("archive.png", zip_bytes()),
    ("doc.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
    ("zip-then-jpeg.jpg", zip_bytes() + jpeg_bytes()),
])
def test_content_without_an_image_or_video_signature_is_an_unsupported_type(api, tenant, name, content):
    assert_refused(upload(api, tenant.client.id, name, content), "unsupported_type")


def test_jpeg_declaring_huge_dimensions_is_refused_before_decoding(api, tenant):
    content = bytearray(jpeg_bytes((16, 16)))
    sof = content.index(b"\xff\xc0")  # baseline start-of-frame: precision, height, width follow the length
    content[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)

    response = upload(api, tenant.client.id, "huge.jpg", bytes(content))

    assert_refused(response, "corrupt_file")
    assert "too large to process" in response.json()["detail"]


# --- filenames are never paths --------------------------------------------------------------------------


@pytest.mark.parametrize("raw_name, kept", [
    (b"../../etc/passwd.jpg", "passwd.jpg"),
    (b"/etc/cron.d/evil.jpg", "evil.jpg"),
    (b"..\\..\\windows\\system32\\evil.jpg", "evil.jpg"),
    (b"C:\\Users\\me\\Desktop\\shoe.jpg", "shoe.jpg"),
    (b"evil.php\x00.jpg", "evil.php.jpg"),
    (b"tab\there\x7f\x1b[31m.jpg", "tabhere[31m.jpg"),
    ("caf\u00e9 \U0001f45f.jpg".encode(), "caf\u00e9 \U0001f45f.jpg"),
    (b"&#46;&#46;/&#46;&#46;/secret.jpg", "secret.jpg"),
])
def test_path_like_filenames_are_stored_at_the_fixed_layout_and_kept_only_as_a_clean_name(api, tenant, raw_name,
                                                                                         kept):
    response = post_raw(api, tenant.client.id, raw_name, jpeg_bytes())

    asset = assert_stored_safely(response, tenant, "jpg")
    assert asset.filename == kept
    assert response.json()["filename"] == kept
    assert "/" not in asset.filename and "\\" not in asset.filename and "\x00" not in asset.filename


def test_a_very_long_filename_is_cut_to_255_characters_keeping_its_end(api, tenant):
    response = upload(api, tenant.client.id, "a" * 800 + ".jpg", jpeg_bytes())

    asset = assert_stored_safely(response, tenant, "jpg")
    assert len(asset.filename) == 255 and asset.filename.endswith(".jpg")


def test_part_headers_beyond_the_parsers_limit_are_a_clean_400(api, tenant):
    response = upload(api, tenant.client.id, "a" * 5000 + ".jpg", jpeg_bytes())

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert Asset.objects.count() == 0 and stored_files() == []


@pytest.mark.parametrize("raw_name", [b"..", b".", b"../..", b"/"])
def test_a_filename_that_is_only_a_path_is_no_file(api, tenant, raw_name):
    response = post_raw(api, tenant.client.id, raw_name, jpeg_bytes())

    assert_refused(response, "validation_error")
    assert "file" in response.json()["fields"]


def test_the_download_name_of_a_hostile_filename_cannot_inject_headers(api, tenant, anon):
    response = post_raw(api, tenant.client.id, b'x"; filename*=UTF-8\'\'evil.html\r\nSet-Cookie: a=b.jpg', jpeg_bytes())
    assert response.status_code == 201, response.content

    served = anon.get(response.json()["url"])

    assert served.status_code == 200
    assert "Set-Cookie" not in served
    assert served["Content-Type"] == "image/jpeg"
