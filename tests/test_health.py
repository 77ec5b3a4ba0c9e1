"""Liveness and readiness probes answer JSON."""

from __future__ import annotations


def test_healthz_answers_ok(anon):
    response = anon.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_cache_and_broker(anon, db):
    response = anon.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_answers_503_when_a_check_fails(anon, db, monkeypatch):
    from config import health

    def broken() -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(health, "_check_broker", broken)

    response = anon.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert (body["checks"]["broker"]["ok"], body["checks"]["broker"]["error"]) == (False, "ConnectionError")
    assert body["checks"]["database"]["ok"]
