"""Refresh tokens rotate and are blacklisted once used; logout revokes one (issue 10, "Also")."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

PASSWORD = "pw-12345678"


@pytest.fixture
def pair(user) -> dict:
    response = APIClient().post("/api/v2/auth/token", {"username": user.username, "password": PASSWORD},
                                format="json")
    assert response.status_code == 200
    return response.json()


def _refresh(token: str):
    return APIClient().post("/api/v2/auth/token/refresh", {"refresh": token}, format="json")


def test_refreshing_returns_a_new_refresh_token_that_works(pair):
    first = _refresh(pair["refresh"])

    assert first.status_code == 200
    assert first.json()["access"] and first.json()["refresh"] != pair["refresh"]
    assert _refresh(first.json()["refresh"]).status_code == 200


def test_a_used_refresh_token_stops_working(pair):
    assert _refresh(pair["refresh"]).status_code == 200

    replay = _refresh(pair["refresh"])

    assert replay.status_code == 401
    assert replay.json()["code"] == "token_not_valid"


def test_logout_blacklists_the_refresh_token(pair):
    response = APIClient().post("/api/v2/auth/logout", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204
    assert _refresh(pair["refresh"]).status_code == 401


def test_logout_works_without_a_valid_access_token(pair):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    assert client.post("/api/v2/auth/logout", {"refresh": pair["refresh"]}, format="json").status_code == 204


def test_logout_with_a_garbage_token_is_401_json(db, clean_caches):
    response = APIClient().post("/api/v2/auth/logout", {"refresh": "not-a-token"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_logout_without_a_token_is_400(db, clean_caches):
    response = APIClient().post("/api/v2/auth/logout", {}, format="json")

    assert response.status_code == 400
    assert "refresh" in response.json()["fields"]
