"""Brute-force protection on logins (issue 10, defect 3): per username and per IP, in the shared store.

Default rates: 10 attempts a minute per username, 30 per client address (THROTTLE_LOGIN_USER/IP).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory

PASSWORD = "pw-12345678"
USER_LIMIT = 10
IP_LIMIT = 30


def _token(client: APIClient, username: str, password: str = "wrong-guess", ip: str = "203.0.113.7", **extra):
    return client.post("/api/v2/auth/token", {"username": username, "password": password}, format="json",
                       REMOTE_ADDR=ip, **extra)


@pytest.fixture
def victim(db, clean_caches):
    return UserFactory()


def test_guessing_one_users_password_is_throttled_after_ten_tries(victim):
    client = APIClient()
    answers = [_token(client, victim.username).status_code for _ in range(USER_LIMIT)]

    response = _token(client, victim.username, password=PASSWORD)

    assert answers == [401] * USER_LIMIT
    assert response.status_code == 429  # even the right password waits: the guesser cannot tell
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_username_limit_holds_across_client_addresses(victim):
    client = APIClient()
    for attempt in range(USER_LIMIT):
        _token(client, victim.username, ip=f"198.51.100.{attempt + 1}")

    assert _token(client, victim.username, ip="198.51.100.200").status_code == 429


def test_the_username_limit_ignores_case_and_spaces(victim):
    client = APIClient()
    for attempt in range(USER_LIMIT):
        _token(client, victim.username.upper() if attempt % 2 else f" {victim.username} ")

    assert _token(client, victim.username).status_code == 429


def test_one_address_trying_many_usernames_is_throttled(db, clean_caches):
    client = APIClient()
    answers = [_token(client, f"nobody-{n}").status_code for n in range(IP_LIMIT)]

    response = _token(client, "nobody-else")

    assert set(answers) == {401}
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_a_spoofed_forwarded_for_header_does_not_reset_the_address_limit(db, clean_caches):
    client = APIClient()
    for n in range(IP_LIMIT):
        _token(client, f"nobody-{n}", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    assert _token(client, "nobody-else", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_another_user_on_another_address_still_signs_in(victim):
    client = APIClient()
    for _ in range(USER_LIMIT + 2):
        _token(client, victim.username)
    other = UserFactory()

    response = _token(client, other.username, password=PASSWORD, ip="192.0.2.55")

    assert response.status_code == 200
    assert response.json()["access"]


# --- admin login form -------------------------------------------------------------------------------


def _admin_login(client, username: str, password: str = "wrong-guess", ip: str = "203.0.113.9"):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=ip)


def test_admin_login_is_throttled_per_username_with_a_readable_page(client, clean_caches):
    staff = UserFactory(is_staff=True, is_superuser=True)
    answers = [_admin_login(client, staff.username).status_code for _ in range(USER_LIMIT)]

    response = _admin_login(client, staff.username, password=PASSWORD)

    assert answers == [200] * USER_LIMIT  # the form again, with its error
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_and_api_logins_share_one_count(victim):
    from django.test import Client

    for _ in range(USER_LIMIT):
        _admin_login(Client(), victim.username)

    assert _token(APIClient(), victim.username, password=PASSWORD).status_code == 429


def test_admin_login_still_works_below_the_limit(client, clean_caches):
    staff = UserFactory(is_staff=True, is_superuser=True)
    _admin_login(client, staff.username)

    response = _admin_login(client, staff.username, password=PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
