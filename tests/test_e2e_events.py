"""End to end: a real job run by a real django-q2 worker, watched through the live-updates stream of
a real uvicorn server, exactly as a browser's EventSource would (plain HTTP streaming), and through
the signed status callbacks the worker POSTs to a receiver."""

from __future__ import annotations

import json

import httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from clients.models import Membership
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from tests.servers import Receiver
from tests.sse import events
from tests.workers import wait_for
from videogen import callbacks
from videogen.models import JobEvent, JobStatus, VideoJob

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_stream_and_the_callbacks_see_every_status_of_a_worker_run_job_in_order(qcluster, asgi_server, settings):
    settings.VIDEOGEN_PROVIDER = "local"
    receiving = {"CALLBACK_ALLOWED_HOSTS": "127.0.0.1", "CALLBACK_ALLOW_HTTP": "1"}
    cluster = qcluster(**receiving)
    live = asgi_server(VIDEOGEN_PROVIDER="local", **receiving)
    hook = Receiver([200])
    user = UserFactory()
    client = ClientFactory()
    secret = callbacks.rotate_secret(client)
    MembershipFactory(user=user, client=client, role=Membership.Role.OWNER)
    campaign = CampaignFactory(client=client)
    api = httpx.Client(base_url=live.base_url, timeout=30)
    api.headers["Authorization"] = f"Bearer {RefreshToken.for_user(user).access_token}"
    created = api.post("/api/v2/generate", json={
        "campaignId": str(campaign.id), "clientId": str(client.id), "videoName": "Live E2E",
        "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
        "duration": 15, "platform": "tiktok", "numberOfVariations": 1, "callbackUrl": hook.url,
    })
    assert created.status_code == 202, created.text
    job_id = created.json()["job_id"]
    events_url = api.get(f"/api/v2/jobs/{job_id}").json()["eventsUrl"]

    # First connection (the signed URL, no header): from the start until rendering has begun.
    first: list = []
    with httpx.stream("GET", events_url, timeout=300) as response:
        assert response.status_code == 200
        for event in events(response):
            if event.event != "job":
                continue
            first.append(event)
            status = event.document["status"]
            if status == JobStatus.STORYBOARD_COMPLETE and not any(
                e.document["status"] == JobStatus.GENERATING_VIDEO for e in first
            ):
                assert api.post(f"/api/v2/jobs/{job_id}/render").status_code == 202
            if status == JobStatus.GENERATING_VIDEO or status in ("failed", "needs_clarification"):
                break
    assert first[-1].document["status"] == JobStatus.GENERATING_VIDEO, cluster.log()

    # Second connection resumes where the first stopped, until the stream ends after the last status.
    second: list = []
    with httpx.stream("GET", events_url, headers={"Last-Event-ID": first[-1].id}, timeout=600) as response:
        assert response.status_code == 200
        second = [event for event in events(response) if event.event == "job"]

    received = first + second
    versions = [int(event.id) for event in received]
    assert versions == sorted(set(versions)), "event ids are the job's versions, strictly increasing"
    shown = []
    for event in received:
        if not shown or shown[-1] != event.document["status"]:
            shown.append(event.document["status"])
    transitions = list(JobEvent.objects.filter(job_id=job_id, kind="status").values_list("to_status", flat=True))
    assert shown == ["generating_storyboard", *transitions]
    assert shown[-1] == JobStatus.COMPLETED, VideoJob.objects.get(pk=job_id).error
    assert second[-1].document["progress"]["percentage"] == 100
    assert int(second[-1].id) == VideoJob.objects.get(pk=job_id).version
    # Storyboard progress arrived as it happened, not only the statuses.
    percentages = [event.document["progress"]["percentage"] for event in received]
    assert len(set(percentages)) >= 4

    # The rest of the API works under the ASGI server too: the finished video downloads, with Range.
    video = api.get(f"/api/v2/jobs/{job_id}/data", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and len(video.content) == 100 and video.content[4:8] == b"ftyp"
    assert len(api.get(f"/api/v2/jobs/{job_id}/data").content) == int(video.headers["Content-Range"].split("/")[1])

    # The worker POSTed every status change to the callback URL, in order, each signed.
    wait_for(lambda: len(hook.requests) >= len(transitions), timeout=30, cluster=cluster, what="the callbacks")
    hook.close()
    posted = [json.loads(body)["job"]["status"] for _, body in hook.requests]
    assert posted == transitions
    assert all(callbacks.verify_signature(secret, headers["x-videogen-signature"], body)
               for headers, body in hook.requests)
