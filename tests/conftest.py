"""Shared fixtures: users with memberships, JWT-authenticated API clients, clean caches."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from clients.models import Membership
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from tests.helpers import clear_caches


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test writes media into its own folder, and its scratch copies into another."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VIDEO_STORAGE_PATH = settings.MEDIA_ROOT
    settings.SCRATCH_DIR = tmp_path / "scratch"


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on 127.0.0.1 (tests/s3.py), one per test process."""
    from tests.s3 import S3Server

    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server, settings, db):
    """A fresh bucket that this test's default storage (and the processes it starts) use."""
    bucket = s3_server.new_bucket()
    bucket.use_in(settings)
    yield bucket
    bucket.delete()  # moto keeps objects in this process's memory


@pytest.fixture
def clean_caches(db):
    """Throttle counters and circuit state start from zero (only this worker's keys on Redis)."""
    clear_caches()


def _bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def bearer_client():
    """`bearer_client(user)`: an API client that sends `user`'s JWT access token."""
    return _bearer_client


@pytest.fixture
def member_api(tenant):
    """`member_api(role)`: an API client for a new user with `role` (owner, editor, viewer) on the tenant's client."""

    def make(role: str) -> APIClient:
        user = UserFactory()
        MembershipFactory(user=user, client=tenant.client, role=role)
        return _bearer_client(user)

    return make


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
    return _bearer_client(tenant.owner)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


class TaskRecorder:
    """Stands in for the django-q2 broker in unit tests: records tasks, runs them inline on `drain()`.

    Tests run inside a transaction that never commits, so the on-commit hooks that enqueue
    tasks are released here explicitly (as a commit would), in order.
    """

    def __init__(self) -> None:
        from django.db import connection

        self._connection = connection
        self._seen = len(connection.run_on_commit)
        self._queued: list[tuple[str, tuple, dict]] = []

    def __call__(self, func_path: str, *args, **kwargs) -> None:
        self._queued.append((func_path, args, kwargs))

    def _commit(self) -> None:
        while len(self._connection.run_on_commit) > self._seen:
            _, callback, _ = self._connection.run_on_commit.pop(self._seen)
            callback()

    @property
    def queued(self) -> list[tuple[str, tuple, dict]]:
        self._commit()
        return self._queued

    def names(self) -> list[str]:
        return [func.rsplit(".", 1)[-1] for func, _, _ in self.queued]

    def drain(self, limit: int = 500, *, horizon: float = 5.0, timeout: float = 60.0) -> int:
        """Runs queued tasks; while none are queued, ticks the real poller (as its loop would) for as
        long as some prediction is in flight or a wake-up falls due within `horizon` seconds."""
        import time

        from django.utils.module_loading import import_string

        from videogen.pipeline.poller import Poller

        poller, ran, deadline = Poller(), 0, time.monotonic() + timeout
        while ran < limit:
            if self.queued:
                func_path, args, kwargs = self._queued.pop(0)
                import_string(func_path)(*args, **kwargs)
                ran += 1
                continue
            if not _poller_has_work(horizon) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
            poller.tick()
        return ran


def _poller_has_work(horizon: float) -> bool:
    from datetime import timedelta

    from django.utils import timezone

    from videogen.models import Prediction, Variation, VideoJob
    from videogen.pipeline.state import ACTIVE

    soon = timezone.now() + timedelta(seconds=horizon)
    return (
        Prediction.objects.filter(status__in=["starting", "processing"], job__status__in=ACTIVE).exists()
        or VideoJob.objects.filter(status__in=ACTIVE, wake_at__lte=soon).exists()
        or Variation.objects.filter(job__status__in=ACTIVE, wake_at__lte=soon).exists()
    )


@pytest.fixture
def tasks(monkeypatch, settings):
    """Tasks enqueued on commit are recorded (not sent to a broker); `tasks.drain()` runs them inline."""
    from videogen.pipeline import queue

    settings.PROVIDER_CONCURRENCY = 1  # pool threads would not see the test's open transaction
    settings.POLLER_INTERVAL = 0
    settings.LEASE_SECONDS = 3600  # no heartbeat thread writes while the test's transaction is open
    recorder = TaskRecorder()
    monkeypatch.setattr(queue, "dispatcher", recorder)
    return recorder


@pytest.fixture
def qcluster(transactional_db, settings, tmp_path):
    """Starts real `qcluster` worker processes on the test database; stops them after the test."""
    from tests.workers import QCluster

    clusters: list[QCluster] = []

    def start(**env: str) -> QCluster:
        cluster = QCluster(tmp_path / f"qcluster-{len(clusters)}.log", **env).start()
        clusters.append(cluster)
        return cluster

    yield start
    for cluster in clusters:
        cluster.stop()


@pytest.fixture(scope="module")
def fake_server(request):
    """One fake Replicate server (tests/fake_replicate.py) per test module, on a free local port.

    Its latency is the module's FAKE_REPLICATE_LATENCY (seconds), 0.2 unless the module says otherwise.
    Tests call `reset()` on it before use (the module shares it).
    """
    from tests.fake_replicate import FakeReplicate

    with FakeReplicate(latency=getattr(request.module, "FAKE_REPLICATE_LATENCY", 0.2)) as fake:
        yield fake


@pytest.fixture
def asgi_server(transactional_db, tmp_path):
    """Starts the real ASGI server (uvicorn) on the test database; stops it after the test."""
    from tests.servers import AsgiServer

    started: list[AsgiServer] = []

    def start(**env: str) -> AsgiServer:
        server = AsgiServer(tmp_path / f"uvicorn-{len(started)}.log", **env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
