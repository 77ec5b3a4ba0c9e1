"""GET /api/v2/jobs/{job_id}/events: Server-Sent Events served by a real uvicorn process.

The job's status is moved by the real state machine in this process (committed: transactional_db),
so each test also proves the change crossed processes through the configured backend (version
checks on SQLite, LISTEN/NOTIFY on PostgreSQL, pub/sub on Redis).
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from tests.sse import events
from videogen.models import JobEvent, JobStatus, VideoJob
from videogen.pipeline import state
from videogen.signed_urls import make_events_token

pytestmark = [pytest.mark.django_db(transaction=True)]


def backends() -> list[str]:
    from django.conf import settings

    found = ["poll"] if "sqlite" in settings.DATABASES["default"]["ENGINE"] else ["postgres"]
    if settings.REDIS_URL:
        found.append("redis")
    return found


@pytest.fixture
def server(asgi_server, settings):
    def start(**env: str):
        env.setdefault("EVENTS_BACKEND", settings.EVENTS_BACKEND)
        return asgi_server(**env)

    return start


def make_job(owner=None) -> tuple[VideoJob, str]:
    client = ClientFactory()
    owner = owner or UserFactory()
    MembershipFactory(user=owner, client=client)
    campaign = CampaignFactory(client=client)
    job = VideoJob.objects.create(client=client, campaign=campaign, created_by=owner, video_name="Live",
                                  creative_prompt="A runner at dawn", duration=15, platform="tiktok",
                                  aspect_ratio="9:16")
    return job, str(RefreshToken.for_user(owner).access_token)


def statuses_of(received) -> list[str]:
    """The statuses in the order the stream showed them (progress events repeat a status: collapsed)."""
    shown: list[str] = []
    for event in received:
        if event.event == "job" and (not shown or shown[-1] != event.document["status"]):
            shown.append(event.document["status"])
    return shown


def read_until_closed(response, on_event=None) -> list:
    received = []
    for event in events(response):
        received.append(event)
        if on_event is not None:
            on_event(event)
    return received


@pytest.mark.parametrize("backend", backends())
def test_a_stream_sends_every_status_change_in_order_with_the_version_as_id(server, settings, backend):
    settings.EVENTS_BACKEND = backend  # how this process (the writer) publishes
    live = server(EVENTS_BACKEND=backend)
    job, token = make_job()

    def advance(event) -> None:
        # Each change is made once the stream showed the previous one, from another thread (a "worker").
        steps = {
            JobStatus.GENERATING_STORYBOARD: lambda: state.transition(job.pk, JobStatus.STORYBOARD_COMPLETE),
            JobStatus.STORYBOARD_COMPLETE: lambda: state.transition(job.pk, JobStatus.GENERATING_VIDEO, new_run=True),
            JobStatus.GENERATING_VIDEO: lambda: state.transition(job.pk, JobStatus.COMPLETED),
        }
        if event.event == "job" and event.document["status"] in steps:
            step = steps[event.document["status"]]
            threading.Thread(target=lambda: (step(), connection.close())).start()

    with httpx.stream("GET", f"{live.base_url}/api/v2/jobs/{job.pk}/events",
                      headers={"Authorization": f"Bearer {token}"}, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        received = [event for event in read_until_closed(response, advance) if event.event == "job"]

    assert statuses_of(received) == ["generating_storyboard", "storyboard_complete", "generating_video", "completed"]
    versions = [int(event.id) for event in received]
    assert versions == sorted(set(versions))
    assert versions[-1] == VideoJob.objects.get(pk=job.pk).version
    assert received[-1].document["job_id"] == job.pk


@pytest.mark.parametrize("backend", backends())
def test_statuses_changed_between_two_wakeups_are_all_sent(server, settings, backend):
    settings.EVENTS_BACKEND = backend
    live = server(EVENTS_BACKEND=backend, EVENTS_POLL_INTERVAL="2")
    job, token = make_job()

    def burst(event) -> None:
        if event.event == "job" and event.document["status"] == JobStatus.GENERATING_STORYBOARD:
            def run() -> None:
                state.transition(job.pk, JobStatus.STORYBOARD_COMPLETE)
                state.transition(job.pk, JobStatus.GENERATING_VIDEO, new_run=True)
                state.report_progress(job.pk, run=2, stage="rendering_video", percentage=70)
                state.transition(job.pk, JobStatus.FAILED, error="The render failed.")
                connection.close()
            threading.Thread(target=run).start()

    with httpx.stream("GET", f"{live.base_url}/api/v2/jobs/{job.pk}/events",
                      headers={"Authorization": f"Bearer {token}"}, timeout=30) as response:
        received = [event for event in read_until_closed(response, burst) if event.event == "job"]

    assert statuses_of(received) == ["generating_storyboard", "storyboard_complete", "generating_video", "failed"]
    assert received[-1].document["error"] == "The render failed."


def test_reconnecting_with_last_event_id_replays_every_status_missed(server):
    live = server()
    job, token = make_job()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", f"{live.base_url}/api/v2/jobs/{job.pk}/events", headers=headers, timeout=30) as response:
        first = next(event for event in events(response) if event.event == "job")
    # Disconnected: the job moves on through three statuses and some progress.
    state.transition(job.pk, JobStatus.STORYBOARD_COMPLETE)
    state.transition(job.pk, JobStatus.GENERATING_VIDEO, new_run=True)
    state.report_progress(job.pk, run=2, stage="rendering_video", percentage=80)
    state.transition(job.pk, JobStatus.COMPLETED)

    with httpx.stream("GET", f"{live.base_url}/api/v2/jobs/{job.pk}/events",
                      headers={**headers, "Last-Event-ID": first.id}, timeout=30) as response:
        received = [event for event in read_until_closed(response) if event.event == "job"]

    assert statuses_of(received) == ["storyboard_complete", "generating_video", "completed"]
    transitions = list(JobEvent.objects.filter(job=job, kind="status").values_list("to_status", flat=True))
    assert transitions == statuses_of(received)
    assert all(int(event.id) > int(first.id) for event in received)
    assert int(received[-1].id) == VideoJob.objects.get(pk=job.pk).version


def test_reconnecting_to_a_finished_job_after_its_last_event_answers_204(server):
    live = server()
    job, token = make_job()
    state.transition(job.pk, JobStatus.CANCELLED)
    version = VideoJob.objects.get(pk=job.pk).version
    url = f"{live.base_url}/api/v2/jobs/{job.pk}/events"

    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as response:
        received = [event for event in read_until_closed(response) if event.event == "job"]
    assert [(int(event.id), event.document["status"]) for event in received] == [(version, "cancelled")]

    again = httpx.get(url, headers={"Authorization": f"Bearer {token}", "Last-Event-ID": str(version)}, timeout=10)
    assert again.status_code == 204


def test_an_idle_stream_sends_a_heartbeat_comment(server):
    live = server(EVENTS_HEARTBEAT_SECONDS="0.5")
    job, token = make_job()
    started = time.monotonic()
    with httpx.stream("GET", f"{live.base_url}/api/v2/jobs/{job.pk}/events",
                      headers={"Authorization": f"Bearer {token}"}, timeout=30) as response:
        seen = []
        for event in events(response):
            seen.append(event)
            if event.event == "comment":
                break
    assert [event.event for event in seen] == ["job", "comment"]
    assert seen[-1].data == "heartbeat"
    assert time.monotonic() - started < 10


def test_a_stream_closes_after_its_maximum_lifetime_and_the_reconnect_resumes_after_the_last_event(server):
    live = server(EVENTS_MAX_STREAM_SECONDS="1", EVENTS_HEARTBEAT_SECONDS="0.3")
    job, token = make_job()
    url = f"{live.base_url}/api/v2/jobs/{job.pk}/events"
    def not_forever(event) -> None:  # heartbeats every 0.3 s: 30 of them mean the stream never closed
        seen.append(event)
        assert len(seen) < 30, "the stream outlived EVENTS_MAX_STREAM_SECONDS"

    seen: list = []
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as response:
        first = [event for event in read_until_closed(response, not_forever) if event.event == "job"]
    assert statuses_of(first) == ["generating_storyboard"]  # the job is still running: the server closed it
    state.transition(job.pk, JobStatus.CANCELLED)

    headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": first[-1].id}
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        resumed = [event for event in read_until_closed(response) if event.event == "job"]
    assert statuses_of(resumed) == ["cancelled"]
    assert int(resumed[0].id) > int(first[-1].id)


def test_the_signed_events_url_of_the_job_document_opens_the_stream_without_a_header(server):
    live = server()
    job, token = make_job()
    document = httpx.get(f"{live.base_url}/api/v2/jobs/{job.pk}", headers={"Authorization": f"Bearer {token}"},
                         timeout=10).json()
    assert document["eventsUrl"].startswith(f"{live.base_url}/api/v2/jobs/{job.pk}/events?token=")
    state.transition(job.pk, JobStatus.CANCELLED)

    with httpx.stream("GET", document["eventsUrl"], timeout=30) as response:
        assert response.status_code == 200
        received = [event for event in read_until_closed(response) if event.event == "job"]
    assert statuses_of(received) == ["cancelled"]


# --- Refusals (JSON, no stream): in-process, through Django's ASGI-capable test client -----------

def test_a_signed_url_for_another_job_is_404(client):
    job, _ = make_job()
    other, _ = make_job()
    response = client.get(f"/api/v2/jobs/{job.pk}/events", {"token": make_events_token(other.pk, ttl=600)})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_expired_signed_url_is_403(client):
    job, _ = make_job()
    response = client.get(f"/api/v2/jobs/{job.pk}/events", {"token": make_events_token(job.pk, ttl=-600)})
    assert response.status_code == 403
    assert response.json()["code"] == "link_expired"


def test_a_forged_signed_url_is_403(client):
    job, _ = make_job()
    genuine = make_events_token(job.pk, ttl=600)
    forged = genuine.replace(genuine.split(":")[0], make_events_token(job.pk + 1, ttl=600).split(":")[0])
    response = client.get(f"/api/v2/jobs/{job.pk}/events", {"token": forged})
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_link"


def test_another_tenants_job_is_404_with_a_bearer_token(client):
    job, _ = make_job()
    _, stranger_token = make_job()
    response = client.get(f"/api/v2/jobs/{job.pk}/events", HTTP_AUTHORIZATION=f"Bearer {stranger_token}")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_no_credentials_is_401(client):
    job, _ = make_job()
    response = client.get(f"/api/v2/jobs/{job.pk}/events")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_bad_bearer_token_is_401(client):
    job, _ = make_job()
    response = client.get(f"/api/v2/jobs/{job.pk}/events", HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def finished_job_seen_to_the_end(owner=None) -> tuple[VideoJob, str]:
    job, token = make_job(owner)
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)
    job.refresh_from_db()
    return job, token


def open_stream(client, job, token):
    return client.get(f"/api/v2/jobs/{job.pk}/events", HTTP_AUTHORIZATION=f"Bearer {token}",
                      HTTP_LAST_EVENT_ID=str(job.version))


@pytest.fixture
def three_streams_a_minute(monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "events": "3/min"})


def test_opening_more_streams_than_the_events_rate_is_429_with_retry_after(client, three_streams_a_minute):
    job, token = finished_job_seen_to_the_end()
    assert [open_stream(client, job, token).status_code for _ in range(3)] == [204, 204, 204]

    response = open_stream(client, job, token)

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_events_rate_is_counted_per_user(client, three_streams_a_minute):
    job, token = finished_job_seen_to_the_end()
    for _ in range(3):
        open_stream(client, job, token)
    other_job, other_token = finished_job_seen_to_the_end()

    assert open_stream(client, other_job, other_token).status_code == 204


def test_opening_a_stream_while_the_rate_limit_store_is_down_is_503_json(client, monkeypatch):
    from videogen import ratelimit
    from videogen.live import views

    def store_down(*args):
        raise ratelimit.RateLimitUnavailable("connection refused")

    monkeypatch.setattr(views, "scope_hit", store_down)
    job, token = finished_job_seen_to_the_end()

    response = open_stream(client, job, token)

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"
