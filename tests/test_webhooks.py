"""POST /api/v2/webhooks/replicate: signature (the Standard Webhooks test vector), freshness, replay,
and a real signed delivery from the fake server applied like a poll."""

from __future__ import annotations

import socket

import pytest

from tests.fake_replicate import WEBHOOK_TEST_VECTOR, FakeReplicate, sign
from tests.helpers import using_fake_replicate
from tests.jobs import generate_body
from videogen.api import webhooks
from videogen.models import JobStatus, Prediction, VideoJob
from videogen.pipeline.storyboard import run_storyboard_step

URL = "/api/v2/webhooks/replicate"
VECTOR = WEBHOOK_TEST_VECTOR


@pytest.fixture
def vector(settings, monkeypatch, clean_caches):
    settings.REPLICATE_WEBHOOK_SECRET = VECTOR["key"]
    monkeypatch.setattr(webhooks, "now", lambda: VECTOR["timestamp"] + 10)
    return dict(VECTOR)


def deliver(client, *, body: str, msg_id: str, timestamp, signature: str):
    return client.post(URL, data=body, content_type="application/json", HTTP_WEBHOOK_ID=msg_id,
                       HTTP_WEBHOOK_TIMESTAMP=str(timestamp), HTTP_WEBHOOK_SIGNATURE=signature)


def deliver_vector(client, vector: dict):
    return deliver(client, body=vector["body"], msg_id=vector["id"], timestamp=vector["timestamp"],
                   signature=vector["signature"])


def test_the_documented_test_vector_is_accepted(anon, vector):
    response = deliver_vector(anon, vector)

    assert response.status_code == 200
    assert response.json() == {"result": "ignored"}  # valid, but not a prediction of ours


def test_a_wrong_signature_is_refused(anon, vector):
    vector["signature"] = "v1,Ygq6mw2ByTxvKsd+Q0VFSyJvQLHJB4iJOl5FYjA7PDw="

    response = deliver_vector(anon, vector)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_webhook"


def test_a_tampered_body_is_refused(anon, vector):
    vector["body"] = '{"test": 2432232315}'

    assert deliver_vector(anon, vector).status_code == 401


def test_a_garbled_signature_is_refused_not_a_server_error(anon, vector):
    vector["signature"] = "v1,not*base64"

    assert deliver_vector(anon, vector).status_code == 401


def test_an_unsigned_request_is_refused(anon, vector):
    response = anon.post(URL, data=vector["body"], content_type="application/json")

    assert response.status_code == 401


def test_a_timestamp_older_than_five_minutes_is_refused(anon, vector, monkeypatch):
    monkeypatch.setattr(webhooks, "now", lambda: VECTOR["timestamp"] + 301)

    assert deliver_vector(anon, vector).status_code == 401


def test_a_replayed_webhook_id_is_refused(anon, vector):
    assert deliver_vector(anon, vector).status_code == 200

    response = deliver_vector(anon, vector)

    assert response.status_code == 401
    assert "already" in response.json()["detail"]


def test_webhooks_are_refused_when_no_secret_is_configured(anon, vector, settings):
    settings.REPLICATE_WEBHOOK_SECRET = ""

    assert deliver_vector(anon, vector).status_code == 401


# --- A real delivery from the fake ------------------------------------------------------------


@pytest.fixture
def fake(settings, tasks, clean_caches):
    with socket.socket() as sock:  # nothing listens here: the fake's own delivery fails and is recorded
        sock.bind(("127.0.0.1", 0))
        unreachable = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with FakeReplicate(latency=0.2, webhook_retries=0) as fake, using_fake_replicate(
        settings, fake, PUBLIC_BASE_URL=unreachable, REPLICATE_WEBHOOK_SECRET=fake.webhook_secret
    ):
        yield fake


def forward(client, record: dict):
    """Replays what the fake tried to deliver, byte for byte, to our endpoint."""
    headers = record["headers"]
    return deliver(client, body=record["body"], msg_id=headers["webhook-id"],
                   timestamp=headers["webhook-timestamp"], signature=headers["webhook-signature"])


def started_storyboard(api, tenant) -> VideoJob:
    response = api.post("/api/v2/generate", generate_body(tenant, duration=15), format="json")
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    run_storyboard_step(job.pk, job.run)  # parse
    run_storyboard_step(job.pk, job.run)  # create one prediction per scene
    return job


def test_a_signed_completion_is_applied_without_polling_and_queues_the_next_step(
    api, anon, tenant, fake, tasks, settings
):
    job = started_storyboard(api, tenant)
    tasks.queued.clear()
    gets_before = fake.gets
    assert {create["webhook"] for create in fake.creates} == {f"{settings.PUBLIC_BASE_URL}/api/v2/webhooks/replicate"}
    records = fake.wait_for_webhooks(3, timeout=10)
    assert len(records) == 3

    for record in records:
        assert forward(anon, record).json() == {"result": "applied", "status": "succeeded"}

    assert fake.gets == gets_before
    assert set(Prediction.objects.filter(job=job).values_list("status", flat=True)) == {"succeeded"}
    assert tasks.names() == ["build_storyboard"] * 3
    tasks.drain()
    assert VideoJob.objects.get(pk=job.pk).status == JobStatus.STORYBOARD_COMPLETE
    assert fake.gets == gets_before  # the outputs were collected without a single poll


def test_a_second_delivery_of_a_settled_prediction_changes_nothing(api, anon, tenant, fake, tasks):
    started_storyboard(api, tenant)
    record = fake.wait_for_webhooks(3, timeout=10)[0]
    assert forward(anon, record).status_code == 200
    tasks.queued.clear()
    fake.resend_webhook(record["prediction_id"])  # a duplicate under a new webhook id
    duplicate = fake.wait_for_webhooks(4, timeout=10)[-1]

    response = forward(anon, duplicate)

    assert response.status_code == 200
    assert response.json() == {"result": "ignored"}
    assert tasks.queued == []


def test_a_failed_prediction_reported_by_webhook_is_recorded_as_failed(api, anon, tenant, fake, tasks):
    fake.script("create", {"behaviour": "fail", "error": "NSFW content detected"})
    job = started_storyboard(api, tenant)
    failed = Prediction.objects.get(job=job, scene__number=1)
    record = next(r for r in fake.wait_for_webhooks(3, timeout=10) if r["prediction_id"] == failed.external_id)

    forward(anon, record)

    failed.refresh_from_db()
    assert (failed.status, failed.error) == ("failed", "NSFW content detected")


def test_a_webhook_for_an_unknown_prediction_is_acknowledged_and_ignored(anon, vector):
    body = '{"id": "not-ours", "status": "succeeded", "output": ["http://x/y.png"]}'
    timestamp = VECTOR["timestamp"]

    response = deliver(anon, body=body, msg_id="msg_1", timestamp=timestamp,
                       signature=sign("msg_1", timestamp, body, VECTOR["key"]))

    assert response.status_code == 200
    assert response.json() == {"result": "ignored"}
