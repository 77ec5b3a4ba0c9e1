"""Who may do what within a client: owners manage it, editors write, viewers read."""

import pytest

from clients.models import Client, Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_editor_cannot_delete_the_client(tenant, member_api):
    response = member_api(Membership.Role.EDITOR).delete(f"/api/v2/clients/{tenant.client.id}/")
    assert response.status_code == 403
    assert Client.objects.filter(pk=tenant.client.id).exists()


def test_the_owner_can_delete_the_client(api, tenant):
    assert api.delete(f"/api/v2/clients/{tenant.client.id}/").status_code == 204
    assert not Client.objects.filter(pk=tenant.client.id).exists()


def test_the_last_owner_cannot_be_removed(api, tenant):
    response = api.delete(f"/api/v2/clients/{tenant.client.id}/members/{tenant.owner.username}/")
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    assert Membership.objects.filter(user=tenant.owner, client=tenant.client).exists()


def test_the_last_owner_cannot_be_demoted(api, tenant):
    response = api.post(f"/api/v2/clients/{tenant.client.id}/members/",
                        {"username": tenant.owner.username, "role": "viewer"}, format="json")
    assert response.status_code == 409
    assert Membership.objects.get(user=tenant.owner, client=tenant.client).role == "owner"


def test_an_owner_can_step_down_once_another_owner_exists(api, tenant):
    other = UserFactory()
    MembershipFactory(user=other, client=tenant.client, role=Membership.Role.OWNER)
    response = api.post(f"/api/v2/clients/{tenant.client.id}/members/",
                        {"username": tenant.owner.username, "role": "editor"}, format="json")
    assert response.status_code == 201
    assert Membership.objects.get(user=tenant.owner, client=tenant.client).role == "editor"


def test_a_viewer_creating_a_campaign_is_403(tenant, member_api):
    response = member_api(Membership.Role.VIEWER).post(
        "/api/v2/campaigns/", {"clientId": str(tenant.client.id), "name": "Nope"}, format="json")
    assert response.status_code == 403
    assert not tenant.client.campaigns.filter(name="Nope").exists()


def test_routes_answer_without_a_trailing_slash_instead_of_redirecting(api, tenant):
    response = api.post("/api/v2/clients", {"name": "No slash"}, format="json")
    assert response.status_code == 201
    assert api.get("/api/v2/jobs").status_code == 200
