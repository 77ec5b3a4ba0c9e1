"""Status callbacks: signed POSTs to the job's callbackUrl, retried with backoff, never to internal addresses.

The receiver is a real HTTP server on 127.0.0.1 (allowed through CALLBACK_ALLOWED_HOSTS, with
CALLBACK_ALLOW_HTTP so plain http may reach it: see README, "Job callbacks"). Deliveries run through
the real task function; the clock of a retry is passed as `now`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import VideoJobFactory
from tests.jobs import generate_body
from tests.servers import Receiver
from videogen import callbacks
from videogen.models import CallbackAttempt, CallbackDelivery, JobStatus, VideoJob
from videogen.pipeline import state


@pytest.fixture
def receiver(settings):
    settings.CALLBACK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CALLBACK_ALLOW_HTTP = True
    made: list[Receiver] = []

    def start(*answers: int) -> Receiver:
        made.append(Receiver(list(answers) or [200]))
        return made[-1]

    yield start
    for instance in made:
        instance.close()


@pytest.fixture
def secret(tenant) -> str:
    return callbacks.rotate_secret(tenant.client)


def job_calling_back(tenant, url: str) -> VideoJob:
    return VideoJobFactory(client=tenant.client, campaign=tenant.campaign, callback_url=url)


def test_every_status_change_is_posted_in_order_signed_with_the_clients_secret(tenant, secret, receiver, tasks):
    hook = receiver(200)
    job = job_calling_back(tenant, hook.url)
    state.transition(job.pk, JobStatus.STORYBOARD_COMPLETE)
    state.transition(job.pk, JobStatus.GENERATING_VIDEO, new_run=True)
    tasks.drain()

    assert len(hook.requests) == 2
    statuses = []
    for headers, body in hook.requests:
        timestamp, _, digest = headers["x-videogen-signature"].partition(",v1=")
        timestamp = int(timestamp.removeprefix("t="))
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(digest, expected)
        assert abs(time.time() - timestamp) < 60
        assert headers["content-type"] == "application/json"
        payload = json.loads(body)
        assert payload["event"] == "job.status_changed"
        assert payload["job"]["job_id"] == job.pk
        statuses.append(payload["job"]["status"])
    assert statuses == ["storyboard_complete", "generating_video"]
    assert set(CallbackDelivery.objects.filter(job=job).values_list("state", flat=True)) == {"delivered"}


def test_a_signature_made_with_another_secret_does_not_verify(tenant, secret, receiver, tasks):
    hook = receiver(200)
    job = job_calling_back(tenant, hook.url)
    state.transition(job.pk, JobStatus.CANCELLED)
    tasks.drain()
    headers, body = hook.requests[0]
    assert callbacks.verify_signature(secret, headers["x-videogen-signature"], body)
    assert not callbacks.verify_signature("whsec_another", headers["x-videogen-signature"], body)
    assert not callbacks.verify_signature(secret, headers["x-videogen-signature"], body + b" ")


def test_a_receiver_answering_500_gets_the_same_body_again_after_the_backoff(tenant, secret, receiver, tasks):
    hook = receiver(500, 200)
    job = job_calling_back(tenant, hook.url)
    state.transition(job.pk, JobStatus.CANCELLED)
    tasks.drain()
    delivery = CallbackDelivery.objects.get(job=job)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at - timezone.now() > timedelta(seconds=50)

    assert callbacks.deliver_callback(delivery.pk) == "not_due"  # nothing is sent before the backoff ends
    assert len(hook.requests) == 1
    assert callbacks.deliver_callback(delivery.pk, now=delivery.next_attempt_at) == "delivered"

    attempts = list(CallbackAttempt.objects.filter(delivery=delivery).values_list("number", "status_code"))
    assert attempts == [(1, 500), (2, 200)]
    assert [body for _, body in hook.requests] == [delivery.body.encode()] * 2
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.next_attempt_at is None


def test_the_backoff_grows_and_deliveries_give_up_after_24_hours(tenant, secret, receiver, tasks):
    hook = receiver(503)
    job = job_calling_back(tenant, hook.url)
    state.transition(job.pk, JobStatus.CANCELLED)
    tasks.drain()
    delivery = CallbackDelivery.objects.get(job=job)
    delays = []
    while delivery.state == "pending":
        due = delivery.next_attempt_at
        delays.append(due)
        callbacks.deliver_callback(delivery.pk, now=due)
        delivery.refresh_from_db()
    gaps = [later - earlier for earlier, later in zip(delays, delays[1:], strict=False)]
    assert gaps == sorted(gaps) and gaps[0] < gaps[-1]
    assert delivery.state == "failed" and delivery.next_attempt_at is None
    assert delays[-1] - delivery.created_at <= timedelta(hours=24)
    assert len(hook.requests) == delivery.attempts == CallbackAttempt.objects.filter(delivery=delivery).count()


def test_the_sweeper_queues_the_deliveries_that_are_due(tenant, secret, receiver, tasks):
    hook = receiver(500)
    job = job_calling_back(tenant, hook.url)
    state.transition(job.pk, JobStatus.CANCELLED)
    tasks.drain()
    delivery = CallbackDelivery.objects.get(job=job)
    assert callbacks.deliver_due_callbacks(now=timezone.now()) == 0
    assert callbacks.deliver_due_callbacks(now=delivery.next_attempt_at) == 1
    assert tasks.queued[-1][0] == callbacks.DELIVER_TASK and tasks.queued[-1][1] == (delivery.pk,)


def test_the_address_is_checked_again_when_sending(tenant, secret, receiver, tasks, settings):
    # The name resolved to a public address when the job was created; now it resolves to loopback
    # (DNS rebinding) and is not an allowed host: nothing is sent.
    hook = receiver(200)
    job = job_calling_back(tenant, hook.url.replace("127.0.0.1", "localhost"))
    settings.CALLBACK_ALLOWED_HOSTS = []
    state.transition(job.pk, JobStatus.CANCELLED)
    tasks.drain()
    attempt = CallbackAttempt.objects.get(delivery__job=job)
    assert attempt.status_code is None and attempt.error.startswith("Refused")
    assert hook.requests == []


def test_a_job_without_a_callback_url_queues_no_delivery(tenant, secret, tasks):
    job = VideoJobFactory(client=tenant.client, campaign=tenant.campaign)
    state.transition(job.pk, JobStatus.CANCELLED)
    tasks.drain()
    assert not CallbackDelivery.objects.filter(job=job).exists()


# --- /generate: callbackUrl -----------------------------------------------------------------------

def test_generate_stores_a_public_https_callback_url_and_the_document_shows_it(api, tenant, secret, tasks):
    url = "https://93.184.216.34/hooks/videogen"
    response = api.post("/api/v2/generate", generate_body(tenant, callbackUrl=url), format="json")
    assert response.status_code == 202, response.json()
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    assert job.callback_url == url
    assert api.get(f"/api/v2/jobs/{job.pk}").json()["callbackUrl"] == url


@pytest.mark.parametrize("url", [
    "http://93.184.216.34/hook",  # not https
    "https://127.0.0.1/hook",  # loopback
    "https://localhost/hook",  # a name that resolves to loopback
    "https://[::1]/hook",  # IPv6 loopback
    "https://10.1.2.3/hook",  # private
    "https://172.16.5.4/hook",  # private
    "https://192.168.0.10/hook",  # private
    "https://[fd12:3456::1]/hook",  # IPv6 unique local
    "https://169.254.10.20/hook",  # link-local
    "https://[fe80::1]/hook",  # IPv6 link-local
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://metadata.google.internal/computeMetadata/v1/",  # cloud metadata by name
    "https://[::ffff:127.0.0.1]/hook",  # IPv4 loopback inside IPv6
    "https://0.0.0.0/hook",  # unspecified
])
def test_generate_refuses_a_callback_url_that_is_not_public_https(api, tenant, secret, tasks, url):
    response = api.post("/api/v2/generate", generate_body(tenant, callbackUrl=url), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["callbackUrl"]
    assert not VideoJob.objects.exists()


def test_generate_refuses_a_callback_url_for_a_client_without_a_secret(api, tenant, tasks):
    response = api.post("/api/v2/generate", generate_body(tenant, callbackUrl="https://93.184.216.34/hook"),
                        format="json")
    assert response.status_code == 400
    assert "secret" in response.json()["fields"]["callbackUrl"][0]
    assert not VideoJob.objects.exists()


def test_an_allowed_host_may_use_http_only_when_the_setting_says_so(api, tenant, secret, tasks, settings):
    settings.CALLBACK_ALLOWED_HOSTS = ["127.0.0.1"]
    body = generate_body(tenant, callbackUrl="http://127.0.0.1:9/hook")
    settings.CALLBACK_ALLOW_HTTP = False
    assert api.post("/api/v2/generate", body, format="json").status_code == 400
    settings.CALLBACK_ALLOW_HTTP = True
    assert api.post("/api/v2/generate", body, format="json").status_code == 202


# --- Admin: the secret shown once, attempts in the job console -----------------------------------

def test_rotating_the_secret_in_admin_shows_it_once(admin_client, tenant):
    response = admin_client.post(reverse("admin:clients_client_changelist"), {
        "action": "rotate_callback_secret", "_selected_action": [str(tenant.client.pk)],
    })
    tenant.client.refresh_from_db()
    assert tenant.client.callback_secret.startswith("whsec_")
    assert tenant.client.callback_secret in response.content.decode()
    change_page = admin_client.get(reverse("admin:clients_client_change", args=[tenant.client.pk])).content.decode()
    assert tenant.client.callback_secret not in change_page
    assert "shown once" in change_page


def test_rotating_again_replaces_the_secret(admin_client, tenant, secret):
    admin_client.post(reverse("admin:clients_client_changelist"), {
        "action": "rotate_callback_secret", "_selected_action": [str(tenant.client.pk)],
    })
    tenant.client.refresh_from_db()
    assert tenant.client.callback_secret not in ("", secret)


def test_the_job_console_lists_each_delivery_attempt(admin_client, tenant, secret, receiver, tasks):
    hook = receiver(500, 204)
    job = job_calling_back(tenant, hook.url)
    state.transition(job.pk, JobStatus.CANCELLED)
    tasks.drain()
    delivery = CallbackDelivery.objects.get(job=job)
    callbacks.deliver_callback(delivery.pk, now=delivery.next_attempt_at)
    page = admin_client.get(reverse("admin:videogen_videojob_change", args=[job.pk])).content.decode()
    section = page[page.index('id="callbacks"'):page.index('id="predictions"')]
    assert "HTTP 500" in section and "HTTP 204" in section
    assert "#1" in section and "#2" in section and "delivered" in section


def test_a_later_status_change_waits_until_the_earlier_one_is_delivered(tenant, secret, receiver, tasks):
    hook = receiver(500, 200)
    job = job_calling_back(tenant, hook.url)
    state.transition(job.pk, JobStatus.STORYBOARD_COMPLETE)
    state.transition(job.pk, JobStatus.GENERATING_VIDEO, new_run=True)
    first, second = CallbackDelivery.objects.filter(job=job).order_by("version")
    tasks.queued.clear()

    assert callbacks.deliver_callback(second.pk) == "waiting"  # its task ran first: it must not overtake
    assert callbacks.deliver_callback(first.pk) == "pending"  # the receiver answered 500
    assert callbacks.deliver_callback(second.pk) == "waiting"
    assert callbacks.deliver_callback(first.pk, now=timezone.now() + timedelta(minutes=2)) == "delivered"
    assert [args for _, args, _ in tasks.queued] == [(second.pk,)]  # the earlier one queues the next
    tasks.drain()

    posted = [(headers["x-videogen-job-version"], json.loads(body)["job"]["status"]) for headers, body in hook.requests]
    assert posted == [(str(first.version), "storyboard_complete"), (str(first.version), "storyboard_complete"),
                      (str(second.version), "generating_video")]


def test_migrate_creates_the_sweeper_schedule(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="videogen.callbacks.deliver_due_callbacks")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
