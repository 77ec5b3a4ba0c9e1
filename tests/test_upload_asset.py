"""POST /api/v2/upload-asset: files are judged by content, limited while streaming, and never half-stored."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import imageio_ffmpeg
import pytest
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.test import APIClient

from clients.models import Membership
from tests.factories import ClientFactory, MembershipFactory
from tests.media_files import gif_bytes, jpeg_bytes, png_bytes
from videogen.models import Asset

URL = "/api/v2/upload-asset"


# --- sample files -------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of `width` x `height`, all black: tiny on disk, huge once decoded.

    Written by hand so the test never holds the decoded image in memory.
    """
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte + packed pixels
    rows_per_block = max(1, (1 << 20) // len(row))
    parts = []
    for start in range(0, height, rows_per_block):
        parts.append(compressor.compress(row * min(rows_per_block, height - start)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, bytes]:
    """One second of FFmpeg's test pattern as MP4 and as QuickTime MOV."""
    folder = tmp_path_factory.mktemp("videos")
    made = {}
    for ext in ("mp4", "mov"):
        out = folder / f"sample.{ext}"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
                "-pix_fmt", "yuv420p", "-c:v", "libx264", str(out),
            ],
            check=True,
            timeout=60,
        )  # fmt: skip
        made[ext] = out.read_bytes()
    return made


def upload(api: APIClient, client_id, name: str, content: bytes, **fields):
    file = io.BytesIO(content)
    file.name = name
    return api.post(URL, {"file": file, "clientId": str(client_id), **fields}, format="multipart")


def assert_nothing_stored() -> None:
    assert Asset.objects.count() == 0
    uploads = Path(default_storage.location) / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*"))


def assert_rejected(response, code: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    assert_nothing_stored()


# --- accepted files -------------------------------------------------------------------------------


def test_jpeg_is_stored_under_the_client_and_described(api, tenant):
    response = upload(api, tenant.client.id, "shoe.jpg", jpeg_bytes((40, 30)), role="product")

    assert response.status_code == 201, response.content
    body = response.json()
    asset = Asset.objects.get(id=body["id"])
    assert asset.file.name == f"uploads/{tenant.client.id}/{asset.id}.jpg"
    assert default_storage.exists(asset.file.name)
    assert body == {
        "id": str(asset.id),
        "clientId": str(tenant.client.id),
        "url": body["url"],
        "type": "image",
        "mimeType": "image/jpeg",
        "size": asset.size,
        "width": 40,
        "height": 30,
        "durationSeconds": None,
        "filename": "shoe.jpg",
        "role": "product",
    }
    assert asset.uploaded_by == tenant.owner


def test_png_is_accepted_without_a_role(api, tenant):
    response = upload(api, tenant.client.id, "logo.png", png_bytes((16, 8)))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["mimeType"], body["width"], body["height"]) == ("image", "image/png", 16, 8)
    assert body["role"] is None
    assert body["url"].startswith("http://testserver/media/signed/")


def test_mp4_is_accepted_with_its_duration(api, tenant, videos):
    response = upload(api, tenant.client.id, "clip.mp4", videos["mp4"], role="scene")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["mimeType"], body["width"], body["height"]) == ("video", "video/mp4", 64, 48)
    assert body["durationSeconds"] == pytest.approx(1.0, abs=0.2)
    assert Asset.objects.get(id=body["id"]).file.name.endswith(".mp4")


def test_mov_is_accepted_as_quicktime(api, tenant, videos):
    response = upload(api, tenant.client.id, "clip.mov", videos["mov"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["mimeType"]) == ("video", "video/quicktime")
    assert Asset.objects.get(id=body["id"]).file.name.endswith(".mov")


def test_content_wins_over_the_name(api, tenant):
    response = upload(api, tenant.client.id, "photo.png", jpeg_bytes())

    assert response.status_code == 201, response.content
    assert response.json()["mimeType"] == "image/jpeg"
    assert Asset.objects.get().file.name.endswith(".jpg")


def test_multi_picture_jpeg_from_a_phone_is_accepted_as_jpeg(api, tenant):
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (32, 24), "red"), Image.new("RGB", (32, 24), "blue")
    first.save(buffer, "MPO", save_all=True, append_images=[second])

    response = upload(api, tenant.client.id, "IMG_0001.JPG", buffer.getvalue())

    assert response.status_code == 201, response.content
    assert response.json()["mimeType"] == "image/jpeg"


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.EDITOR])
def test_owners_and_editors_may_upload(tenant, member_api, role):
    response = upload(member_api(role), tenant.client.id, "a.jpg", jpeg_bytes())

    assert response.status_code == 201


