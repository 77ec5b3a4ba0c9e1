"""Structured JSON logs: the format, the request id from the API call into its tasks,
levels for security events, and no secrets in any line."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import jwt
import pytest
import structlog
from django.conf import settings as django_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from config.logging import REDACTED, build_formatter, redact
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, VideoJobFactory
from tests.jobs import storyboard_complete_job
from videogen.models import JobStatus


class JsonLines:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def where(self, **fields) -> list[dict]:
        return [line for line in self.all() if all(line.get(k) == v for k, v in fields.items())]

    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def logs():
    """Every log record, stdlib or structlog, rendered by the formatter the settings configure."""
    root = logging.getLogger()
    configured = next(
        h.formatter for h in root.handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configured)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield JsonLines(stream)
    root.removeHandler(handler)
    root.setLevel(level)


# --- format ---------------------------------------------------------------------------------------


def test_settings_render_json_with_the_prd_fields(logs):
    assert django_settings.LOG_FORMAT == "json"

    logging.getLogger("videogen.pipeline").info("storyboard %s started", "generation", extra={"scene_count": 5})
    structlog.get_logger("videogen.pipeline").warning("retrying", job_id=7, campaign_id="abc", duration_ms=1250)

    first, second = logs.all()
    assert first["event"] == "storyboard generation started"
    assert first["level"] == "INFO"
    assert first["scene_count"] == 5
    assert first["timestamp"].endswith("Z") and "T" in first["timestamp"]
    assert list(second)[:3] == ["timestamp", "level", "event"]
    assert (second["level"], second["job_id"], second["campaign_id"], second["duration_ms"]) == (
        "WARNING", 7, "abc", 1250)


def test_django_and_django_q_records_are_json_too(logs):
    logging.getLogger("django.request").error("Internal Server Error: /x")
    logging.getLogger("django-q").error("worker died")

    assert [line["logger"] for line in logs.all()] == ["django.request", "django-q"]


def test_exceptions_are_rendered_inside_the_json_line(logs):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("videogen").exception("step failed")

    (line,) = logs.all()
    assert line["level"] == "ERROR"
    assert "ValueError: boom" in line["exception"]


def test_console_format_is_for_people():
    record = logging.LogRecord("videogen", logging.INFO, __file__, 1, "hello %s", ("world",), None)

    rendered = build_formatter("console").format(record)

    assert "hello world" in rendered
    assert not rendered.startswith("{")


# --- request id: from the API call into its tasks ------------------------------------------------


def test_every_request_logs_one_access_line_with_its_request_id_and_duration(api, logs):
    response = api.get("/api/v2/me", HTTP_X_REQUEST_ID="req-42")

    assert response["X-Request-ID"] == "req-42"
    (line,) = logs.where(event="request_finished")
    assert (line["request_id"], line["path"], line["status"], line["level"]) == ("req-42", "/api/v2/me", 200, "INFO")
    assert isinstance(line["duration_ms"], int)
    assert line["user_id"] is not None


def test_a_render_tasks_log_lines_carry_the_request_id_of_the_render_call(api, tenant, tasks, logs, monkeypatch):
    from videogen.pipeline import tasks as task_module

    job = storyboard_complete_job(tenant)

    def step(job_id: int, index: int, run: int) -> bool:  # stands in for FFmpeg: logs like the real step
        logging.getLogger("videogen.pipeline.render").info("variation %s rendered", index)
        return True

    monkeypatch.setattr(task_module, "run_variation_step", step)
    response = api.post(f"/api/v2/jobs/{job.pk}/render", HTTP_X_REQUEST_ID="abc123")
    assert response.status_code == 202
    assert tasks.names() == ["render_variation"]

    tasks.drain()

    (rendered,) = logs.where(event="variation 1 rendered")
    (finished,) = logs.where(event="task_finished", task="render_variation")
    for line in (rendered, finished):
        assert line["request_id"] == "abc123"
        assert line["job_id"] == job.pk
        assert line["campaign_id"] == str(tenant.campaign.id)
    assert isinstance(finished["duration_ms"], int)
    assert logs.where(event="request_finished", path=f"/api/v2/jobs/{job.pk}/render")[0]["request_id"] == "abc123"


def test_the_storyboard_pipeline_logs_under_the_request_id_of_generate(api, tenant, tasks, logs, settings):
    settings.VIDEOGEN_PROVIDER = "local"
    response = api.post("/api/v2/generate", {
        "campaignId": str(tenant.campaign.id), "clientId": str(tenant.client.id), "videoName": "Logs",
        "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
        "duration": 15, "platform": "meta", "aspectRatio": "1:1",
    }, format="json", HTTP_X_REQUEST_ID="gen-777")
    assert response.status_code == 202

    tasks.drain()

    task_lines = logs.where(task="build_storyboard")
    assert task_lines and all(line["request_id"] == "gen-777" for line in task_lines)
    assert logs.where(event="task_finished", task="build_storyboard", job_id=response.json()["job_id"])


def test_a_failing_task_logs_task_failed_at_error_and_reraises(db, logs):
    from config.logging import bind_job_context

    job = VideoJobFactory()
    with pytest.raises(RuntimeError), bind_job_context(job_id=job.pk, request_id="r-1", task="build_storyboard"):
        raise RuntimeError("database went away")

    (line,) = logs.where(event="task_failed")
    assert (line["level"], line["request_id"], line["error"]) == ("ERROR", "r-1", "RuntimeError")
    assert "database went away" in line["exception"]


# --- levels for security events -------------------------------------------------------------------


def test_a_forged_jwt_is_logged_as_a_critical_auth_bypass_attempt_without_the_token(user, logs):
    claims = dict(AccessToken.for_user(user).payload)
    forged = jwt.encode(claims, "not-our-secret-key-but-long-enough-for-hs256", algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

    response = client.get("/api/v2/me", HTTP_X_REQUEST_ID="evil-1")

    assert response.status_code == 401
    (line,) = logs.where(event="auth_bypass_attempt")
    assert (line["level"], line["reason"], line["request_id"], line["path"]) == (
        "CRITICAL", "bad_signature", "evil-1", "/api/v2/me")
    assert forged not in logs.text()
    assert forged.split(".")[2] not in logs.text()


def test_an_unsigned_alg_none_token_is_critical_too(user, logs):
    claims = dict(AccessToken.for_user(user).payload)
    unsigned = jwt.encode(claims, None, algorithm="none")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {unsigned}")

    assert client.get("/api/v2/me").status_code == 401
    assert logs.where(event="auth_bypass_attempt", reason="unexpected_algorithm", level="CRITICAL")


def test_an_expired_token_is_an_everyday_event_not_an_attack(user, logs):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(minutes=5))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get("/api/v2/me").status_code == 401
    assert not logs.where(level="CRITICAL")
    assert logs.where(event="invalid_token", reason="expired", level="INFO")


def test_a_refresh_token_used_as_access_is_not_an_attack(user, logs):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user)}")

    assert client.get("/api/v2/me").status_code == 401
    assert not logs.where(level="CRITICAL")


def test_probing_another_tenants_job_is_a_warning(api, logs):
    foreign_client = ClientFactory()
    MembershipFactory(client=foreign_client)
    foreign_job = VideoJobFactory(campaign=CampaignFactory(client=foreign_client), status=JobStatus.COMPLETED)

    assert api.get(f"/api/v2/jobs/{foreign_job.pk}").status_code == 404
    assert api.get("/api/v2/jobs/999999999").status_code == 404

    (line,) = logs.where(event="cross_tenant_access")
    assert (line["level"], line["object"], line["object_id"]) == ("WARNING", "job", str(foreign_job.pk))


def test_probing_another_tenants_client_and_campaign_is_a_warning(api, logs):
    foreign_client = ClientFactory()
    foreign_campaign = CampaignFactory(client=foreign_client)

    api.get(f"/api/v2/clients/{foreign_client.id}/")
    api.get(f"/api/v2/campaigns/{foreign_campaign.id}/")

    assert [line["object"] for line in logs.where(event="cross_tenant_access")] == ["client", "campaign"]


def test_circuit_open_is_critical(logs, clean_caches, settings):
    from videogen.providers import circuit

    settings.CIRCUIT_FAILURE_THRESHOLD = 2
    circuit.record_failure("job:1")
    circuit.record_failure("job:2")

    assert logs.where(level="CRITICAL", logger="videogen.circuit")
    circuit.reset()


# --- no secrets in logs ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["authorization", "password", "token", "api_token", "secret", "access", "refresh",
                                 "REPLICATE_API_TOKEN", "webhook_secret", "HTTP_AUTHORIZATION"])
def test_values_under_secret_keys_are_redacted(key):
    assert redact(None, "info", {"event": "x", key: "s3cr3t-value"})[key] == REDACTED


@pytest.mark.parametrize("text, secret", [
    ("calling with Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "c2lnbmF0dXJl"),
    ("replicate token r8_AbCdEf0123456789XyZ was refused", "AbCdEf0123456789XyZ"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl in a message", "c2lnbmF0dXJl"),
    ("https://bucket.s3/x.mp4?X-Amz-Signature=deadbeefcafe&X-Amz-Expires=3600", "deadbeefcafe"),
    ("GET /media/signed/eyJuIjoidXBsb2Fkcy9hIn0:1abcdEFGH/", "1abcdEFGH"),
])
def test_tokens_inside_values_are_redacted(text, secret):
    redacted = redact(None, "info", {"event": text, "detail": {"nested": [text]}})

    assert secret not in json.dumps(redacted)


def test_nothing_secret_reaches_a_rendered_line(logs):
    logging.getLogger("videogen.providers").warning(
        "provider said 401 for Authorization: Bearer r8_TopSecretToken123456",
        extra={"headers": {"Authorization": "Bearer abc.def.ghi", "Accept": "json"}, "password": "hunter2"},
    )

    text = logs.text()
    assert "TopSecretToken" not in text and "hunter2" not in text and "abc.def.ghi" not in text
    (line,) = logs.all()
    assert line["headers"]["Accept"] == "json"


# --- request objects attached by Django (issue 10, defect 5) ------------------------------------------


def test_a_signed_media_token_in_a_django_security_record_is_redacted(db, logs):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.test import Client

    from videogen.signed_urls import sign_media_url

    url = sign_media_url(default_storage.save("uploads/test/logo.png", ContentFile(b"x")))
    token = url.rsplit("/", 1)[-1]

    Client().get(url, HTTP_HOST="attacker.example")  # DisallowedHost: logged by django.security with the request

    security = [line for line in logs.all() if line.get("logger", "").startswith("django.security")]
    assert security, logs.text()
    assert "request" in security[0]
    assert token not in logs.text()
    assert token.split(":")[-1] not in logs.text()


def test_a_jwt_in_a_query_string_of_a_failing_request_is_redacted(db, logs):
    from django.test import Client

    jwt_text = str(AccessToken())
    Client().get(f"/api/v2/jobs/1?access_token={jwt_text}&token={jwt_text}", HTTP_HOST="attacker.example")

    assert logs.all()
    assert jwt_text not in logs.text()
    assert jwt_text.split(".")[-1] not in logs.text()


def test_objects_rendered_as_text_are_redacted_too():
    class Holder:
        def __str__(self) -> str:
            return "<Holder .eJxTKkktLlGyUlAqS8xRKEhMz1NIzs8rSc0rUQIAUOwHgw:1vLgh2:abcdefghijklmnopqrstuvwxyz012345>"

    redacted = redact(None, "info", {"event": "x", "thing": Holder()})

    assert "abcdefghijklmnopqrstuvwxyz012345" not in json.dumps(redacted)
