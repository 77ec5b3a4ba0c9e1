"""Authentication: JWT obtain/refresh, `/me`, and every API route refusing anonymous callers with JSON."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RoutePattern

from clients.models import Membership
from tests.factories import ClientFactory, MembershipFactory, UserFactory

PASSWORD = "pw-12345678"  # tests.factories.UserFactory's password
PUBLIC_ROUTES = {"token-obtain", "token-refresh", "logout"}


SAMPLE_UUID = "00000000-0000-4000-8000-000000000001"


def _sample_value(converter: object | None) -> str:
    if isinstance(converter, IntConverter):
        return "1"
    if isinstance(converter, UUIDConverter) or converter is None:
        return SAMPLE_UUID  # regex groups ([^/.]+) take anything; ids there are UUIDs
    return "sample"


def _fill(pattern: URLPattern | URLResolver) -> str:
    """The pattern's URL piece with each parameter replaced by a value its converter accepts."""
    if isinstance(pattern.pattern, RoutePattern):
        converters = pattern.pattern.converters
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: _sample_value(converters.get(m.group(1))), str(pattern.pattern))
    regex = pattern.pattern.regex.pattern.lstrip("^").removesuffix("$").removesuffix("\\Z")
    filled = re.sub(r"\(\?P<\w+>(?:[^()]|\([^()]*\))*\)", lambda m: _sample_value(None), regex)
    return re.sub(r"\\(.)", r"\1", filled)  # unescape literal characters


def _api_routes(patterns=None, prefix: str = "") -> list[tuple[str, str]]:
    """(route name, concrete URL) for every route under /api/v2/, discovered from the URLconf."""
    found: list[tuple[str, str]] = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found += _api_routes(pattern.url_patterns, prefix + _fill(pattern))
        else:
            url = "/" + prefix + _fill(pattern)
            if url.startswith("/api/v2/"):
                found.append((pattern.name or url, url))
    return sorted(set(found))


API_ROUTES = [(name, url) for name, url in _api_routes() if name not in PUBLIC_ROUTES and "webhook" not in url]


def test_route_discovery_finds_the_api():
    urls = dict(API_ROUTES)
    assert {"client-list", "client-detail", "campaign-list", "client-members-list", "me", "upload-asset"} <= set(urls)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize(("name", "url"), API_ROUTES, ids=[name for name, _ in API_ROUTES])
def test_anonymous_caller_is_refused_with_401_json(anon, name, url, method):
    response = getattr(anon, method)(url)

    assert response.status_code == 401, (url, response.status_code)
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_pair_is_issued_for_good_credentials(anon, user):
    response = anon.post("/api/v2/auth/token", {"username": user.username, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_access_token_authenticates_api_calls(anon, user):
    access = anon.post("/api/v2/auth/token", {"username": user.username, "password": PASSWORD}).json()["access"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    assert anon.get("/api/v2/me").status_code == 200


def test_bad_password_answers_401_json(anon, user):
    response = anon.post("/api/v2/auth/token", {"username": user.username, "password": "wrong"}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "No active account found with the given credentials",
    }


def test_missing_credentials_are_a_validation_error(anon, db):
    response = anon.post("/api/v2/auth/token", {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"username", "password"}


def test_refresh_token_gives_a_new_access_token(anon, user):
    refresh = anon.post("/api/v2/auth/token", {"username": user.username, "password": PASSWORD}).json()["refresh"]

    response = anon.post("/api/v2/auth/token/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 200
    assert "access" in response.json()


def test_garbage_refresh_token_answers_401_json(anon, db):
    response = anon.post("/api/v2/auth/token/refresh", {"refresh": "garbage"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_garbage_bearer_token_answers_401_with_a_readable_detail(anon, db):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = anon.get("/api/v2/me")

    assert response.status_code == 401
    assert response.json() == {"code": "token_not_valid", "detail": "Given token not valid for any token type"}


def test_me_lists_the_users_clients_with_roles(db, clean_caches, bearer_client):
    user = UserFactory()
    owned, viewed = ClientFactory(name="Acme"), ClientFactory(name="Bolt")
    MembershipFactory(user=user, client=owned, role=Membership.Role.OWNER)
    MembershipFactory(user=user, client=viewed, role=Membership.Role.VIEWER)
    MembershipFactory(client=ClientFactory(name="Someone else's"))

    response = bearer_client(user).get("/api/v2/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": user.username,
        "clients": [
            {"id": str(owned.id), "name": "Acme", "role": "owner"},
            {"id": str(viewed.id), "name": "Bolt", "role": "viewer"},
        ],
    }


def test_unknown_api_url_answers_404_json(api):
    response = api.get("/api/v2/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_wrong_method_answers_405_json(api):
    response = api.put("/api/v2/me", {}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
