"""Per-user rate limits: over the limit answers 429 JSON with Retry-After, counted in the shared cache."""

from __future__ import annotations

from tests.factories import MembershipFactory, UserFactory

UPLOAD_LIMIT_PER_MINUTE = 10


def spend_upload_allowance(client) -> None:
    # An empty multipart body is refused cheaply (400) after the throttle has counted it.
    for _ in range(UPLOAD_LIMIT_PER_MINUTE):
        assert client.post("/api/v2/upload-asset", {}, format="multipart").status_code == 400


def test_eleventh_upload_in_a_minute_is_throttled(api):
    spend_upload_allowance(api)

    response = api.post("/api/v2/upload-asset", {}, format="multipart")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_upload_limit_is_per_user(api, tenant, bearer_client):
    spend_upload_allowance(api)
    colleague = UserFactory()
    MembershipFactory(user=colleague, client=tenant.client)

    response = bearer_client(colleague).post("/api/v2/upload-asset", {}, format="multipart")

    assert response.status_code == 400  # refused for its body, not throttled


def test_upload_counts_are_kept_in_the_shared_store(api, tenant):
    # The shared store (the database, or Redis) is what makes the limit hold across web processes.
    from videogen import ratelimit

    api.post("/api/v2/upload-asset", {}, format="multipart")

    assert ratelimit.recent_hits(f"throttle_upload_{tenant.owner.pk}", 60) == 1
