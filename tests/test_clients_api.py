"""Clients and their members: CRUD with brand guidelines, tenancy (404 for others), roles (403 for viewers)."""

from __future__ import annotations

import uuid

import pytest

from clients.models import Client, Membership
from tests.factories import ClientFactory, MembershipFactory, UserFactory

GUIDELINES = {
    "brandVoice": "playful, energetic",
    "visualStyle": "bright colours, high contrast",
    "forbiddenElements": ["competitor logos"],
    "logoUrl": "https://8.8.8.8/brand/logo.png",
    "logoAssetId": None,
    "colorPalette": ["#FF6B6B", "#4ECDC4", "#FFE66D"],
}


def member(client: Client, role: str):
    user = UserFactory()
    MembershipFactory(user=user, client=client, role=role)
    return user


@pytest.fixture
def foreign(tenant) -> Client:
    """Another tenant's client, with its own owner."""
    client = ClientFactory(name="Not yours", brand_voice="secret voice")
    MembershipFactory(client=client, role=Membership.Role.OWNER)
    return client


def url(client_id) -> str:
    return f"/api/v2/clients/{client_id}/"


# --- CRUD ----------------------------------------------------------------------------------------------


def test_created_client_round_trips_its_brand_guidelines(api):
    response = api.post("/api/v2/clients/", {"name": "Northwind", "brandGuidelines": GUIDELINES}, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "Northwind"
    assert created["brandGuidelines"] == GUIDELINES
    assert api.get(url(created["id"])).json() == created


def test_creator_becomes_the_owner(api, tenant):
    client_id = api.post("/api/v2/clients/", {"name": "Northwind"}, format="json").json()["id"]

    assert Membership.objects.get(client_id=client_id).user == tenant.owner
    assert Membership.objects.get(client_id=client_id).role == Membership.Role.OWNER


def test_client_without_guidelines_gets_empty_ones(api):
    response = api.post("/api/v2/clients/", {"name": "Plain"}, format="json")

    assert response.status_code == 201
    assert response.json()["brandGuidelines"] == {
        "brandVoice": "",
        "visualStyle": "",
        "forbiddenElements": [],
        "logoUrl": "",
        "logoAssetId": None,
        "colorPalette": [],
    }


def test_list_shows_only_the_callers_clients(api, tenant, foreign):
    response = api.get("/api/v2/clients/")

    assert response.status_code == 200
    assert [client["id"] for client in response.json()["results"]] == [str(tenant.client.id)]


def test_patch_changes_one_guideline_and_keeps_the_others(api, tenant):
    response = api.patch(url(tenant.client.id), {"brandGuidelines": {"brandVoice": "calm"}}, format="json")

    assert response.status_code == 200, response.content
    tenant.client.refresh_from_db()
    assert tenant.client.brand_voice == "calm"
    assert tenant.client.color_palette == ["#FF6B6B", "#4ECDC4", "#FFE66D"]


def test_put_replaces_name_and_guidelines(api, tenant):
    response = api.put(url(tenant.client.id), {"name": "Renamed", "brandGuidelines": GUIDELINES}, format="json")

    assert response.status_code == 200
    assert response.json()["brandGuidelines"] == GUIDELINES
    assert Client.objects.get(id=tenant.client.id).name == "Renamed"


def test_owner_deletes_a_client(api, tenant):
    response = api.delete(url(tenant.client.id))

    assert response.status_code == 204
    assert not Client.objects.filter(id=tenant.client.id).exists()


def test_invalid_colour_is_reported_at_its_position(api):
    guidelines = {"colorPalette": ["#FF6B6B", "red", "#12345"]}

    response = api.post("/api/v2/clients/", {"name": "Bad", "brandGuidelines": guidelines}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"brandGuidelines.colorPalette[1]", "brandGuidelines.colorPalette[2]"}
    assert not Client.objects.filter(name="Bad").exists()


def test_missing_name_is_a_validation_error(api):
    response = api.post("/api/v2/clients/", {"brandGuidelines": GUIDELINES}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["This field is required."]}


def test_malformed_client_id_answers_404(api):
    assert api.get(url("not-a-uuid")).status_code == 404


# --- tenancy: another tenant's client does not exist for you -----------------------------------------------


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("get", None),
        ("patch", {"name": "Hijacked"}),
        ("put", {"name": "Hijacked", "brandGuidelines": GUIDELINES}),
        ("delete", None),
    ],
)
def test_another_tenants_client_answers_404_and_is_unchanged(api, foreign, method, payload):
    response = getattr(api, method)(url(foreign.id), payload, format="json")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
    foreign.refresh_from_db()
    assert (foreign.name, foreign.brand_voice) == ("Not yours", "secret voice")


def test_unknown_client_answers_404(api):
    assert api.get(url(uuid.uuid4())).status_code == 404


# --- roles ---------------------------------------------------------------------------------------------------


