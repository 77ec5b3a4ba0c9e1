"""Shared fixtures: users with memberships, JWT-authenticated API clients, clean caches."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from clients.models import Membership
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory


def clear_caches() -> None:
    for alias in settings.CACHES:
        cache = caches[alias]
        if hasattr(cache, "delete_pattern"):
            cache.delete_pattern("*")  # django-redis: only this worker's prefix, not FLUSHDB
        else:
            cache.clear()


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test writes media into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VIDEO_STORAGE_PATH = settings.MEDIA_ROOT


@pytest.fixture
def clean_caches(db):
    """Throttle counters and circuit state start from zero (only this worker's keys on Redis)."""
    clear_caches()


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def user(db, clean_caches):
    return UserFactory()


@pytest.fixture
def tenant(db, clean_caches):
    """A client with brand guidelines, a campaign, and an owner."""
    client = ClientFactory()
    owner = UserFactory()
    MembershipFactory(user=owner, client=client, role=Membership.Role.OWNER)
    campaign = CampaignFactory(client=client)
    return type("Tenant", (), {"client": client, "owner": owner, "campaign": campaign})


@pytest.fixture
def api(tenant) -> APIClient:
    """API client authenticated as the tenant's owner."""
    return bearer_client(tenant.owner)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
