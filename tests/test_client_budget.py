"""Per-client daily budget (issue 10, "Also"): ops set it in admin; when one client's spend today reaches
it, that client's new spend is refused with 429 `budget_exceeded`, and every other client carries on.
The global soft/hard budget still applies to everyone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from clients.models import Client, Membership
from tests.factories import CampaignFactory, ClientFactory, CostEntryFactory, MembershipFactory, UserFactory
from tests.jobs import storyboard_complete_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def generous_global_budget(settings):
    settings.DAILY_BUDGET_SOFT = Decimal("1000")
    settings.DAILY_BUDGET_HARD = Decimal("2000")


def _tenant(daily_budget=None):
    client = ClientFactory(daily_budget=daily_budget)
    owner = UserFactory()
    MembershipFactory(user=owner, client=client, role=Membership.Role.OWNER)
    return type("Tenant", (), {"client": client, "owner": owner, "campaign": CampaignFactory(client=client)})


def _spend(tenant, amount: str) -> None:
    job = storyboard_complete_job(tenant)
    CostEntryFactory(job=job, client=tenant.client, campaign=tenant.campaign, amount=Decimal(amount))


@pytest.fixture
def generate(bearer_client):
    """`generate(tenant)`: POST /generate as the tenant's owner."""

    def post(tenant):
        return bearer_client(tenant.owner).post("/api/v2/generate", {
            "campaignId": str(tenant.campaign.id), "clientId": str(tenant.client.id), "videoName": "x",
            "creativePrompt": "A runner at dawn, then the shoe close-up, then the crowd cheering",
            "duration": 15, "platform": "tiktok",
        }, format="json")

    return post


def test_a_client_at_its_daily_budget_is_refused_and_others_are_not(clean_caches, tasks, generate):
    runaway, other = _tenant(daily_budget=Decimal("20.00")), _tenant()
    _spend(runaway, "20.00")

    refused, accepted = generate(runaway), generate(other)

    assert refused.status_code == 429
    assert refused.json()["code"] == "budget_exceeded"
    assert "client" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert accepted.status_code == 202


def test_a_client_below_its_daily_budget_may_spend(clean_caches, tasks, generate):
    tenant = _tenant(daily_budget=Decimal("20.00"))
    _spend(tenant, "19.99")

    assert generate(tenant).status_code == 202


def test_another_clients_spend_does_not_count_against_a_clients_budget(clean_caches, tasks, generate):
    tenant, big_spender = _tenant(daily_budget=Decimal("5.00")), _tenant()
    _spend(big_spender, "500.00")

    assert generate(tenant).status_code == 202


def test_render_and_refine_are_refused_at_the_clients_budget(clean_caches, tasks, bearer_client):
    tenant = _tenant(daily_budget=Decimal("1.00"))
    job = storyboard_complete_job(tenant)
    _spend(tenant, "1.00")
    api = bearer_client(tenant.owner)

    render = api.post(f"/api/v2/jobs/{job.pk}/render")
    refine = api.post(f"/api/v2/jobs/{job.pk}/refine", {"scenes": [1]}, format="json")

    assert (render.status_code, render.json()["code"]) == (429, "budget_exceeded")
    assert (refine.status_code, refine.json()["code"]) == (429, "budget_exceeded")


def test_the_global_hard_budget_still_applies_to_clients_without_their_own(clean_caches, tasks, settings, generate):
    settings.DAILY_BUDGET_HARD = Decimal("10.00")
    spender, tenant = _tenant(), _tenant(daily_budget=Decimal("100.00"))
    _spend(spender, "10.00")

    assert generate(tenant).status_code == 429


def test_ops_set_the_client_budget_in_admin(admin_client):
    client = ClientFactory()
    response = admin_client.post(reverse("admin:clients_client_change", args=[client.pk]), {
        "name": client.name, "brand_voice": "", "visual_style": "", "forbidden_elements": "", "color_palette": "",
        "logo_url": "", "logo_asset": "", "daily_budget": "25.50",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "campaigns-TOTAL_FORMS": "0", "campaigns-INITIAL_FORMS": "0",
    })

    assert response.status_code == 302, response.content.decode()[:1000]
    assert Client.objects.get(pk=client.pk).daily_budget == Decimal("25.50")
