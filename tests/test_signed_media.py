"""Signed media URLs: usable in <img>/<video> without a token, Range-capable, expiring, tamper-proof."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from videogen import signed_urls
from videogen.api.signing import parse_range
from videogen.signed_urls import read_token, sign_media_url

CONTENT = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable


@pytest.fixture
def stored_video(db) -> str:
    return default_storage.save("uploads/test/clip.mp4", ContentFile(CONTENT))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_signed_url_serves_the_file_without_authorization(anon, stored_video):
    response = anon.get(sign_media_url(stored_video))

    assert response.status_code == 200
    assert body(response) == CONTENT
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Accept-Ranges"] == "bytes"


def test_range_request_answers_206_with_exactly_those_bytes(anon, stored_video):
    response = anon.get(sign_media_url(stored_video), HTTP_RANGE="bytes=100-199")

    assert response.status_code == 206
    assert body(response) == CONTENT[100:200]
    assert response["Content-Range"] == f"bytes 100-199/{len(CONTENT)}"
    assert response["Content-Length"] == "100"


def test_open_ended_range_runs_to_the_end(anon, stored_video):
    response = anon.get(sign_media_url(stored_video), HTTP_RANGE="bytes=10000-")

    assert response.status_code == 206
    assert body(response) == CONTENT[10000:]


def test_suffix_range_returns_the_last_bytes(anon, stored_video):
    response = anon.get(sign_media_url(stored_video), HTTP_RANGE="bytes=-16")

    assert response.status_code == 206
    assert body(response) == CONTENT[-16:]


def test_range_past_the_end_answers_416(anon, stored_video):
    response = anon.get(sign_media_url(stored_video), HTTP_RANGE=f"bytes={len(CONTENT)}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"
    assert response.json()["code"] == "range_not_satisfiable"


def test_malformed_range_is_ignored_and_the_whole_file_sent(anon, stored_video):
    response = anon.get(sign_media_url(stored_video), HTTP_RANGE="bytes=abc")

    assert response.status_code == 200
    assert body(response) == CONTENT


def test_tampered_token_answers_404_json(anon, stored_video):
    url = sign_media_url(stored_video)
    tampered = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")

    response = anon.get(tampered)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_expired_token_answers_404(anon, stored_video, monkeypatch):
    url = sign_media_url(stored_video, ttl=60)
    later = signed_urls._now() + 600
    monkeypatch.setattr(signed_urls, "_now", lambda: later)

    response = anon.get(url)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_token_for_a_deleted_file_answers_404(anon, stored_video):
    url = sign_media_url(stored_video)
    default_storage.delete(stored_video)

    assert anon.get(url).status_code == 404


def test_url_lives_at_least_its_ttl(stored_video, monkeypatch):
    url = sign_media_url(stored_video, ttl=3600)
    token = url.rsplit("/", 1)[1]
    almost = signed_urls._now() + 3599
    monkeypatch.setattr(signed_urls, "_now", lambda: almost)

    assert read_token(token)["n"] == stored_video


def test_same_file_gets_the_same_url_within_a_few_seconds(stored_video):
    # Job polls re-sign every URL: a stable URL keeps browser caches and the job's ETag valid.
    assert sign_media_url(stored_video) == sign_media_url(stored_video)


def test_url_is_absolute_for_a_request(rf, stored_video):
    url = sign_media_url(stored_video, request=rf.get("/"))

    assert url.startswith("http://testserver/media/signed/")


def test_url_uses_public_base_url_without_a_request(settings, stored_video):
    settings.PUBLIC_BASE_URL = "https://videos.example.com"

    assert sign_media_url(stored_video).startswith("https://videos.example.com/media/signed/")


def test_url_is_relative_without_request_or_public_base_url(settings, stored_video):
    settings.PUBLIC_BASE_URL = ""

    assert sign_media_url(stored_video).startswith("/media/signed/")


def test_filename_is_offered_for_download(anon, stored_video):
    response = anon.get(sign_media_url(stored_video, filename="Spring launch.mp4", as_attachment=True))

    assert response["Content-Disposition"].startswith("attachment;")
    assert "Spring launch.mp4" in response["Content-Disposition"]


def test_post_is_not_allowed(anon, stored_video):
    response = anon.post(sign_media_url(stored_video))

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),
        ("bytes=5-", (5, 9)),
        ("bytes=-3", (7, 9)),
        ("bytes=-30", (0, 9)),
        ("bytes=8-100", (8, 9)),
        ("bytes=10-", False),
        ("bytes=-0", False),
        ("bytes=5-2", None),
        ("bytes=0-1,4-5", None),
        ("items=0-1", None),
    ],
)
def test_range_header_parsing(header, expected):
    assert parse_range(header, 10) == expected
