"""Clients (brand guidelines), campaigns, memberships and assets in admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import Client, Membership
from tests import media_files
from tests.factories import AssetFactory, CampaignFactory, ClientFactory, MembershipFactory, UserFactory
from videogen.models import Asset
from videogen.storage import save_file

pytestmark = pytest.mark.django_db


def client_page(client_obj) -> str:
    return reverse("admin:clients_client_change", args=[client_obj.pk])


def test_client_page_renders_the_palette_as_colour_swatches(admin_client):
    brand = ClientFactory(color_palette=["#FF6B6B", "#4ECDC4"])

    body = admin_client.get(client_page(brand)).content.decode()

    assert '<span class="vg-swatch" style="background:#FF6B6B" title="#FF6B6B"></span>' in body
    assert '<span class="vg-swatch" style="background:#4ECDC4" title="#4ECDC4"></span>' in body


def test_swatches_never_render_a_malformed_colour(admin_client):
    brand = ClientFactory(color_palette=["#FF6B6B", "red;background:url(x)"])

    body = admin_client.get(client_page(brand)).content.decode()

    assert "background:red" not in body


def test_client_page_previews_a_stored_logo_through_a_signed_url(admin_client, tmp_path):
    brand = ClientFactory(logo_url="")
    logo = save_file(f"uploads/{brand.id}/logo.png", media_files.png(tmp_path / "logo.png"))
    brand.logo_asset = Asset.objects.create(client=brand, file=logo, type="image", mime_type="image/png", size=1)
    brand.save()

    body = admin_client.get(client_page(brand)).content.decode()

    assert '<img src="/media/signed/' in body and 'alt="logo"' in body


def test_client_page_previews_an_external_logo_url(admin_client):
    brand = ClientFactory(logo_url="https://cdn.example.com/logo.png")

    body = admin_client.get(client_page(brand)).content.decode()

    assert '<img src="https://cdn.example.com/logo.png" alt="logo"' in body


def test_brand_guidelines_are_edited_as_text_and_stored_as_lists(admin_client):
    response = admin_client.post(reverse("admin:clients_client_add"), {
        "name": "Northwind", "brand_voice": "calm", "visual_style": "clean",
        "forbidden_elements": "competitor logos\nstock photography\n", "color_palette": "#ff6b6b, #4ECDC4 #FFE66D",
        "logo_url": "", "logo_asset": "", "daily_budget": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "campaigns-TOTAL_FORMS": "0", "campaigns-INITIAL_FORMS": "0",
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    brand = Client.objects.get(name="Northwind")
    assert brand.color_palette == ["#FF6B6B", "#4ECDC4", "#FFE66D"]
    assert brand.forbidden_elements == ["competitor logos", "stock photography"]


def test_an_invalid_palette_colour_is_refused(admin_client):
    response = admin_client.post(reverse("admin:clients_client_add"), {
        "name": "Bad colours", "color_palette": "#FF6B6B, blue", "forbidden_elements": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "campaigns-TOTAL_FORMS": "0", "campaigns-INITIAL_FORMS": "0",
    })

    assert response.status_code == 200
    assert "Use a colour like #FF6B6B." in response.content.decode()
    assert not Client.objects.filter(name="Bad colours").exists()


def test_memberships_are_managed_inline_on_the_client(admin_client):
    brand = ClientFactory()
    member = MembershipFactory(client=brand, role=Membership.Role.VIEWER)

    body = admin_client.get(client_page(brand)).content.decode()

    assert 'id="memberships-group"' in body
    assert member.user.username in body


def test_memberships_are_managed_inline_on_the_user(admin_client):
    user = UserFactory()
    MembershipFactory(user=user, client=ClientFactory(name="Acme Shoes"))

    body = admin_client.get(reverse("admin:auth_user_change", args=[user.pk])).content.decode()

    assert "Acme Shoes" in body
    assert 'id="memberships-group"' in body


def test_campaign_brief_lists_are_edited_one_per_line(admin_client):
    brand = ClientFactory()

    response = admin_client.post(reverse("admin:campaigns_campaign_add"), {
        "client": str(brand.pk), "name": "Spring", "objective": "Launch", "cta": "Shop now",
        "key_messages": "sustainability\nperformance", "do_not_mention": "old lines",
    })

    assert response.status_code == 302
    campaign = brand.campaigns.get()
    assert campaign.key_messages == ["sustainability", "performance"]
    assert campaign.do_not_mention == ["old lines"]


def test_campaign_list_links_to_its_jobs(admin_client):
    campaign = CampaignFactory(name="Spring drop")

    body = admin_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()

    assert f"?campaign__id__exact={campaign.pk}" in body


def test_image_asset_page_shows_a_preview(admin_client, tmp_path):
    image = save_file("uploads/product.png", media_files.png(tmp_path / "p.png"))
    asset = AssetFactory(file=image)

    body = admin_client.get(reverse("admin:videogen_asset_change", args=[asset.pk])).content.decode()

    assert '<img class="vg-preview" src="/media/signed/' in body


def test_video_asset_page_shows_a_player(admin_client):
    asset = AssetFactory(file="uploads/clip.mp4", type="video", mime_type="video/mp4", duration_seconds=2.0)

    body = admin_client.get(reverse("admin:videogen_asset_change", args=[asset.pk])).content.decode()

    assert '<video class="vg-preview" controls preload="metadata" src="/media/signed/' in body


def _client_form(brand, **fields):
    data = {
        "name": brand.name, "brand_voice": "", "visual_style": "", "forbidden_elements": "", "color_palette": "",
        "logo_url": "", "logo_asset": "", "daily_budget": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "campaigns-TOTAL_FORMS": "0", "campaigns-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize("value", ["storyboards/1/scene_1.png", "file:///etc/passwd", "http://169.254.169.254/"])
def test_admin_refuses_a_logo_url_that_is_not_a_public_http_url(admin_client, value):
    brand = ClientFactory()

    response = admin_client.post(client_page(brand), _client_form(brand, logo_url=value))

    assert response.status_code == 200
    assert Client.objects.get(pk=brand.pk).logo_url == ""


def test_admin_offers_only_the_clients_own_images_as_its_logo(admin_client, tmp_path):
    brand, other = ClientFactory(), ClientFactory()
    theirs = Asset.objects.create(client=other, file=f"uploads/{other.id}/x.png", type="image", mime_type="image/png",
                                  size=1)

    response = admin_client.post(client_page(brand), _client_form(brand, logo_asset=str(theirs.pk)))

    assert response.status_code == 200
    assert Client.objects.get(pk=brand.pk).logo_asset is None
