"""Crash safety with real worker processes and the fake Replicate server: a qcluster (its workers
and the provider poller in its main process) SIGKILLed mid-storyboard or mid-render is replaced by a
new one, which takes over the poller lease, takes back the dead worker's job lease once it expires,
and finishes the job with exactly one paid prediction per scene (and variation), each booked once.

The workers run with the deployment defaults for LEASE_SECONDS, WATCHDOG_AFTER_SECONDS and
POLLER_LEASE_SECONDS (the settings that bound recovery to well under a minute); nothing here calls
the watchdog by hand: the restarted cluster's own poller does it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from tests.fake_replicate import FakeReplicate, slow
from tests.helpers import clear_caches, using_fake_replicate
from tests.jobs import storyboard_complete_job
from tests.workers import wait_for
from videogen.models import CostEntry, JobStatus, Prediction, ServiceLease, Variation, VideoJob
from videogen.pipeline.context import variation_seed
from videogen.pipeline.poller import LEASE_NAME

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

FLUX = "black-forest-labs/flux-schnell"
WAN = "wavespeedai/wan-2.1-i2v-480p"
LATENCY = 3.0
KNOBS = {"PROVIDER_BACKOFF_SCALE": "0.01"}


@pytest.fixture
def fake(settings, transactional_db):
    with FakeReplicate(latency=LATENCY) as fake, using_fake_replicate(
        settings, fake, REPLICATE_STORYBOARD_MODEL=FLUX, REPLICATE_VIDEO_MODEL=WAN, PROVIDER_BACKOFF_SCALE=0.01,
    ):
        clear_caches()
        yield fake


@pytest.fixture
def start_workers(qcluster, fake):
    env = {"VIDEOGEN_PROVIDER": "replicate", "REPLICATE_API_TOKEN": "test", "REPLICATE_BASE_URL": fake.base_url,
           "REPLICATE_STORYBOARD_MODEL": FLUX, "REPLICATE_VIDEO_MODEL": WAN, "PUBLIC_BASE_URL": "",
           "VIDEOGEN_PLANNER": "rules", **KNOBS}
    return lambda: qcluster(**env)


@pytest.fixture
def marketer(bearer_client):
    """`marketer()`: (API client, tenant) for a new client with a campaign and its owner."""

    def make():
        user, client = UserFactory(), ClientFactory()
        MembershipFactory(user=user, client=client)
        campaign = CampaignFactory(client=client)
        return bearer_client(user), type("Tenant", (), {"client": client, "owner": user, "campaign": campaign})

    return make


def in_flight(job_id: int, purpose: str, count: int) -> bool:
    """`count` predictions recorded with the provider's id, none finished yet: the poller watches them."""
    rows = list(Prediction.objects.filter(job_id=job_id, purpose=purpose).values_list("external_id", "status"))
    return len(rows) == count and all(pid and status in ("starting", "processing") for pid, status in rows)


def collecting(job_id: int, purpose: str, count: int, lease_of=VideoJob) -> bool:
    """Every prediction succeeded and a worker holds the lease: it is downloading and booking them."""
    rows = list(Prediction.objects.filter(job_id=job_id, purpose=purpose).values_list("status", flat=True))
    held = lease_of.objects.filter(**({"pk": job_id} if lease_of is VideoJob else {"job_id": job_id}),
                                   lease_expires_at__gt=timezone.now()).exists()
    return len(rows) == count and all(status == "succeeded" for status in rows) and held


def poller_owner() -> str:
    return ServiceLease.objects.filter(name=LEASE_NAME).values_list("owner", flat=True).first() or ""


def status_in(job_id: int, wanted: set[str]) -> str | None:
    status = VideoJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status if status in wanted else None


def start_storyboard(api, tenant) -> int:
    response = api.post("/api/v2/generate", {
        "campaignId": str(tenant.campaign.id), "clientId": str(tenant.client.id), "videoName": "Crash",
        "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
        "duration": 15, "platform": "tiktok",
    }, format="json")
    assert response.status_code == 202
    return response.json()["job_id"]


def assert_storyboard_paid_once(fake, job_id: int) -> None:
    job = VideoJob.objects.get(pk=job_id)
    for scene in job.scenes.all():
        assert fake.create_count(FLUX, {"prompt": scene.prompt}) == 1
    assert fake.create_count() == 3
    assert Prediction.objects.filter(job=job).count() == 3
    assert CostEntry.objects.filter(job=job).count() == 3
    assert job.actual_cost == Decimal("0.009")


