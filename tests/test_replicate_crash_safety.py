"""Crash safety with real worker processes and the fake Replicate server: a qcluster SIGKILLed
while predictions are in flight is replaced, the watchdog re-enqueues the job once its lease
expired, and the new worker polls the recorded predictions instead of paying for new ones.

(On the ORM broker the killed task would come back only after Q_CLUSTER retry, 300 s; on
Redis it is lost. The watchdog covers both; the test calls it directly, deterministically.)
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.conftest import bearer_client, clear_caches, using_fake_replicate
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from tests.fake_replicate import FakeReplicate
from tests.jobs import storyboard_complete_job
from tests.workers import wait_for
from videogen.models import CostEntry, JobStatus, Prediction, Variation, VideoJob
from videogen.pipeline.context import variation_seed
from videogen.pipeline.tasks import requeue_expired_jobs

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

FLUX = "black-forest-labs/flux-schnell"
WAN = "wavespeedai/wan-2.1-i2v-480p"
LATENCY = 3.0
KNOBS = {"PROVIDER_BACKOFF_SCALE": "0.01", "PROVIDER_POLL_INTERVAL": "0.2", "LEASE_SECONDS": "6",
         "WATCHDOG_AFTER_SECONDS": "3"}


@pytest.fixture
def fake(settings, transactional_db):
    with FakeReplicate(latency=LATENCY) as fake, using_fake_replicate(
        settings, fake, REPLICATE_STORYBOARD_MODEL=FLUX, REPLICATE_VIDEO_MODEL=WAN, PROVIDER_BACKOFF_SCALE=0.01,
        PROVIDER_POLL_INTERVAL=0.2, LEASE_SECONDS=6, WATCHDOG_AFTER_SECONDS=3,
    ):
        clear_caches()
        yield fake


@pytest.fixture
def start_workers(qcluster, fake):
    env = {"VIDEOGEN_PROVIDER": "replicate", "REPLICATE_API_TOKEN": "test", "REPLICATE_BASE_URL": fake.base_url,
           "REPLICATE_STORYBOARD_MODEL": FLUX, "REPLICATE_VIDEO_MODEL": WAN, "PUBLIC_BASE_URL": "", **KNOBS}
    return lambda: qcluster(**env)


def marketer():
    user, client = UserFactory(), ClientFactory()
    MembershipFactory(user=user, client=client)
    campaign = CampaignFactory(client=client)
    return bearer_client(user), type("Tenant", (), {"client": client, "owner": user, "campaign": campaign})


def in_flight(job_id: int, purpose: str, count: int) -> bool:
    """`count` predictions recorded with the provider's id, none finished yet: a worker is polling them."""
    rows = list(Prediction.objects.filter(job_id=job_id, purpose=purpose).values_list("external_id", "status"))
    return len(rows) == count and all(pid and status in ("starting", "processing") for pid, status in rows)


def quiet_for_the_watchdog(job_id: int) -> bool:
    """No heartbeat for WATCHDOG_AFTER_SECONDS: what `requeue_expired_jobs` looks for."""
    return VideoJob.objects.filter(pk=job_id, updated_at__lt=timezone.now() - timedelta(seconds=3)).exists()


def job_lease_expired(job_id: int) -> bool:
    return quiet_for_the_watchdog(job_id) and VideoJob.objects.filter(
        pk=job_id, lease_expires_at__lt=timezone.now()
    ).exists()


def variation_leases_expired(job_id: int) -> bool:
    leases = list(Variation.objects.filter(job_id=job_id).values_list("lease_expires_at", flat=True))
    return quiet_for_the_watchdog(job_id) and all(lease is None or lease < timezone.now() for lease in leases)


def status_in(job_id: int, wanted: set[str]) -> str | None:
    status = VideoJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status if status in wanted else None


def test_a_worker_killed_mid_storyboard_is_replaced_without_paying_twice(fake, start_workers):
    api, tenant = marketer()
    cluster = start_workers()
    response = api.post("/api/v2/generate", {
        "campaignId": str(tenant.campaign.id), "clientId": str(tenant.client.id), "videoName": "Crash",
        "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
        "duration": 15, "platform": "tiktok",
    }, format="json")
    assert response.status_code == 202
    job_id = response.json()["job_id"]

    wait_for(lambda: in_flight(job_id, "storyboard", 3), timeout=60, interval=0.1, cluster=cluster,
             what="three scene predictions in flight")
    cluster.kill()
    assert status_in(job_id, {JobStatus.GENERATING_STORYBOARD})
    wait_for(lambda: job_lease_expired(job_id), timeout=30, what="the dead worker's lease to expire")
    assert requeue_expired_jobs() == 1
    cluster = start_workers()

    reached = wait_for(lambda: status_in(job_id, {"storyboard_complete", "failed"}), timeout=120,
                       cluster=cluster, what="the storyboard")

    job = VideoJob.objects.get(pk=job_id)
    assert reached == JobStatus.STORYBOARD_COMPLETE, job.error
    for scene in job.scenes.all():
        assert fake.create_count(FLUX, {"prompt": scene.prompt}) == 1
    assert fake.create_count() == 3
    assert Prediction.objects.filter(job=job).count() == 3
    assert CostEntry.objects.filter(job=job).count() == 3
    assert job.actual_cost == Decimal("0.009")
    cluster.kill()  # done: a SIGTERM to the whole process group takes qcluster 15 s to honour


def test_a_worker_killed_mid_render_is_replaced_without_paying_twice(fake, start_workers):
    api, tenant = marketer()
    job = storyboard_complete_job(tenant, platform="meta", aspect_ratio="1:1", number_of_variations=2)
    cluster = start_workers()
    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 202

    wait_for(lambda: in_flight(job.pk, "video", 6), timeout=60, interval=0.1, cluster=cluster,
             what="six clip predictions in flight")
    cluster.kill()
    wait_for(lambda: variation_leases_expired(job.pk), timeout=30,
             what="the dead workers' leases to expire")
    assert requeue_expired_jobs() == 2
    cluster = start_workers()

    reached = wait_for(lambda: status_in(job.pk, {"completed", "partially_completed", "failed"}), timeout=240,
                       cluster=cluster, what="the render")

    job.refresh_from_db()
    assert reached == JobStatus.COMPLETED, job.error
    for index in (1, 2):
        for scene in job.scenes.all():
            seed = variation_seed(job.pk, index, scene.number)
            assert fake.create_count(WAN, {"seed": seed}) == 1, (index, scene.number)
    assert fake.create_count(WAN) == 6
    assert Prediction.objects.filter(job=job, purpose="video").count() == 6
    assert job.actual_cost == 6 * Decimal("0.50")
    assert [v.status for v in job.variations.order_by("index")] == ["completed", "completed"]
    cluster.kill()
