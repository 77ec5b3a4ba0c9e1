"""`/metrics` restricted by settings (issue 10, "Also"): open by default, else allowed networks and/or a
bearer token."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
TOKEN = "scrape-me-0123456789"


def _scrape(ip: str = "203.0.113.5", **headers):
    return Client().get("/metrics", REMOTE_ADDR=ip, **headers)


def test_metrics_are_open_by_default(settings):
    settings.METRICS_ALLOWED_NETWORKS, settings.METRICS_BEARER_TOKEN = [], ""

    response = _scrape()

    assert response.status_code == 200
    assert b"# HELP" in response.content


def test_a_bearer_token_is_required_when_configured(settings):
    settings.METRICS_ALLOWED_NETWORKS, settings.METRICS_BEARER_TOKEN = [], TOKEN

    missing, wrong, right = _scrape(), _scrape(HTTP_AUTHORIZATION="Bearer nope"), _scrape(
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["code"] == "not_authenticated"
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert right.status_code == 200


def test_only_allowed_networks_may_scrape_when_configured(settings):
    settings.METRICS_ALLOWED_NETWORKS, settings.METRICS_BEARER_TOKEN = ["10.0.0.0/8", "::1/128"], ""

    inside, outside, v6 = _scrape(ip="10.1.2.3"), _scrape(ip="203.0.113.5"), _scrape(ip="::1")

    assert inside.status_code == 200
    assert outside.status_code == 403
    assert outside.json()["code"] == "permission_denied"
    assert v6.status_code == 200


def test_a_forged_forwarded_for_header_does_not_open_the_network_check(settings):
    settings.METRICS_ALLOWED_NETWORKS, settings.METRICS_BEARER_TOKEN = ["10.0.0.0/8"], ""

    assert _scrape(ip="203.0.113.5", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 403


def test_either_the_network_or_the_token_lets_a_scraper_in(settings):
    settings.METRICS_ALLOWED_NETWORKS, settings.METRICS_BEARER_TOKEN = ["10.0.0.0/8"], TOKEN

    assert _scrape(ip="10.0.0.9").status_code == 200
    assert _scrape(ip="203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert _scrape(ip="203.0.113.5").status_code == 401