def test_viewer_reads_a_client(tenant, bearer_client):
    viewer = member(tenant.client, Membership.Role.VIEWER)

    assert bearer_client(viewer).get(url(tenant.client.id)).status_code == 200


@pytest.mark.parametrize(("method", "payload"), [("patch", {"name": "Changed"}), ("delete", None)])
def test_viewer_may_not_change_a_client(tenant, method, payload, bearer_client):
    viewer = member(tenant.client, Membership.Role.VIEWER)

    response = getattr(bearer_client(viewer), method)(url(tenant.client.id), payload, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Client.objects.get(id=tenant.client.id).name == tenant.client.name


def test_editor_may_change_a_client(tenant, bearer_client):
    editor = member(tenant.client, Membership.Role.EDITOR)

    response = bearer_client(editor).patch(url(tenant.client.id), {"name": "Edited"}, format="json")

    assert response.status_code == 200


# --- members -----------------------------------------------------------------------------------------------


def members_url(client_id, username: str | None = None) -> str:
    return f"/api/v2/clients/{client_id}/members/" + (f"{username}/" if username else "")


def test_any_member_lists_the_members_with_roles(tenant, bearer_client):
    viewer = member(tenant.client, Membership.Role.VIEWER)

    response = bearer_client(viewer).get(members_url(tenant.client.id))

    assert response.status_code == 200
    assert sorted(response.json(), key=lambda m: m["role"]) == [
        {"username": tenant.owner.username, "role": "owner"},
        {"username": viewer.username, "role": "viewer"},
    ]


def test_owner_adds_a_member(api, tenant):
    newcomer = UserFactory()

    response = api.post(members_url(tenant.client.id), {"username": newcomer.username, "role": "editor"}, format="json")

    assert response.status_code == 201
    assert response.json() == {"username": newcomer.username, "role": "editor"}
    assert Membership.objects.get(user=newcomer, client=tenant.client).role == "editor"


def test_owner_changes_a_members_role(api, tenant):
    editor = member(tenant.client, Membership.Role.EDITOR)

    response = api.post(members_url(tenant.client.id), {"username": editor.username, "role": "viewer"}, format="json")

    assert response.status_code in (200, 201)
    assert Membership.objects.get(user=editor, client=tenant.client).role == "viewer"
    assert Membership.objects.filter(user=editor).count() == 1


def test_owner_removes_a_member(api, tenant):
    editor = member(tenant.client, Membership.Role.EDITOR)

    response = api.delete(members_url(tenant.client.id, editor.username))

    assert response.status_code == 204
    assert not Membership.objects.filter(user=editor, client=tenant.client).exists()


def test_owner_removes_a_member_whose_username_has_a_dot(api, tenant):
    dotted = UserFactory(username="jane.doe")
    MembershipFactory(user=dotted, client=tenant.client, role=Membership.Role.EDITOR)

    assert api.delete(members_url(tenant.client.id, "jane.doe")).status_code == 204


def test_adding_an_unknown_username_is_a_validation_error(api, tenant):
    response = api.post(members_url(tenant.client.id), {"username": "nobody-here", "role": "editor"}, format="json")

    assert response.status_code == 400
    assert "username" in response.json()["fields"]


def test_adding_with_an_unknown_role_is_a_validation_error(api, tenant):
    newcomer = UserFactory()

    response = api.post(members_url(tenant.client.id), {"username": newcomer.username, "role": "boss"}, format="json")

    assert response.status_code == 400
    assert "role" in response.json()["fields"]


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.VIEWER])
def test_non_owner_may_not_add_members(tenant, role, bearer_client):
    caller, newcomer = member(tenant.client, role), UserFactory()

    response = bearer_client(caller).post(
        members_url(tenant.client.id), {"username": newcomer.username, "role": "owner"}, format="json"
    )

    assert response.status_code == 403
    assert not Membership.objects.filter(user=newcomer).exists()


def test_editor_may_not_remove_members(tenant, bearer_client):
    editor = member(tenant.client, Membership.Role.EDITOR)

    response = bearer_client(editor).delete(members_url(tenant.client.id, tenant.owner.username))

    assert response.status_code == 403
    assert Membership.objects.filter(user=tenant.owner, client=tenant.client).exists()


@pytest.mark.parametrize(
    ("method", "path_username", "payload"),
    [("get", None, None), ("post", None, {"role": "owner"}), ("delete", "owner", None)],
)
def test_another_tenants_members_answer_404_and_are_unchanged(api, tenant, foreign, method, path_username, payload):
    foreign_owner = Membership.objects.get(client=foreign).user
    if payload is not None:
        payload = {**payload, "username": tenant.owner.username}
    username = foreign_owner.username if path_username else None

    response = getattr(api, method)(members_url(foreign.id, username), payload, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert list(Membership.objects.filter(client=foreign).values_list("user", "role")) == [(foreign_owner.id, "owner")]


def test_members_of_a_malformed_client_id_answer_404(api):
    assert api.get(members_url("not-a-uuid")).status_code == 404
