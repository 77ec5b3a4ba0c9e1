"""Hostile requests answer a JSON 4xx (or 503), never a 500 or an HTML page (issue 10, defect 4)."""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from config.parsers import MAX_JSON_DEPTH
from tests.factories import UserFactory
from tests.jobs import completed_job
from videogen.signed_urls import sign_media_url

PASSWORD = "pw-12345678"


def _envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"]
    if code:
        assert body["code"] == code
    return body


# --- bodies over the size limit: 413 payload_too_large ---------------------------------------------------


def _oversized_json(settings) -> str:
    return json.dumps({"username": "x", "password": "y", "padding": "z" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})


def test_oversized_json_on_the_unauthenticated_token_endpoint_is_413(db, clean_caches, settings):
    response = APIClient().post("/api/v2/auth/token", _oversized_json(settings), content_type="application/json")

    _envelope(response, 413, "payload_too_large")


def test_oversized_form_body_on_the_token_endpoint_is_413(db, clean_caches, settings):
    body = "username=x&password=" + "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)

    response = APIClient().post("/api/v2/auth/token", body, content_type="application/x-www-form-urlencoded")

    _envelope(response, 413, "payload_too_large")


def test_oversized_json_on_an_authenticated_endpoint_is_413(api, settings):
    response = api.post("/api/v2/clients/", _oversized_json(settings), content_type="application/json")

    _envelope(response, 413, "payload_too_large")


def test_oversized_form_post_outside_the_api_is_413_json(db, settings):
    body = "a=" + "b" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)

    response = Client().post("/admin/login/", body, content_type="application/x-www-form-urlencoded")

    _envelope(response, 413, "payload_too_large")


# --- deeply nested JSON: 400 ---------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_json_on_the_token_endpoint_is_400(db, clean_caches, depth):
    body = "[" * depth + "]" * depth

    response = APIClient().post("/api/v2/auth/token", body, content_type="application/json")

    _envelope(response, 400, "parse_error")


def test_deeply_nested_json_in_a_field_is_400(api, tenant):
    body = '{"brandGuidelines": {"forbiddenElements": ' + "[" * 50_000 + '"x"' + "]" * 50_000 + "}}"

    response = api.patch(f"/api/v2/clients/{tenant.client.id}/", body, content_type="application/json")

    _envelope(response, 400)


def test_ordinary_nesting_is_still_accepted(api, tenant):
    response = api.patch(f"/api/v2/clients/{tenant.client.id}/",
                         {"brandGuidelines": {"forbiddenElements": ["competitor logos"]}}, format="json")

    assert response.status_code == 200


# --- Range with thousands of digits: 416 ---------------------------------------------------------------


@pytest.mark.parametrize("header", ["bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000, "bytes=-" + "1" * 5000])
def test_range_with_thousands_of_digits_on_a_signed_url_is_416(db, header):
    name = default_storage.save("uploads/test/clip.mp4", ContentFile(b"x" * 1000))

    response = Client().get(sign_media_url(name), HTTP_RANGE=header)

    _envelope(response, 416, "range_not_satisfiable")
    assert response["Content-Range"] == "bytes */1000"


def test_range_with_thousands_of_digits_on_the_download_endpoint_is_416(api, tenant):
    job = completed_job(tenant)

    response = api.get(f"/api/v2/jobs/{job.pk}/data", HTTP_RANGE="bytes=" + "1" * 5000 + "-")

    _envelope(response, 416)


# --- a deleted user's refresh token: 401 ---------------------------------------------------------------


def test_a_deleted_users_refresh_token_is_401(db, clean_caches):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    user.delete()

    response = APIClient().post("/api/v2/auth/token/refresh", {"refresh": refresh}, format="json")

    _envelope(response, 401)


# --- POST to a signed media URL: 405 JSON, and CSRF refusals are JSON ----------------------------------


def test_post_to_a_signed_media_url_is_405_json_even_with_csrf_checks(db):
    name = default_storage.save("uploads/test/clip.mp4", ContentFile(b"x" * 100))
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(sign_media_url(name), {"a": "b"})

    _envelope(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


def test_a_csrf_refusal_is_json(db):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post("/admin/login/", {"username": "x", "password": "y"})

    _envelope(response, 403, "csrf_failed")


# --- Redis down on a throttled endpoint: 503 JSON ------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    dead = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
    settings.CACHES = {"default": dead, "shared": dead}


def test_token_endpoint_with_the_rate_limit_store_down_is_503_json(db, redis_down):
    user = UserFactory()

    response = APIClient().post("/api/v2/auth/token", {"username": user.username, "password": PASSWORD},
                                format="json")

    _envelope(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0


def test_throttled_api_endpoint_with_the_rate_limit_store_down_is_503_json(api, tenant, redis_down):
    job = completed_job(tenant)

    response = api.get(f"/api/v2/jobs/{job.pk}")

    _envelope(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0