def assert_render_paid_once(fake, job) -> None:
    job.refresh_from_db()
    for index in (1, 2):
        for scene in job.scenes.all():
            seed = variation_seed(job.pk, index, scene.number)
            assert fake.create_count(WAN, {"seed": seed}) == 1, (index, scene.number)
    assert fake.create_count(WAN) == 6
    assert Prediction.objects.filter(job=job, purpose="video").count() == 6
    assert CostEntry.objects.filter(job=job, kind="video").count() == 6
    booked = CostEntry.objects.filter(job=job, kind="video")
    assert booked.values("prediction").distinct().count() == 6  # each clip booked once
    assert job.actual_cost == sum(entry.amount for entry in booked) > 0
    assert [v.status for v in job.variations.order_by("index")] == ["completed", "completed"]


def test_a_cluster_killed_while_scene_images_are_in_flight_is_replaced_without_paying_twice(fake, start_workers,
                                                                                            marketer):
    api, tenant = marketer()
    cluster = start_workers()
    job_id = start_storyboard(api, tenant)

    wait_for(lambda: in_flight(job_id, "storyboard", 3), timeout=60, interval=0.1, cluster=cluster,
             what="three scene predictions in flight")
    dead_poller = poller_owner()
    cluster.kill()  # the workers and the poller
    assert status_in(job_id, {JobStatus.GENERATING_STORYBOARD})
    cluster = start_workers()

    reached = wait_for(lambda: status_in(job_id, {"storyboard_complete", "failed"}), timeout=120,
                       cluster=cluster, what="the storyboard")

    assert reached == JobStatus.STORYBOARD_COMPLETE, VideoJob.objects.get(pk=job_id).error
    assert dead_poller and poller_owner() not in ("", dead_poller)  # the new cluster's poller took over
    assert_storyboard_paid_once(fake, job_id)
    cluster.kill()  # done: a SIGTERM to the whole process group takes qcluster 15 s to honour


def test_a_cluster_killed_while_a_worker_collects_the_images_is_replaced_without_paying_twice(fake, start_workers,
                                                                                              marketer):
    api, tenant = marketer()
    fake.always("file", slow(30))  # downloads hang: the worker holds the job's lease while collecting
    cluster = start_workers()
    job_id = start_storyboard(api, tenant)

    wait_for(lambda: collecting(job_id, "storyboard", 3), timeout=60, interval=0.1, cluster=cluster,
             what="a worker collecting the three finished images")
    cluster.kill()
    fake.clear_faults("file")
    assert VideoJob.objects.get(pk=job_id).lease_expires_at > timezone.now()  # the dead worker's lease
    cluster = start_workers()

    reached = wait_for(lambda: status_in(job_id, {"storyboard_complete", "failed"}), timeout=120,
                       cluster=cluster, what="the storyboard")

    assert reached == JobStatus.STORYBOARD_COMPLETE, VideoJob.objects.get(pk=job_id).error
    assert_storyboard_paid_once(fake, job_id)
    cluster.kill()


def test_a_cluster_killed_while_clips_are_in_flight_is_replaced_without_paying_twice(fake, start_workers, marketer):
    api, tenant = marketer()
    job = storyboard_complete_job(tenant, platform="meta", aspect_ratio="1:1", number_of_variations=2)
    cluster = start_workers()
    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 202

    wait_for(lambda: in_flight(job.pk, "video", 6), timeout=60, interval=0.1, cluster=cluster,
             what="six clip predictions in flight")
    cluster.kill()
    cluster = start_workers()

    reached = wait_for(lambda: status_in(job.pk, {"completed", "partially_completed", "failed"}), timeout=240,
                       cluster=cluster, what="the render")

    assert reached == JobStatus.COMPLETED, VideoJob.objects.get(pk=job.pk).error
    assert_render_paid_once(fake, job)
    cluster.kill()


def test_a_cluster_killed_while_workers_collect_the_clips_is_replaced_without_paying_twice(fake, start_workers,
                                                                                           marketer):
    api, tenant = marketer()
    job = storyboard_complete_job(tenant, platform="meta", aspect_ratio="1:1", number_of_variations=2)
    fake.always("file", slow(30))
    cluster = start_workers()
    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 202

    wait_for(lambda: collecting(job.pk, "video", 6, lease_of=Variation), timeout=60, interval=0.1,
             cluster=cluster, what="a worker collecting finished clips")
    cluster.kill()
    fake.clear_faults("file")
    cluster = start_workers()

    reached = wait_for(lambda: status_in(job.pk, {"completed", "partially_completed", "failed"}), timeout=240,
                       cluster=cluster, what="the render")

    assert reached == JobStatus.COMPLETED, VideoJob.objects.get(pk=job.pk).error
    assert_render_paid_once(fake, job)
    cluster.kill()