def test_signed_url_of_the_upload_serves_its_bytes_without_auth(api, tenant, anon):
    content = png_bytes()
    url = upload(api, tenant.client.id, "logo.png", content).json()["url"]

    response = anon.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == content


# --- rejected files: right code, nothing stored ---------------------------------------------------


def test_gif_is_an_unsupported_type(api, tenant):
    assert_rejected(upload(api, tenant.client.id, "anim.gif", gif_bytes()), "unsupported_type")


def test_text_named_jpg_is_an_unsupported_type(api, tenant):
    assert_rejected(upload(api, tenant.client.id, "notes.jpg", b"just some text, not a picture\n"), "unsupported_type")


def test_renamed_executable_is_an_unsupported_type(api, tenant):
    elf = Path(sys.executable).resolve().read_bytes()[:32768]
    assert elf.startswith(b"\x7fELF")

    assert_rejected(upload(api, tenant.client.id, "holiday.jpg", elf), "unsupported_type")


def test_heif_image_in_an_iso_container_is_an_unsupported_type(api, tenant):
    heic_header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

    assert_rejected(upload(api, tenant.client.id, "photo.mp4", heic_header), "unsupported_type")


def test_empty_file_is_corrupt(api, tenant):
    assert_rejected(upload(api, tenant.client.id, "empty.png", b""), "corrupt_file")


