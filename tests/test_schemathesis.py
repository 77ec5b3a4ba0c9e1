"""Property-based fuzzing of the whole v2 API from its own OpenAPI schema, against a live server.

Schemathesis reads `/api/schema/` from a real HTTP server (pytest-django's `live_server`),
generates requests for every operation (valid and invalid) as an authenticated owner, and
checks each answer: never a 5xx, status codes and content types the schema declares, bodies
and headers that conform to it. Path, query and body ids are drawn half the time from seeded
objects (a client, a campaign, a storyboard-complete and a completed job with files, an
asset), so the happy paths run too, not only 404s.

Bounded for CI: a fixed number of examples per operation, deterministic generation, no
example database. Throttles are lifted for the run (they are tested in test_throttling.py);
tasks that the API enqueues are recorded instead of sent to a broker.
"""

from __future__ import annotations

import pytest
import schemathesis
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.config import SchemathesisConfig

from clients.models import Membership
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from tests.jobs import completed_job, storyboard_complete_job
from videogen.models import Asset

MAX_EXAMPLES = 20


class Seeded:
    def __init__(self) -> None:
        self.owner = UserFactory(username="fuzz-owner")
        self.client = ClientFactory()
        MembershipFactory(user=self.owner, client=self.client, role=Membership.Role.OWNER)
        self.editor = UserFactory(username="fuzz-editor")
        MembershipFactory(user=self.editor, client=self.client, role=Membership.Role.EDITOR)
        self.campaign = CampaignFactory(client=self.client)
        self.tenant = type("Tenant", (), {"client": self.client, "owner": self.owner, "campaign": self.campaign})
        self.completed = completed_job(self.tenant)
        self.storyboard = storyboard_complete_job(self.tenant)
        self.asset = Asset.objects.create(client=self.client, file=self.storyboard.scenes.first().image.name,
                                          type="image", mime_type="image/png", size=100, width=64, height=96,
                                          filename="scene.png")


@pytest.fixture
def seeded(transactional_db, clean_caches) -> Seeded:
    return Seeded()


@pytest.fixture
def api_schema(live_server, seeded, monkeypatch, settings):
    from rest_framework.throttling import SimpleRateThrottle

    from videogen.pipeline import queue

    # DRF reads the rates into the class at import time: lift them there (the server runs in this process).
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {scope: "100000/min" for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]})
    monkeypatch.setattr(queue, "dispatcher", lambda *args, **kwargs: None)  # no broker, no worker
    # A live-updates stream of a running job stays open (heartbeats) until its lifetime ends: keep it short.
    settings.EVENTS_MAX_STREAM_SECONDS = 1
    settings.EVENTS_HEARTBEAT_SECONDS = 0.5

    ids = {
        "jobs": [seeded.completed.pk, seeded.storyboard.pk],
        "clients": [str(seeded.client.id)],
        "campaigns": [str(seeded.campaign.id)],
        "assets": [str(seeded.asset.id)],
        "usernames": [seeded.editor.username],
    }
    half = 0.5
    config = SchemathesisConfig.from_dict({
        "dictionaries": {name: {"values": values} for name, values in ids.items()},
        "parameters": {
            "path.job_id": {"dictionary": "jobs", "probability": half},
            "path.id": {"dictionary": "clients", "probability": half},
            "path.client_pk": {"dictionary": "clients", "probability": half},
            "path.username": {"dictionary": "usernames", "probability": half},
            "query.clientId": {"dictionary": "clients", "probability": half},
            "query.campaignId": {"dictionary": "campaigns", "probability": half},
            "body.clientId": {"dictionary": "clients", "probability": half},
            "body.campaignId": {"dictionary": "campaigns", "probability": half},
            "body.assets[*].id": {"dictionary": "assets", "probability": half},
        },
        "headers": {"Authorization": f"Bearer {RefreshToken.for_user(seeded.owner).access_token}"},
        # DRF refuses NUL characters in any string ("Null characters are not allowed."): not expressible in the schema.
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none", "allow-x00": False},
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            # The input-acceptance checks are off; they judge DRF's validation, not the contract:
            # - negative_data_rejection: DRF accepts a number for a string field (stored as text) and
            #   trims surrounding whitespace before maxLength; an empty `?clientId=` means no filter.
            # - positive_data_acceptance: a whitespace-only string meets minLength but is blank once
            #   trimmed, and schema-valid ids must still name the caller's objects (400 with `fields`),
            #   as must an upload's content (unsupported_type, corrupt_file).
            # Everything the contract promises stays checked: no 5xx, documented status codes, content
            # types, bodies and headers that conform to the schema, auth enforced, methods refused.
            "negative_data_rejection": {"enabled": False},
            "positive_data_acceptance": {"enabled": False},
        },
        "request-timeout": 60,
    })
    return schemathesis.openapi.from_url(f"{live_server.url}/api/schema/", config=config)


def _failures(schema) -> list[str]:
    """Runs Schemathesis' engine (examples, coverage and fuzzing phases) and lists every failed check."""
    from schemathesis.engine import Status, events, from_schema

    found: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status in (Status.FAILURE, Status.ERROR):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        response = event.recorder.find_response(case_id=case_id)
                        answer = f"{response.status_code} {(response.content or b'')[:300]!r}" if response else "-"
                        found.append(f"{event.recorder.label}: [{check.name}] {failure.title}: {failure.message}\n"
                                     f"    {check.failure_info.code_sample}\n    -> {answer}")
            if event.status == Status.ERROR:
                found.append(f"{event.recorder.label}: error while testing")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            found.append(f"{getattr(event, 'label', 'engine')}: {getattr(event, 'value', None) or event.exception!r}")
    return sorted(set(found))


def test_the_api_conforms_to_its_schema_and_never_answers_5xx(api_schema):
    failures = _failures(api_schema)

    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)
