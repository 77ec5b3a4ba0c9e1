"""Per-user rate limits (PRD 3.3) kept in the shared cache, so they hold across processes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import UserRateThrottle


class SharedCacheUserThrottle(UserRateThrottle):
    scope = "default"

    @property
    def cache(self):  # type: ignore[override]
        return caches[settings.SHARED_CACHE_ALIAS]


class UploadThrottle(SharedCacheUserThrottle):
    scope = "upload"


class GenerateThrottle(SharedCacheUserThrottle):
    scope = "generate"


class ApproveThrottle(SharedCacheUserThrottle):
    scope = "approve"


class RenderThrottle(SharedCacheUserThrottle):
    scope = "render"


class RefineThrottle(SharedCacheUserThrottle):
    scope = "refine"


class ListThrottle(SharedCacheUserThrottle):
    scope = "list"


class AnalyticsThrottle(SharedCacheUserThrottle):
    scope = "analytics"


class PollThrottle(SharedCacheUserThrottle):
    """30/min per user *and job*: a marketer watching 20 jobs at once is not throttled."""

    scope = "poll"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        base = super().get_cache_key(request, view)
        if base is None:
            return None
        return f"{base}:job:{view.kwargs.get('pk') or view.kwargs.get('job_id')}"