def test_truncated_png_is_corrupt(api, tenant):
    content = png_bytes((64, 64))
    assert_rejected(upload(api, tenant.client.id, "cut.png", content[: len(content) // 2]), "corrupt_file")


def test_truncated_jpeg_is_corrupt(api, tenant):
    content = jpeg_bytes((64, 64))
    assert_rejected(upload(api, tenant.client.id, "cut.jpg", content[: len(content) // 2]), "corrupt_file")


def test_truncated_mp4_is_corrupt(api, tenant, videos):
    content = videos["mp4"]
    assert_rejected(upload(api, tenant.client.id, "cut.mp4", content[: len(content) * 2 // 3]), "corrupt_file")


def test_mp4_header_over_garbage_is_corrupt(api, tenant, videos):
    content = videos["mp4"][:32] + b"\x00\x00\x10\x00moov" + bytes(4088)

    assert_rejected(upload(api, tenant.client.id, "fake.mp4", content), "corrupt_file")


def test_png_magic_that_does_not_decode_is_corrupt(api, tenant):
    content = b"\x89PNG\r\n\x1a\n" + b"this is not a png at all" * 10

    assert_rejected(upload(api, tenant.client.id, "bad.png", content), "corrupt_file")


def test_pixel_bomb_is_refused_before_decoding(api, tenant):
    bomb = png_declaring(30000, 30000)
    assert len(bomb) < 1_000_000

    response = upload(api, tenant.client.id, "bomb.png", bomb)

    assert_rejected(response, "corrupt_file")
    assert "too large to process" in response.json()["detail"]


def test_image_over_the_megapixel_limit_is_refused_with_its_dimensions(api, tenant):
    response = upload(api, tenant.client.id, "big.png", png_declaring(8000, 6000))

    assert_rejected(response, "corrupt_file")
    assert "8000x6000" in response.json()["detail"]


# --- size limit, enforced while streaming --------------------------------------------------------------


def test_declared_body_over_the_limit_is_refused_before_reading(api, tenant, settings):
    settings.MAX_UPLOAD_BYTES = 200 * 1024
    content = b"\x89PNG\r\n\x1a\n" + bytes(300 * 1024)

    response = upload(api, tenant.client.id, "big.png", content)

    assert_rejected(response, "file_too_large")


def test_file_one_byte_over_the_limit_is_refused(api, tenant, settings):
    settings.MAX_UPLOAD_BYTES = 200 * 1024
    content = b"\x89PNG\r\n\x1a\n" + bytes(200 * 1024 - 8 + 1)

    response = upload(api, tenant.client.id, "big.png", content)

    assert_rejected(response, "file_too_large")


class MultipartStream:
    """A multipart body generated on the fly (never held in memory), counting how much the server reads."""

    def __init__(self, boundary: str, client_id: str, file_size: int) -> None:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="clientId"\r\n\r\n{client_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        self.parts = [head, (file_size, b"\x00"), tail]
        self.length = len(head) + file_size + len(tail)
        self.read_bytes = 0
        self._part = 0
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.length - self.read_bytes
        out = bytearray()
        while len(out) < size and self._part < len(self.parts):
            part = self.parts[self._part]
            part_length = part[0] if isinstance(part, tuple) else len(part)
            take = min(size - len(out), part_length - self._offset)
            out += part[1] * take if isinstance(part, tuple) else part[self._offset : self._offset + take]
            self._offset += take
            if self._offset == part_length:
                self._part, self._offset = self._part + 1, 0
        self.read_bytes += len(out)
        return bytes(out)

    def readline(self, size: int = -1) -> bytes:  # part of the WSGI input interface; the parser never calls it
        raise NotImplementedError


def test_real_50_mb_plus_one_byte_upload_is_refused_and_its_spool_file_removed(api, tenant, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    assert settings.MAX_UPLOAD_BYTES == 50 * 1024 * 1024
    boundary = uuid.uuid4().hex
    body = MultipartStream(boundary, str(tenant.client.id), settings.MAX_UPLOAD_BYTES + 1)

    response = api.generic(
        "POST",
        URL,
        content_type=f"multipart/form-data; boundary={boundary}",
        **{"wsgi.input": body, "CONTENT_LENGTH": str(body.length)},
    )

    assert_rejected(response, "file_too_large")
    assert not any((tmp_path / "spool").iterdir())  # the partial spool file is gone


def test_huge_declared_length_is_refused_without_reading_the_body(api, tenant):
    boundary = uuid.uuid4().hex
    body = MultipartStream(boundary, str(tenant.client.id), 10)

    response = api.generic(
        "POST",
        URL,
        content_type=f"multipart/form-data; boundary={boundary}",
        **{"wsgi.input": body, "CONTENT_LENGTH": str(2 * 1024**3)},
    )

    assert_rejected(response, "file_too_large")
    assert body.read_bytes == 0


# --- fields, tenancy, roles ------------------------------------------------------------------------------


def test_missing_file_is_a_validation_error(api, tenant):
    response = api.post(URL, {"clientId": str(tenant.client.id)}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "file" in response.json()["fields"]


def test_malformed_client_id_is_a_validation_error(api, tenant):
    response = upload(api, "not-a-uuid", "a.jpg", jpeg_bytes())

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "clientId" in response.json()["fields"]
    assert_nothing_stored()


def test_unknown_role_is_a_validation_error(api, tenant):
    response = upload(api, tenant.client.id, "a.jpg", jpeg_bytes(), role="hero")

    assert response.status_code == 400
    assert "role" in response.json()["fields"]


def test_json_body_is_refused_as_unsupported_media_type(api, tenant):
    response = api.post(URL, {"clientId": str(tenant.client.id)}, format="json")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_unknown_client_answers_404(api, tenant):
    response = upload(api, uuid.uuid4(), "a.jpg", jpeg_bytes())

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert_nothing_stored()


def test_another_tenants_client_answers_404_and_stores_nothing(api, tenant):
    foreign = ClientFactory()
    MembershipFactory(client=foreign)

    response = upload(api, foreign.id, "a.jpg", jpeg_bytes())

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert_nothing_stored()


def test_viewer_may_not_upload(tenant, member_api):
    response = upload(member_api(Membership.Role.VIEWER), tenant.client.id, "a.jpg", jpeg_bytes())

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert_nothing_stored()


def test_anonymous_upload_is_refused(anon, tenant):
    response = upload(anon, tenant.client.id, "a.jpg", jpeg_bytes())

    assert response.status_code == 401
    assert_nothing_stored()


def test_oversized_multipart_outside_the_api_is_a_json_400(client, db, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    file = io.BytesIO(bytes(200 * 1024))
    file.name = "big.bin"

    response = client.post("/admin/login/", {"file": file, "username": "x", "password": "y"})

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
