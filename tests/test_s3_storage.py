"""Media on S3 (django-storages) against a real S3 API server on 127.0.0.1 (moto, tests/s3.py).

Every artefact goes through the storage API: no `default_storage.path()`, scratch copies only
under SCRATCH_DIR and removed after use, and media leave through presigned bucket URLs that a
browser's <img>/<video> can load directly (Range requests answered 206 by the S3 server).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.files.storage import default_storage

from tests import media_files
from tests.factories import VariationFactory, VideoJobFactory
from tests.jobs import generate_body, storyboard_complete_job
from tests.media_files import jpeg_bytes, png_bytes
from tests.test_upload_asset import upload
from videogen import ops
from videogen.media.ffmpeg import probe
from videogen.models import JobStatus, Prediction, VariationStatus, VideoJob
from videogen.signed_urls import sign_media_url
from videogen.storage import local_copy, output_name, save_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_provider(settings):
    settings.VIDEOGEN_PROVIDER = "local"


def scratch_files(settings) -> list[Path]:
    root = Path(settings.SCRATCH_DIR)
    return [path for path in root.rglob("*")] if root.exists() else []


def stored_video(tmp_path, s3_bucket, seconds: float = 2.0) -> str:
    return save_file("videos/1/final.mp4", media_files.mp4(tmp_path / "final.mp4", seconds=seconds))


def test_a_stored_file_is_an_object_in_the_bucket_with_its_content_type(s3_bucket, tmp_path):
    name = stored_video(tmp_path, s3_bucket)
    assert s3_bucket.keys() == ["videos/1/final.mp4"]
    head = s3_bucket.head("videos/1/final.mp4")
    assert head["ContentType"] == "video/mp4"
    assert head["ContentLength"] == (tmp_path / "final.mp4").stat().st_size
    with pytest.raises(NotImplementedError):
        default_storage.path(name)


def test_a_presigned_video_url_answers_a_range_request_with_206_from_the_bucket(s3_bucket, tmp_path):
    name = stored_video(tmp_path, s3_bucket)
    original = (tmp_path / "final.mp4").read_bytes()
    url = sign_media_url(name)

    assert url.startswith(f"{s3_bucket.server.endpoint_url}/{s3_bucket.name}/videos/1/final.mp4?")
    assert "X-Amz-Signature" in parse_qs(urlsplit(url).query)
    # What a <video> element sends: no credentials, a byte range.
    response = httpx.get(url, headers={"Range": "bytes=100-1123"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-1123/{len(original)}"
    assert response.headers["content-type"] == "video/mp4"
    assert response.content == original[100:1124]
    tail = httpx.get(url, headers={"Range": "bytes=-64"})
    assert tail.status_code == 206 and tail.content == original[-64:]


def test_a_presigned_url_downloads_the_whole_file_and_it_decodes(s3_bucket, tmp_path):
    name = stored_video(tmp_path, s3_bucket, seconds=2.0)
    url = sign_media_url(name, filename="spring.mp4", as_attachment=True)
    # S3 answers with this header (moto does not apply the override, so only the request is checked).
    assert parse_qs(urlsplit(url).query)["response-content-disposition"] == ['attachment; filename="spring.mp4"']
    response = httpx.get(url)
    assert response.status_code == 200
    (tmp_path / "downloaded.mp4").write_bytes(response.content)
    assert probe(tmp_path / "downloaded.mp4").duration == pytest.approx(2.0, abs=0.1)


def test_a_presigned_url_expires_when_the_media_ttl_says(s3_bucket, tmp_path, settings):
    name = stored_video(tmp_path, s3_bucket)
    query = parse_qs(urlsplit(sign_media_url(name, ttl=600)).query)
    assert 600 <= int(query["X-Amz-Expires"][0]) <= 660  # rounded up to the 60 s step, never shorter


def test_the_same_file_keeps_one_presigned_url_within_an_expiry_step(s3_bucket, tmp_path):
    name = stored_video(tmp_path, s3_bucket)
    first = sign_media_url(name)
    assert sign_media_url(name) == first  # same job body on every poll: its ETag holds
    assert sign_media_url(name, filename="other.mp4") != first


def test_presigned_urls_are_signed_for_the_public_endpoint_when_browsers_use_another_host(s3_bucket, tmp_path,
                                                                                           settings):
    name = stored_video(tmp_path, s3_bucket)
    port = urlsplit(s3_bucket.server.endpoint_url).port
    settings.AWS_S3_PUBLIC_ENDPOINT_URL = f"http://localhost:{port}"
    url = sign_media_url(name)
    assert urlsplit(url).netloc == f"localhost:{port}"
    response = httpx.get(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.content == (tmp_path / "final.mp4").read_bytes()[:10]


def test_local_copy_downloads_into_scratch_and_removes_the_copy(s3_bucket, tmp_path, settings):
    name = stored_video(tmp_path, s3_bucket)
    with local_copy(name) as path:
        assert path.is_relative_to(Path(settings.SCRATCH_DIR))
        assert path.read_bytes() == (tmp_path / "final.mp4").read_bytes()
    assert not path.exists()
    assert [p for p in scratch_files(settings) if p.is_file()] == []


def test_an_uploaded_asset_is_stored_in_the_bucket_and_served_by_a_presigned_url(api, tenant, s3_bucket):
    content = jpeg_bytes((40, 30))
    response = upload(api, tenant.client.id, "shoe.jpg", content, role="product")
    assert response.status_code == 201, response.content
    body = response.json()
    assert s3_bucket.keys("uploads/") == [f"uploads/{tenant.client.id}/{body['id']}.jpg"]
    served = httpx.get(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.content == content


def test_a_whole_job_on_s3_keeps_every_artefact_in_the_bucket_and_no_scratch_file(api, tenant, tasks, s3_bucket,
                                                                                  local_provider, settings):
    logo = upload(api, tenant.client.id, "logo.png", png_bytes((64, 64)), role="logo").json()
    scene_photo = upload(api, tenant.client.id, "scene.jpg", jpeg_bytes((540, 540))).json()
    response = api.post("/api/v2/generate", generate_body(
        tenant, duration=15, platform="meta", aspectRatio="1:1", exportFormats=["gif", "webm"],
        assets=[{"id": logo["id"], "role": "logo"}, {"id": scene_photo["id"], "sceneNumber": 2}],
        audioControls={"voiceover": {"enabled": True}},
    ), format="json")
    assert response.status_code == 202, response.json()
    job_id = response.json()["job_id"]
    tasks.drain()
    assert api.post(f"/api/v2/jobs/{job_id}/render").status_code == 202
    tasks.drain()

    job = VideoJob.objects.get(pk=job_id)
    assert job.status == JobStatus.COMPLETED, job.error
    keys = set(s3_bucket.keys())
    assert {f"storyboards/{job_id}/scene_{n}.png" for n in (1, 3)} <= keys
    assert f"storyboards/{job_id}/scene_2.jpg" in keys  # the uploaded photo, copied from uploads/
    assert {f"videos/{job_id}/clips/v1_scene_{n}.mp4" for n in (1, 2, 3)} <= keys
    assert {f"videos/{job_id}/final.{ext}" for ext in ("mp4", "gif", "webm")} | {
        f"videos/{job_id}/thumbnail.jpg"} <= keys
    assert any(key.startswith(f"videos/{job_id}/voice/") and key.endswith(".wav") for key in keys)
    assert [p for p in scratch_files(settings) if p.is_file()] == []

    results = api.get(f"/api/v2/jobs/{job_id}").json()["results"]
    video = httpx.get(results["variations"][0]["videoUrl"])
    (settings.SCRATCH_DIR / "check.mp4").write_bytes(video.content)
    measured = probe(settings.SCRATCH_DIR / "check.mp4")
    assert abs(measured.duration - 15) <= 0.5 and (measured.width, measured.height) == (1080, 1080)
    assert measured.has_audio
    ranged = api.get(f"/api/v2/jobs/{job_id}/data", {"format": "mp4"}, HTTP_RANGE="bytes=0-1023")
    assert ranged.status_code == 206
    assert b"".join(ranged.streaming_content) == video.content[:1024]
    thumbnail = api.get(f"/api/v2/jobs/{job_id}/thumbnail")
    assert thumbnail.status_code == 200
    assert b"".join(thumbnail.streaming_content)[:3] == b"\xff\xd8\xff"


def test_a_cached_scene_image_in_the_bucket_is_reused_by_the_next_job(api, tenant, tasks, s3_bucket,
                                                                           local_provider):
    body = generate_body(tenant, duration=15, platform="meta", aspectRatio="1:1")
    first = api.post("/api/v2/generate", body, format="json").json()["job_id"]
    tasks.drain()
    second = api.post("/api/v2/generate", {**body, "videoName": "Again"}, format="json").json()["job_id"]
    tasks.drain()

    assert Prediction.objects.filter(job_id=second, cache_hit=True).count() == 3
    for number in (1, 2, 3):
        assert s3_bucket.read(f"storyboards/{second}/scene_{number}.png") == s3_bucket.read(
            f"storyboards/{first}/scene_{number}.png")


def test_failed_exports_are_rerun_from_the_mp4_in_the_bucket(s3_bucket, tmp_path, settings):
    job = VideoJobFactory(status=JobStatus.COMPLETED, export_formats=["mp4", "gif"])
    video = save_file(output_name(job.pk, 1, "mp4"), media_files.mp4(tmp_path / "final.mp4", seconds=2))
    VariationFactory(job=job, index=1, status=VariationStatus.COMPLETED, video=video,
                     export_errors={"gif": "gif export failed: timed out", "thumbnail": "thumbnail export failed"})

    assert ops.rerun_failed_exports(job.pk) == {1: {"gif": "ok", "thumbnail": "ok"}}
    assert s3_bucket.read(f"videos/{job.pk}/final.gif")[:6] == b"GIF89a"
    assert s3_bucket.head(f"videos/{job.pk}/thumbnail.jpg")["ContentType"] == "image/jpeg"
    assert [p for p in scratch_files(settings) if p.is_file()] == []


def test_the_thumbnail_of_a_storyboard_is_made_from_the_scene_image_in_the_bucket(api, tenant, s3_bucket):
    job = storyboard_complete_job(tenant)
    assert s3_bucket.keys(f"storyboards/{job.pk}/") == [f"storyboards/{job.pk}/scene_{n}.png" for n in (1, 2, 3)]
    response = api.get(f"/api/v2/jobs/{job.pk}/thumbnail")
    assert response.status_code == 200
    assert response.content[:3] == b"\xff\xd8\xff"
