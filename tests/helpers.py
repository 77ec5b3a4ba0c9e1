"""Plain helpers shared by test modules (fixtures live in tests/conftest.py)."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.core.cache import caches


def clear_caches() -> None:
    from videogen.models import RateLimitBucket

    RateLimitBucket.objects.all().delete()  # the rate-limit windows when the shared store is the database
    for alias in settings.CACHES:
        cache = caches[alias]
        if hasattr(cache, "delete_pattern"):
            cache.delete_pattern("*")  # django-redis: only this worker's prefix, not FLUSHDB
        else:
            cache.clear()


@contextmanager
def using_fake_replicate(settings, fake, **overrides):
    """Points the Replicate provider at a fake server (tests/fake_replicate.py) for the block.

    `overrides` set further settings (models, backoff scale, poll interval, ...). Provider
    instances are cached, so they are forgotten on the way in and on the way out. Scenes are
    planned by the rules planner unless `VIDEOGEN_PLANNER="auto"` is passed (LLM planner tests).
    """
    from videogen.providers import reset_providers

    settings.VIDEOGEN_PROVIDER = "replicate"
    settings.VIDEOGEN_PLANNER = "rules"
    settings.REPLICATE_API_TOKEN = "test"
    settings.REPLICATE_BASE_URL = fake.base_url
    settings.PUBLIC_BASE_URL = ""
    for name, value in overrides.items():
        setattr(settings, name, value)
    reset_providers()
    try:
        yield fake
    finally:
        reset_providers()

