"""Tenancy, route by route: a member of client A reaches nothing of client B.

Every object route and method answers B's objects exactly as it answers an id that never
existed (404 `not_found`, no existence leak), and changes nothing: the database rows, the
stored files and the task queue are compared before and after. Where B's id travels in the
body (generate, upload, campaign create, assets), the answer is the same as for an unknown id.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.forms.models import model_to_dict
from PIL import Image

from campaigns.models import Campaign
from clients.models import Client, Membership
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory, stored_image_asset
from tests.jobs import completed_job, storyboard_complete_job
from videogen.models import (
    Asset,
    CostEntry,
    IdempotencyRecord,
    JobEvent,
    Prediction,
    Scene,
    Variation,
    VideoJob,
)

MISSING_JOB = 987654321


@dataclass
class Tenant:
    client: Client
    owner: object
    campaign: Campaign


@dataclass
class World:
    mine: Tenant
    theirs: Tenant
    their_job: VideoJob  # completed, with files
    their_storyboard: VideoJob  # storyboard_complete: approve/render/refine would act on it
    their_asset: Asset
    my_job: VideoJob


def _tenant() -> Tenant:
    client, owner = ClientFactory(), UserFactory()
    MembershipFactory(user=owner, client=client, role=Membership.Role.OWNER)
    return Tenant(client, owner, CampaignFactory(client=client))


@pytest.fixture
def world(db, clean_caches) -> World:
    mine, theirs = _tenant(), _tenant()
    MembershipFactory(client=theirs.client, role=Membership.Role.VIEWER)
    return World(
        mine=mine, theirs=theirs, their_job=completed_job(theirs), their_storyboard=storyboard_complete_job(theirs),
        their_asset=stored_image_asset(theirs.client), my_job=storyboard_complete_job(mine),
    )


SNAPSHOT_MODELS = (Client, Membership, Campaign, VideoJob, Scene, Variation, Asset, Prediction, CostEntry, JobEvent,
                   IdempotencyRecord)


def snapshot() -> dict:
    """Every row of every tenant-owned table (updated_at included) and every stored file."""
    rows = {
        model.__name__: sorted((repr(sorted(model_to_dict(obj).items())), str(getattr(obj, "updated_at", "")))
                               for obj in model.objects.all())
        for model in SNAPSHOT_MODELS
    }
    root = Path(default_storage.location)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return {"rows": rows, "files": files}


def png_upload() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = "a.jpg"
    return buffer


# (name, method, path(world, theirs: bool), body(world, theirs: bool) | None, format)
# `theirs=False` builds the same request for an id that never existed.
def _client_id(w: World, theirs: bool) -> str:
    return str(w.theirs.client.id if theirs else uuid.uuid4())


def _campaign_id(w: World, theirs: bool) -> str:
    return str(w.theirs.campaign.id if theirs else uuid.uuid4())


def _job_id(w: World, theirs: bool) -> int:
    return w.their_job.pk if theirs else MISSING_JOB


def _storyboard_id(w: World, theirs: bool) -> int:
    return w.their_storyboard.pk if theirs else MISSING_JOB


def _generate(w: World, theirs: bool, *, campaign: str, client: str) -> dict:
    ids = {"mine": (str(w.mine.campaign.id), str(w.mine.client.id)),
           "other": (_campaign_id(w, theirs), _client_id(w, theirs))}
    return {"campaignId": ids[campaign][0], "clientId": ids[client][1], "videoName": "x",
            "creativePrompt": "A runner at dawn, then the shoe, then the crowd", "duration": 15, "platform": "tiktok"}


OBJECT_ROUTES = [
    ("client detail", "get", lambda w, t: f"/api/v2/clients/{_client_id(w, t)}/", None),
    ("client update", "put", lambda w, t: f"/api/v2/clients/{_client_id(w, t)}/", lambda w, t: {"name": "Pwned"}),
    ("client patch", "patch", lambda w, t: f"/api/v2/clients/{_client_id(w, t)}/", lambda w, t: {"name": "Pwned"}),
    ("client delete", "delete", lambda w, t: f"/api/v2/clients/{_client_id(w, t)}/", None),
    ("members list", "get", lambda w, t: f"/api/v2/clients/{_client_id(w, t)}/members/", None),
    ("members add", "post", lambda w, t: f"/api/v2/clients/{_client_id(w, t)}/members/",
     lambda w, t: {"username": w.mine.owner.username, "role": "owner"}),
    ("members remove", "delete",
     lambda w, t: f"/api/v2/clients/{_client_id(w, t)}/members/{w.theirs.owner.username}/", None),
    ("campaign detail", "get", lambda w, t: f"/api/v2/campaigns/{_campaign_id(w, t)}/", None),
    ("campaign update", "put", lambda w, t: f"/api/v2/campaigns/{_campaign_id(w, t)}/",
     lambda w, t: {"clientId": str(w.mine.client.id), "name": "Pwned"}),
    ("campaign patch", "patch", lambda w, t: f"/api/v2/campaigns/{_campaign_id(w, t)}/", lambda w, t: {"name": "P"}),
    ("campaign delete", "delete", lambda w, t: f"/api/v2/campaigns/{_campaign_id(w, t)}/", None),
    ("job detail", "get", lambda w, t: f"/api/v2/jobs/{_job_id(w, t)}", None),
    ("job cancel", "delete", lambda w, t: f"/api/v2/jobs/{_storyboard_id(w, t)}", None),
    ("job approve", "post", lambda w, t: f"/api/v2/jobs/{_storyboard_id(w, t)}/approve", None),
    ("job render", "post", lambda w, t: f"/api/v2/jobs/{_storyboard_id(w, t)}/render", None),
    ("job refine", "post", lambda w, t: f"/api/v2/jobs/{_storyboard_id(w, t)}/refine",
     lambda w, t: {"creativePrompt": "Something else entirely, three scenes"}),
    ("job refine scenes", "post", lambda w, t: f"/api/v2/jobs/{_storyboard_id(w, t)}/refine",
     lambda w, t: {"scenes": [1]}),
    ("job data", "get", lambda w, t: f"/api/v2/jobs/{_job_id(w, t)}/data", None),
    ("job data gif", "get", lambda w, t: f"/api/v2/jobs/{_job_id(w, t)}/data?format=gif&variation=1", None),
    ("job thumbnail", "get", lambda w, t: f"/api/v2/jobs/{_job_id(w, t)}/thumbnail", None),
    ("generate, their campaign and client", "post", lambda w, t: "/api/v2/generate",
     lambda w, t: _generate(w, t, campaign="other", client="other")),
    ("generate, their campaign under my client", "post", lambda w, t: "/api/v2/generate",
     lambda w, t: _generate(w, t, campaign="other", client="mine")),
    ("generate, my campaign under their client", "post", lambda w, t: "/api/v2/generate",
     lambda w, t: _generate(w, t, campaign="mine", client="other")),
]


@pytest.mark.parametrize("name, method, path, body", OBJECT_ROUTES, ids=[route[0] for route in OBJECT_ROUTES])
def test_another_tenants_object_answers_like_a_missing_one_and_changes_nothing(world, tasks, name, method, path,
                                                                               body, bearer_client):
    api = bearer_client(world.mine.owner)
    before = snapshot()

    def call(theirs: bool):
        kwargs = {"format": "json"} if body else {}
        return getattr(api, method)(path(world, theirs), body(world, theirs) if body else None, **kwargs)

    foreign, missing = call(theirs=True), call(theirs=False)

    assert foreign.status_code == 404, foreign.content
    assert foreign.json() == missing.json() == {"code": "not_found", "detail": foreign.json()["detail"]}
    assert foreign.status_code == missing.status_code
    assert snapshot() == before
    assert tasks.queued == []


def test_uploading_for_another_tenants_client_answers_404_and_stores_nothing(world, tasks, bearer_client):
    api = bearer_client(world.mine.owner)
    before = snapshot()

    foreign = api.post("/api/v2/upload-asset", {"file": png_upload(), "clientId": _client_id(world, True)},
                       format="multipart")
    missing = api.post("/api/v2/upload-asset", {"file": png_upload(), "clientId": _client_id(world, False)},
                       format="multipart")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert snapshot() == before


@pytest.mark.parametrize("query", ["clientId", "campaignId"])
def test_job_list_filtered_by_another_tenants_ids_is_empty(world, query, bearer_client):
    api = bearer_client(world.mine.owner)
    value = world.theirs.client.id if query == "clientId" else world.theirs.campaign.id

    response = api.get("/api/v2/jobs/", {query: str(value)})

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_unfiltered_lists_show_only_my_tenants_objects(world, bearer_client):
    api = bearer_client(world.mine.owner)

    assert {job["job_id"] for job in api.get("/api/v2/jobs/").json()["results"]} == {world.my_job.pk}
    clients = api.get("/api/v2/clients/").json()
    clients = clients["results"] if isinstance(clients, dict) else clients
    assert [c["id"] for c in clients] == [str(world.mine.client.id)]
    campaigns = api.get("/api/v2/campaigns/", {"clientId": str(world.theirs.client.id)}).json()
    campaigns = campaigns["results"] if isinstance(campaigns, dict) else campaigns
    assert campaigns == []
    assert [c["id"] for c in api.get("/api/v2/me").json()["clients"]] == [str(world.mine.client.id)]


def _same_answer_for_foreign_and_unknown(api, method, path, build):
    foreign = getattr(api, method)(path, build(True), format="json")
    missing = getattr(api, method)(path, build(False), format="json")
    return foreign, missing


def test_creating_a_campaign_under_another_tenants_client_is_refused_like_an_unknown_client(world, tasks,
                                                                                            bearer_client):
    api = bearer_client(world.mine.owner)
    before = snapshot()

    foreign, missing = _same_answer_for_foreign_and_unknown(
        api, "post", "/api/v2/campaigns/", lambda theirs: {"clientId": _client_id(world, theirs), "name": "Pwned"})

    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert "clientId" in foreign.json()["fields"]
    assert snapshot() == before


def test_moving_my_campaign_to_another_tenants_client_is_refused_like_an_unknown_client(world, tasks, bearer_client):
    api = bearer_client(world.mine.owner)
    before = snapshot()

    foreign, missing = _same_answer_for_foreign_and_unknown(
        api, "patch", f"/api/v2/campaigns/{world.mine.campaign.id}/",
        lambda theirs: {"clientId": _client_id(world, theirs)})

    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert snapshot() == before


def test_generating_with_another_tenants_asset_is_refused_like_an_unknown_asset(world, tasks, bearer_client):
    api = bearer_client(world.mine.owner)
    before = snapshot()

    def body(theirs: bool) -> dict:
        asset_id = world.their_asset.id if theirs else uuid.uuid4()
        return {**_generate(world, False, campaign="mine", client="mine"), "assets": [{"id": str(asset_id)}]}

    foreign, missing = _same_answer_for_foreign_and_unknown(api, "post", "/api/v2/generate", body)

    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["code"] == missing.json()["code"] == "validation_error"
    assert str(world.their_asset.id) in foreign.json()["fields"]["assets"][0]  # echoes the id sent, nothing more
    assert snapshot() == before
    assert tasks.queued == []


def test_refining_my_job_with_another_tenants_asset_is_refused(world, tasks, bearer_client):
    api = bearer_client(world.mine.owner)
    before = snapshot()

    response = api.post(f"/api/v2/jobs/{world.my_job.pk}/refine", {"assets": [{"id": str(world.their_asset.id)}]},
                        format="json")

    assert response.status_code == 400
    assert snapshot() == before
    assert tasks.queued == []


def test_another_tenants_viewer_cannot_reach_my_objects_either(world, bearer_client):
    viewer = Membership.objects.get(client=world.theirs.client, role=Membership.Role.VIEWER).user
    api = bearer_client(viewer)

    assert api.get(f"/api/v2/jobs/{world.my_job.pk}").status_code == 404
    assert api.get(f"/api/v2/campaigns/{world.mine.campaign.id}/").status_code == 404
    assert api.get(f"/api/v2/clients/{world.mine.client.id}/members/").status_code == 404


# Every request field that can hold a storage name, a URL or a reference to a stored file, fed another
# tenant's file (by storage name, by asset id, by signed URL path). Each is refused with a 400 on that
# field and changes nothing. Server-written names (scene images, variation outputs, asset files, the scene
# cache) never come from a request; see the render's logo tests (tests/test_logo_sources.py) for the
# read side.
def _their_storyboard_name(w: World) -> str:
    return w.their_storyboard.scenes.order_by("number").first().image.name


STORAGE_REFERENCE_FIELDS = [
    ("client logoUrl = their storage name", "patch", lambda w: f"/api/v2/clients/{w.mine.client.id}/",
     lambda w: {"brandGuidelines": {"logoUrl": _their_storyboard_name(w)}}, "brandGuidelines.logoUrl"),
    ("client logoUrl = traversal", "patch", lambda w: f"/api/v2/clients/{w.mine.client.id}/",
     lambda w: {"brandGuidelines": {"logoUrl": f"uploads/{w.mine.client.id}/../../{_their_storyboard_name(w)}"}},
     "brandGuidelines.logoUrl"),
    ("client logoUrl = file URL", "patch", lambda w: f"/api/v2/clients/{w.mine.client.id}/",
     lambda w: {"brandGuidelines": {"logoUrl": f"file:///{_their_storyboard_name(w)}"}}, "brandGuidelines.logoUrl"),
    ("client logoUrl = loopback URL of the media route", "patch", lambda w: f"/api/v2/clients/{w.mine.client.id}/",
     lambda w: {"brandGuidelines": {"logoUrl": f"http://127.0.0.1/media/{_their_storyboard_name(w)}"}},
     "brandGuidelines.logoUrl"),
    ("client logoUrl = storage name on create", "post", lambda w: "/api/v2/clients/",
     lambda w: {"name": "x", "brandGuidelines": {"logoUrl": _their_storyboard_name(w)}}, "brandGuidelines.logoUrl"),
    ("client logoAssetId = their asset", "patch", lambda w: f"/api/v2/clients/{w.mine.client.id}/",
     lambda w: {"brandGuidelines": {"logoAssetId": str(w.their_asset.id)}}, "brandGuidelines.logoAssetId"),
    ("client logoAssetId = their asset on create", "post", lambda w: "/api/v2/clients/",
     lambda w: {"name": "x", "brandGuidelines": {"logoAssetId": str(w.their_asset.id)}},
     "brandGuidelines.logoAssetId"),
    ("generate assets[].id = their logo asset", "post", lambda w: "/api/v2/generate",
     lambda w: {**_generate(w, False, campaign="mine", client="mine"),
                "assets": [{"id": str(w.their_asset.id), "role": "logo"}]}, "assets"),
    ("generate assets[].id = a storage name", "post", lambda w: "/api/v2/generate",
     lambda w: {**_generate(w, False, campaign="mine", client="mine"),
                "assets": [{"id": _their_storyboard_name(w), "role": "logo"}]}, "assets[0].id"),
    ("refine assets[].id = their scene asset", "post", lambda w: f"/api/v2/jobs/{w.my_job.pk}/refine",
     lambda w: {"assets": [{"id": str(w.their_asset.id), "role": "scene", "sceneNumber": 1}]}, "assets"),
    ("refine assets[].id = a storage name", "post", lambda w: f"/api/v2/jobs/{w.my_job.pk}/refine",
     lambda w: {"assets": [{"id": _their_storyboard_name(w)}]}, "assets[0].id"),
    ("generate callbackUrl = a storage name", "post", lambda w: "/api/v2/generate",
     lambda w: {**_generate(w, False, campaign="mine", client="mine"), "callbackUrl": _their_storyboard_name(w)},
     "callbackUrl"),
    ("generate callbackUrl = loopback media route", "post", lambda w: "/api/v2/generate",
     lambda w: {**_generate(w, False, campaign="mine", client="mine"),
                "callbackUrl": f"https://127.0.0.1/media/{_their_storyboard_name(w)}"}, "callbackUrl"),
    ("generate callbackUrl = cloud metadata", "post", lambda w: "/api/v2/generate",
     lambda w: {**_generate(w, False, campaign="mine", client="mine"),
                "callbackUrl": "https://169.254.169.254/latest/meta-data/"}, "callbackUrl"),
]


@pytest.mark.parametrize("name, method, path, body, field", STORAGE_REFERENCE_FIELDS,
                         ids=[row[0] for row in STORAGE_REFERENCE_FIELDS])
def test_fields_holding_a_file_reference_refuse_another_tenants_files(world, tasks, name, method, path, body, field,
                                                                      bearer_client):
    # The client has a callback secret, so a callbackUrl is refused for where it points, not for lacking one.
    Client.objects.filter(pk=world.mine.client.pk).update(callback_secret="s" * 32)
    api = bearer_client(world.mine.owner)
    before = snapshot()

    response = getattr(api, method)(path(world), body(world), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert snapshot() == before
    assert tasks.queued == []
