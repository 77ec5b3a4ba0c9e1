"""Provider selection: `VIDEOGEN_PROVIDER` is `local` (offline, FFmpeg) or `replicate`."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from videogen.providers.base import Provider


@lru_cache(maxsize=4)
def _provider_for(name: str) -> Provider:
    if name == "local":
        from videogen.providers.local import LocalProvider

        return LocalProvider()
    if name == "replicate":
        from videogen.providers.replicate import ReplicateProvider

        return ReplicateProvider()
    raise ValueError(f"unknown VIDEOGEN_PROVIDER {name!r} (expected 'local' or 'replicate')")


def get_provider(name: str | None = None) -> Provider:
    return _provider_for(name or settings.VIDEOGEN_PROVIDER)


def reset_providers() -> None:
    """Tests switch providers/settings: forget cached instances."""
    _provider_for.cache_clear()
