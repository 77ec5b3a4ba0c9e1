"""Campaigns: CRUD with the brief, `?clientId=` filter, tenancy (404 / 400 for others' clients), viewer 403."""

from __future__ import annotations

import uuid

import pytest

from campaigns.models import Campaign
from clients.models import Membership
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory

BRIEF = {
    "objective": "Launch the spring line to 18-25 urban runners",
    "keyMessages": ["sustainability", "performance"],
    "cta": "Shop now",
    "doNotMention": ["old models"],
}


def url(campaign_id=None) -> str:
    return "/api/v2/campaigns/" + (f"{campaign_id}/" if campaign_id else "")


@pytest.fixture
def foreign_campaign(tenant) -> Campaign:
    client = ClientFactory()
    MembershipFactory(client=client, role=Membership.Role.OWNER)
    return CampaignFactory(client=client, name="Not yours", objective="secret")


def test_created_campaign_round_trips_its_brief(api, tenant):
    payload = {"clientId": str(tenant.client.id), "name": "Spring", "brief": BRIEF}

    response = api.post(url(), payload, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert {key: created[key] for key in ("clientId", "name", "brief")} == payload
    assert api.get(url(created["id"])).json() == created


def test_list_shows_only_the_callers_campaigns(api, tenant, foreign_campaign):
    response = api.get(url())

    assert [c["id"] for c in response.json()["results"]] == [str(tenant.campaign.id)]


def test_list_filters_by_client(api, tenant):
    other_client = ClientFactory()
    MembershipFactory(user=tenant.owner, client=other_client)
    other = CampaignFactory(client=other_client)

    response = api.get(url(), {"clientId": str(other_client.id)})

    assert [c["id"] for c in response.json()["results"]] == [str(other.id)]


def test_filter_by_another_tenants_client_lists_nothing(api, foreign_campaign):
    response = api.get(url(), {"clientId": str(foreign_campaign.client_id)})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_filter_by_a_malformed_client_id_is_a_validation_error(api):
    response = api.get(url(), {"clientId": "nope"})

    assert response.status_code == 400
    assert "clientId" in response.json()["fields"]


def test_patch_updates_the_brief(api, tenant):
    response = api.patch(url(tenant.campaign.id), {"brief": {"cta": "Pre-order today"}}, format="json")

    assert response.status_code == 200
    tenant.campaign.refresh_from_db()
    assert tenant.campaign.cta == "Pre-order today"
    assert tenant.campaign.objective  # untouched


def test_owner_deletes_a_campaign(api, tenant):
    assert api.delete(url(tenant.campaign.id)).status_code == 204
    assert not Campaign.objects.filter(id=tenant.campaign.id).exists()


def test_unknown_client_is_a_validation_error(api):
    response = api.post(url(), {"clientId": str(uuid.uuid4()), "name": "Orphan"}, format="json")

    assert response.status_code == 400
    assert "clientId" in response.json()["fields"]
    assert not Campaign.objects.filter(name="Orphan").exists()


def test_another_tenants_client_is_a_validation_error(api, foreign_campaign):
    response = api.post(url(), {"clientId": str(foreign_campaign.client_id), "name": "Sneaky"}, format="json")

    assert response.status_code == 400
    assert "clientId" in response.json()["fields"]
    assert not Campaign.objects.filter(name="Sneaky").exists()


def test_campaign_cannot_move_to_another_client(api, tenant):
    other_client = ClientFactory()
    MembershipFactory(user=tenant.owner, client=other_client)

    response = api.patch(url(tenant.campaign.id), {"clientId": str(other_client.id)}, format="json")

    assert response.status_code == 400
    assert "clientId" in response.json()["fields"]
    assert Campaign.objects.get(id=tenant.campaign.id).client_id == tenant.client.id


def test_missing_name_is_a_validation_error(api, tenant):
    response = api.post(url(), {"clientId": str(tenant.client.id)}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["This field is required."]}


@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("patch", {"name": "Hijacked"}), ("put", {"name": "Hijacked"}), ("delete", None)],
)
def test_another_tenants_campaign_answers_404_and_is_unchanged(api, foreign_campaign, method, payload):
    if method == "put":
        payload = {**payload, "clientId": str(foreign_campaign.client_id)}

    response = getattr(api, method)(url(foreign_campaign.id), payload, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    foreign_campaign.refresh_from_db()
    assert (foreign_campaign.name, foreign_campaign.objective) == ("Not yours", "secret")


def test_malformed_campaign_id_answers_404(api):
    assert api.get(url("not-a-uuid")).status_code == 404


def test_viewer_reads_campaigns(tenant, bearer_client):
    viewer = UserFactory()
    MembershipFactory(user=viewer, client=tenant.client, role=Membership.Role.VIEWER)

    response = bearer_client(viewer).get(url(tenant.campaign.id))

    assert response.status_code == 200


@pytest.mark.parametrize(("method", "payload"), [("patch", {"name": "Changed"}), ("delete", None)])
def test_viewer_may_not_change_a_campaign(tenant, method, payload, bearer_client):
    viewer = UserFactory()
    MembershipFactory(user=viewer, client=tenant.client, role=Membership.Role.VIEWER)

    response = getattr(bearer_client(viewer), method)(url(tenant.campaign.id), payload, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Campaign.objects.get(id=tenant.campaign.id).name == tenant.campaign.name
