"""Idempotency-Key: the same key and body answer the first job; the same key with another body is 422
`idempotency_key_reused` (issue 10, defect 6), never the first job under a different request."""

from __future__ import annotations

import json

from tests.jobs import generate_body
from videogen.models import IdempotencyRecord, VideoJob


def _generate(api, body, key: str):
    return api.post("/api/v2/generate", json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_reusing_a_key_with_a_different_body_is_422_and_creates_nothing(api, tenant, tasks):
    first = _generate(api, generate_body(tenant), "key-1")

    second = _generate(api, generate_body(tenant, videoName="A different video", duration=30), "key-1")

    assert first.status_code == 202
    assert second.status_code == 422, second.content
    assert second.json()["code"] == "idempotency_key_reused"
    assert second.json()["detail"]
    assert VideoJob.objects.count() == 1
    assert tasks.names() == ["build_storyboard"]


def test_the_same_body_in_another_key_order_is_a_replay(api, tenant, tasks):
    body = generate_body(tenant)
    first = _generate(api, body, "key-2")

    replay = _generate(api, dict(reversed(list(body.items()))), "key-2")

    assert replay.status_code == 202
    assert replay.json()["job_id"] == first.json()["job_id"]
    assert replay["Idempotent-Replayed"] == "true"


def test_the_fingerprint_is_stored_with_the_key(api, tenant, tasks):
    _generate(api, generate_body(tenant), "key-3")

    record = IdempotencyRecord.objects.get(key="key-3")
    assert len(record.body_fingerprint) == 64


def test_records_from_before_fingerprints_still_replay(api, tenant, tasks):
    first = _generate(api, generate_body(tenant), "key-4")
    IdempotencyRecord.objects.filter(key="key-4").update(body_fingerprint="")

    replay = _generate(api, generate_body(tenant, videoName="Changed"), "key-4")

    assert replay.status_code == 202
    assert replay.json()["job_id"] == first.json()["job_id"]
