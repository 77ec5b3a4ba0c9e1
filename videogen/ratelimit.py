"""Exact sliding-window rate limits shared by every process.

`hit(key, limit, window)` records one request and says whether it is allowed, atomically: with Redis one
Lua script prunes, counts and adds in a single step (its clock is Redis's own `TIME`, the same for every
host); otherwise a database row per key is written by compare-and-set on its version. A read-then-write
on a cache (what DRF's throttles do) lets concurrent requests all read the same count and all pass.

The shared store being unreachable raises `RateLimitUnavailable`; callers answer 503.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, IntegrityError, transaction

CAS_ATTEMPTS = 50  # compare-and-set rounds before a key under a storm of writes gives up (503)
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""


class RateLimitUnavailable(Exception):
    """The shared store that keeps the counts (Redis or the database) cannot be reached."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # whole seconds until a slot frees up (0 when allowed)


def _redis_cache():
    cache = caches[settings.SHARED_CACHE_ALIAS]
    return cache if cache.__class__.__module__.startswith("django_redis") else None


def hit(key: str, limit: int, window_seconds: int) -> Decision:
    """Counts one request under `key`; allowed while fewer than `limit` were counted in the last window."""
    if limit <= 0:
        return Decision(False, window_seconds)
    cache = _redis_cache()
    if cache is not None:
        return _hit_redis(cache, key, limit, window_seconds)
    return _hit_database(key, limit, window_seconds)


def _hit_redis(cache, key: str, limit: int, window_seconds: int) -> Decision:
    from redis.exceptions import RedisError

    try:
        client = cache.client.get_client(write=True)
        script = client.register_script(_SLIDING_WINDOW)
        allowed, wait_ms = script(keys=[cache.make_key(f"ratelimit:{key}")],
                                  args=[window_seconds * 1000, limit, uuid.uuid4().hex])
    except RedisError as exc:
        raise RateLimitUnavailable(str(exc)) from exc
    return Decision(bool(allowed), 0 if allowed else max(1, math.ceil(int(wait_ms) / 1000)))


def _hit_database(key: str, limit: int, window_seconds: int) -> Decision:
    """Read the window, decide, then write it back only if nobody wrote in between (compare-and-set
    on the row's version; retried when someone did). No lock is held while Python decides: under
    SQLite's single write lock, a locked read-decide-write made every poll wait for the others."""
    from videogen.models import RateLimitBucket

    try:
        for _attempt in range(CAS_ATTEMPTS):
            now = time.time()
            expires = datetime.fromtimestamp(now + window_seconds, tz=UTC)
            row = RateLimitBucket.objects.filter(key=key).values_list("hits", "version").first()
            if row is None:
                _create_bucket(key, expires)
                continue
            stored, version = row
            hits = [stamp for stamp in stored if stamp > now - window_seconds]
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            if RateLimitBucket.objects.filter(key=key, version=version).update(
                hits=hits, version=version + 1, expires_at=expires
            ):
                break
        else:
            raise RateLimitUnavailable(f"rate-limit window {key!r} kept changing under {CAS_ATTEMPTS} attempts")
        if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
            RateLimitBucket.objects.filter(expires_at__lt=datetime.now(tz=UTC) - timedelta(minutes=1)).delete()
    except DatabaseError as exc:
        raise RateLimitUnavailable(str(exc)) from exc
    if allowed:
        return Decision(True, 0)
    return Decision(False, max(1, math.ceil(hits[0] + window_seconds - now)))


def _create_bucket(key: str, expires: datetime) -> None:
    from videogen.models import RateLimitBucket

    try:
        with transaction.atomic():  # a savepoint: a racer's row makes this insert fail harmlessly
            RateLimitBucket.objects.create(key=key, hits=[], expires_at=expires)
    except IntegrityError:
        pass


def recent_hits(key: str, window_seconds: int) -> int:
    """How many requests `key` has in its current window (for tests and ops)."""
    cache = _redis_cache()
    if cache is not None:
        client = cache.client.get_client(write=False)
        redis_key = cache.make_key(f"ratelimit:{key}")
        seconds, micros = client.time()
        now_ms = seconds * 1000 + micros // 1000
        return int(client.zcount(redis_key, now_ms - window_seconds * 1000 + 1, "+inf"))
    from videogen.models import RateLimitBucket

    bucket = RateLimitBucket.objects.filter(key=key).first()
    now = time.time()
    return sum(1 for stamp in (bucket.hits if bucket else []) if stamp > now - window_seconds)
