"""CORS for the Next.js frontend and the security headers every response carries."""

from __future__ import annotations

import os

import pytest

FRONTEND = "http://localhost:3000"


def preflight(anon, path: str, method: str, headers: str, origin: str = FRONTEND):
    return anon.options(path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
                        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers)


def header_set(response, name: str) -> set[str]:
    return {item.strip().lower() for item in response.get(name, "").split(",") if item.strip()}


@pytest.mark.parametrize("path, method, headers", [
    ("/api/v2/generate", "POST", "authorization,content-type,idempotency-key"),
    ("/api/v2/jobs/1", "GET", "authorization,if-none-match"),
    ("/api/v2/jobs/1/data", "GET", "authorization,range"),
    ("/api/v2/upload-asset", "POST", "authorization"),
    ("/api/v2/jobs/1", "DELETE", "authorization"),
])
def test_frontend_preflight_is_allowed_with_the_headers_it_sends(anon, path, method, headers):
    response = preflight(anon, path, method, headers)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert set(headers.split(",")) <= header_set(response, "Access-Control-Allow-Headers")
    assert method.lower() in header_set(response, "Access-Control-Allow-Methods")


@pytest.mark.django_db
def test_responses_to_the_frontend_expose_etag_location_and_retry_after(anon):
    response = anon.get("/api/v2/me", HTTP_ORIGIN=FRONTEND)

    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert {"etag", "location", "retry-after", "x-request-id"} <= header_set(response, "Access-Control-Expose-Headers")


@pytest.mark.django_db
def test_other_origins_get_no_cors_grant(anon):
    assert "Access-Control-Allow-Origin" not in preflight(anon, "/api/v2/generate", "POST", "authorization",
                                                          origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in anon.get("/api/v2/me", HTTP_ORIGIN="https://evil.example")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v2/me", "/healthz", "/api/schema/", "/admin/login/", "/no-such-page"])
def test_security_headers_on_every_kind_of_response(anon, path):
    response = anon.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response  # not configured: plain-HTTP deployments stay usable


@pytest.mark.django_db
def test_hsts_is_sent_over_https_when_configured(anon, settings):
    settings.SECURE_HSTS_SECONDS = 31536000

    assert anon.get("/healthz", secure=True)["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in anon.get("/healthz")  # browsers ignore it over HTTP anyway


def test_debug_is_off_unless_asked_for(monkeypatch):
    import config.settings as module

    monkeypatch.delenv("DEBUG", raising=False)
    assert module.env_bool("DEBUG", False) is False
    if "DEBUG" not in os.environ:
        assert module.DEBUG is False
    monkeypatch.setenv("DEBUG", "1")
    assert module.env_bool("DEBUG", False) is True


@pytest.mark.django_db
def test_an_unknown_url_answers_json_not_a_debug_page(anon):
    response = anon.get("/nothing/here")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
