"""One hub per serving process (per event loop): its open streams, and ONE listener that wakes them.

Streams never poll the database on their own. They subscribe to a job here and sleep; the hub's
single listener learns of changes and wakes the streams of that job:

- `redis`: a pub/sub subscription to the channel `notify.publish_job_changed` publishes to;
- `postgres`: a LISTEN connection on the NOTIFY channel;
- `poll` (embedded SQLite): one query for the versions of every job watched in this process per
  EVENTS_POLL_INTERVAL, whatever the number of streams.

With pub/sub the hub also checks the watched versions every EVENTS_RESYNC_SECONDS and right after
(re)connecting, so a message lost while the listener was down only delays an event.

The job document is rendered once per (job, version, host) for all the streams that want it, not
once per stream. Database work runs in the default thread pool (never on the event loop) and closes
its connection afterwards, so idle streams hold no database connection.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection

from videogen.live.documents import document_json, load_job
from videogen.live.notify import PG_CHANNEL, parse_message
from videogen.live.snapshots import snapshots_between
from videogen.models import JobStatusSnapshot, VideoJob

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _run_and_close(fn: Callable[..., T], *args: Any) -> T:
    close_old_connections()
    try:
        return fn(*args)
    finally:
        connection.close()


async def run_db(fn: Callable[..., T], *args: Any) -> T:
    """Runs ORM code in the thread pool with a connection of its own, closed afterwards."""
    return await sync_to_async(_run_and_close, thread_sensitive=False)(fn, *args)


@dataclass(frozen=True)
class Rendered:
    """The job document at `version`, and the versions at which the job changed status."""

    version: int
    status: str
    text: str
    status_versions: tuple[int, ...]


def render(job_id: int, request: Any) -> Rendered | None:
    job = load_job(job_id)
    if job is None:
        return None
    versions = tuple(JobStatusSnapshot.objects.filter(job_id=job_id).values_list("version", flat=True))
    return Rendered(job.version, job.status, document_json(job, request), versions)


def _versions(job_ids: list[int]) -> dict[int, int]:
    return dict(VideoJob.objects.filter(pk__in=job_ids).values_list("pk", "version"))


class Subscription:
    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    async def wait(self, timeout: float) -> bool:
        """True when woken by a change, False when `timeout` passed first."""
        try:
            await asyncio.wait_for(self._woken.wait(), timeout)
        except TimeoutError:
            return False
        self._woken.clear()
        return True


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.backend = settings.EVENTS_BACKEND
        self.subscriptions: dict[int, set[Subscription]] = defaultdict(set)
        self.known: dict[int, int] = {}
        self._cache: dict[tuple[int, str], Rendered] = {}
        self._inflight: dict[tuple[int, str], asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []

    # --- streams ---------------------------------------------------------------------------------
    def subscribe(self, job_id: int) -> Subscription:
        self._start()
        subscription = Subscription(job_id)
        self.subscriptions[job_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        watchers = self.subscriptions.get(subscription.job_id)
        if watchers is None:
            return
        watchers.discard(subscription)
        if not watchers:
            # Nobody here watches the job any more: forget it, so a later stream renders afresh.
            del self.subscriptions[subscription.job_id]
            self.known.pop(subscription.job_id, None)
            for key in [key for key in self._cache if key[0] == subscription.job_id]:
                del self._cache[key]

    def stream_count(self) -> int:
        return sum(len(watchers) for watchers in self.subscriptions.values())

    def notify(self, job_id: int, version: int) -> None:
        """A change reached this process: wake the job's streams if it is news to them."""
        if job_id in self.subscriptions and version > self.known.get(job_id, 0):
            self.known[job_id] = version
            for subscription in self.subscriptions[job_id]:
                subscription.wake()

    async def document(self, job_id: int, request: Any, *, fresh: bool = False) -> Rendered | None:
        """The job's document, at least as new as every change this process has heard of.

        Concurrent callers share one render per (job, host); `fresh` (a new stream) always reads anew.
        """
        key = (job_id, f"{request.scheme}://{request.get_host()}")
        while True:
            wanted = self.known.get(job_id, 0)
            cached = self._cache.get(key)
            if cached is not None and not fresh and cached.version >= wanted:
                return cached
            future = self._inflight.get(key)
            if future is None or fresh:
                future = asyncio.ensure_future(run_db(render, job_id, request))
                if not fresh:
                    self._inflight[key] = future
                    future.add_done_callback(lambda done, key=key: self._inflight.pop(key, None))
            rendered = await asyncio.shield(future)
            if rendered is None:
                return None
            if job_id in self.subscriptions:
                self.known[job_id] = max(self.known.get(job_id, 0), rendered.version)
                latest = self._cache.get(key)  # another stream may have stored a newer one meanwhile
                if latest is None or rendered.version >= latest.version:
                    self._cache[key] = rendered
            if fresh or rendered.version >= wanted:
                return rendered
            # That render started before the latest change was heard of: render again.

    async def replay(self, job_id: int, after: int, current: Rendered) -> list[tuple[int, str, str]]:
        """The status changes strictly between `after` and the current document (none: no query)."""
        if not any(after < version < current.version for version in current.status_versions):
            return []
        return await run_db(snapshots_between, job_id, after, current.version)

    # --- the one listener ------------------------------------------------------------------------
    def _start(self) -> None:
        if self._tasks:
            return
        if self.backend == "redis":
            self._tasks.append(self.loop.create_task(self._listen_redis()))
        elif self.backend == "postgres":
            self._tasks.append(self.loop.create_task(self._listen_postgres()))
        interval = settings.EVENTS_POLL_INTERVAL if self.backend == "poll" else settings.EVENTS_RESYNC_SECONDS
        self._tasks.append(self.loop.create_task(self._check_periodically(interval)))

    async def check_versions(self) -> None:
        """One query for every job watched here; wakes the streams of jobs that moved (or vanished)."""
        job_ids = list(self.subscriptions)
        if not job_ids:
            return
        versions = await run_db(_versions, job_ids)
        for job_id in job_ids:
            if job_id not in versions:  # deleted: its streams end
                for subscription in self.subscriptions.get(job_id, ()):
                    subscription.wake()
            else:
                self.notify(job_id, versions[job_id])

    async def _check_periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_versions()
            except Exception:
                logger.warning("events_version_check_failed", exc_info=True)

    def _on_message(self, raw: str | bytes) -> None:
        parsed = parse_message(raw)
        if parsed is not None:
            self.notify(*parsed)

    async def _listen_redis(self) -> None:
        import redis.asyncio as aioredis

        failures = 0
        while True:
            client = aioredis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(settings.EVENTS_CHANNEL)
                await self.check_versions()  # anything that changed while we were not listening
                failures = 0
                async for message in pubsub.listen():
                    if message and message.get("type") == "message":
                        self._on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                logger.warning("events_listener_failed backend=redis failures=%s", failures, exc_info=True)
            finally:
                await client.aclose()
            await asyncio.sleep(min(30.0, 0.5 * 2**failures) * random.uniform(0.5, 1.0))

    async def _listen_postgres(self) -> None:
        import psycopg

        failures = 0
        while True:
            try:
                db = settings.DATABASES["default"]
                async with await psycopg.AsyncConnection.connect(
                    dbname=db["NAME"], user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                    host=db.get("HOST") or None, port=db.get("PORT") or None, autocommit=True,
                ) as listener:
                    await listener.execute(f"LISTEN {PG_CHANNEL}")
                    await self.check_versions()
                    failures = 0
                    async for notice in listener.notifies():
                        self._on_message(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                logger.warning("events_listener_failed backend=postgres failures=%s", failures, exc_info=True)
            await asyncio.sleep(min(30.0, 0.5 * 2**failures) * random.uniform(0.5, 1.0))


_hub: Hub | None = None


def get_hub() -> Hub:
    """This process's hub, bound to the running event loop (uvicorn runs one loop per worker)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(loop)
    return _hub
