"""No worker waits on the provider: real qcluster workers (with the poller in their main process), the
fake Replicate server, and the webhook served by a live server.

Nothing here asserts on wall time. The claims are causal: with a latency far longer than any task
may run, every job got its predictions while none had finished (two workers could only do that if no
task waited); with the poller silenced, only the webhook can explain a finished storyboard.
"""

from __future__ import annotations

import json

import pytest

from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from tests.fake_replicate import DEFAULT_WEBHOOK_SECRET, FakeReplicate
from tests.helpers import clear_caches, using_fake_replicate
from tests.workers import wait_for
from videogen import services
from videogen.api.serializers import GenerationRequestSerializer
from videogen.models import CostEntry, JobStatus, Prediction, ServiceLease, VideoJob
from videogen.pipeline.poller import LEASE_NAME

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

FLUX = "black-forest-labs/flux-schnell"
SLOW_LATENCY = 600.0  # far longer than the test: no prediction finishes while it runs
JOBS = 20


def marketer():
    user, client = UserFactory(), ClientFactory()
    MembershipFactory(user=user, client=client)
    campaign = CampaignFactory(client=client)
    return user, client, campaign


def generate(api, client, campaign, n: int) -> int:
    response = api.post("/api/v2/generate", generate_body(client, campaign, n), format="json")
    assert response.status_code == 202, response.json()
    return response.json()["job_id"]


def generate_body(client, campaign, n: int) -> dict:
    return {
        "campaignId": str(campaign.id), "clientId": str(client.id), "videoName": f"Parallel {n}",
        "creativePrompt": f"Runner {n} at dawn, then shoe {n} close-up, then finish line crowd {n}",
        "duration": 15, "platform": "tiktok",
    }


def create_jobs(user, client, campaign, count: int) -> list[int]:
    """As POST /generate does, past its per-user throttle (5/min): one user starts twenty jobs."""
    job_ids = []
    for n in range(count):
        serializer = GenerationRequestSerializer(data=generate_body(client, campaign, n))
        serializer.is_valid(raise_exception=True)
        created = services.create_job(user=user, data=serializer.to_job_fields(campaign), idempotency_key=None)
        job_ids.append(created.job.pk)
    return job_ids


def worker_env(fake: FakeReplicate, **extra: str) -> dict[str, str]:
    return {"VIDEOGEN_PROVIDER": "replicate", "REPLICATE_API_TOKEN": "test", "REPLICATE_BASE_URL": fake.base_url,
            "REPLICATE_STORYBOARD_MODEL": FLUX, "PUBLIC_BASE_URL": "", "Q_WORKERS": "2", **extra}


def storyboard_task_seconds(cluster) -> list[float]:
    """How long each storyboard task ran, from the workers' own `task_finished` log lines (django-q2's
    Task rows time from the enqueue, so they include the wait in the queue)."""
    seconds = []
    for line in cluster.log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "task_finished" and record.get("task") == "build_storyboard":
            seconds.append(record["duration_ms"] / 1000)
    return seconds


def every_job_waits_on_its_predictions(job_ids: list[int]) -> bool:
    rows = list(Prediction.objects.filter(job_id__in=job_ids).values_list("job_id", "status", "external_id"))
    waiting = {job_id for job_id, status, pid in rows if pid and status in ("starting", "processing")}
    return len(rows) == 3 * len(job_ids) and waiting == set(job_ids)


def test_twenty_jobs_on_two_workers_all_get_their_predictions_while_none_has_finished(
    qcluster, settings, transactional_db
):
    with FakeReplicate(latency=SLOW_LATENCY) as fake, using_fake_replicate(settings, fake,
                                                                         REPLICATE_STORYBOARD_MODEL=FLUX):
        clear_caches()
        cluster = qcluster(**worker_env(fake, LOG_LEVEL="INFO", LOG_FORMAT="json"))
        user, client, campaign = marketer()
        job_ids = create_jobs(user, client, campaign, JOBS)

        wait_for(lambda: every_job_waits_on_its_predictions(job_ids), timeout=240, interval=0.25, cluster=cluster,
                 what=f"{JOBS} jobs with three predictions in flight each")
        wait_for(lambda: len(storyboard_task_seconds(cluster)) >= JOBS, timeout=60, cluster=cluster,
                 what="every storyboard task (it parses the brief and creates the predictions) to return")

        # Two workers served twenty jobs whose predictions take ten minutes: every task returned
        # (none holds a worker: no lease is held) and each ran a small fraction of one latency.
        durations = storyboard_task_seconds(cluster)
        assert max(durations) < SLOW_LATENCY / 10, max(durations)
        assert set(VideoJob.objects.filter(pk__in=job_ids).values_list("status", flat=True)) == {
            JobStatus.GENERATING_STORYBOARD
        }
        assert VideoJob.objects.filter(pk__in=job_ids, lease_expires_at__isnull=False).count() == 0
        assert fake.create_count(FLUX) == 3 * JOBS  # one prediction per scene, nothing created twice
        cluster.kill()


def test_with_webhooks_a_storyboard_completes_without_a_single_poll(qcluster, settings, live_server, bearer_client):
    with FakeReplicate(latency=2.0) as fake, using_fake_replicate(settings, fake, REPLICATE_STORYBOARD_MODEL=FLUX):
        settings.PUBLIC_BASE_URL = live_server.url
        settings.REPLICATE_WEBHOOK_SECRET = DEFAULT_WEBHOOK_SECRET
        clear_caches()
        # The poller ticks once when it starts, then not for an hour: only a webhook can wake a step.
        cluster = qcluster(**worker_env(fake, PUBLIC_BASE_URL=live_server.url,
                                        REPLICATE_WEBHOOK_SECRET=DEFAULT_WEBHOOK_SECRET, POLLER_INTERVAL="3600"))
        wait_for(lambda: ServiceLease.objects.filter(name=LEASE_NAME).exclude(owner="").exists(), timeout=60,
                 cluster=cluster, what="the poller's first (and only) tick")
        user, client, campaign = marketer()
        job_id = generate(bearer_client(user), client, campaign, 1)

        reached = wait_for(
            lambda: VideoJob.objects.filter(pk=job_id, status__in=["storyboard_complete", "failed"])
            .values_list("status", flat=True).first(),
            timeout=120, cluster=cluster, what="the storyboard",
        )

        assert reached == JobStatus.STORYBOARD_COMPLETE, VideoJob.objects.get(pk=job_id).error
        assert fake.gets == 0  # nobody asked the provider: every completion came by webhook
        delivered = {record["prediction_id"] for record in fake.webhooks if record["http_status"] == 200}
        assert delivered == set(Prediction.objects.filter(job_id=job_id).values_list("external_id", flat=True))
        assert CostEntry.objects.filter(job_id=job_id).count() == 3
        cluster.kill()
