"""`manage.py seed_demo`: idempotent demo tenant, ids printed as one JSON line."""

from __future__ import annotations

import io
import json

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from campaigns.models import Campaign
from clients.models import Client, Membership
from videogen.models import Asset


def seed(*args: str) -> dict:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_prints_the_ids_as_one_json_line(db):
    printed = seed()

    client = Client.objects.get(name="Northwind Sneakers")
    assert printed == {
        "username": "demo",
        "clientId": str(client.id),
        "campaignId": str(Campaign.objects.get(client=client).id),
        "productAssetId": str(Asset.objects.get(client=client, role=Asset.Role.PRODUCT).id),
    }


def test_running_twice_keeps_one_user_client_campaign_and_logo(db):
    first = seed()
    second = seed()

    assert first == second
    assert get_user_model().objects.filter(username="demo").count() == 1
    assert Client.objects.filter(name="Northwind Sneakers").count() == 1
    assert Campaign.objects.count() == 1
    assert Asset.objects.filter(role=Asset.Role.LOGO).count() == 1
    assert Asset.objects.filter(role=Asset.Role.PRODUCT).count() == 1


def test_demo_user_owns_the_client_and_can_use_the_admin(db):
    printed = seed("--password", "another-password-1")

    user = get_user_model().objects.get(username="demo")
    assert user.is_staff and user.is_superuser
    assert user.check_password("another-password-1")
    assert Membership.objects.get(user=user, client_id=printed["clientId"]).role == Membership.Role.OWNER


def test_client_has_brand_guidelines_and_a_stored_logo(db):
    client = Client.objects.get(id=seed()["clientId"])

    assert len(client.color_palette) == 3
    assert client.brand_voice and client.visual_style and client.forbidden_elements
    logo = Asset.objects.get(client=client, role=Asset.Role.LOGO)
    assert client.logo_asset == logo
    assert client.logo_url == ""
    assert logo.file.name.startswith(f"uploads/{client.id}/")
    with default_storage.open(logo.file.name) as handle, Image.open(handle) as image:
        assert image.format == "PNG"


def test_campaign_has_a_brief(db):
    campaign = Campaign.objects.get(id=seed()["campaignId"])

    assert campaign.objective and campaign.key_messages and campaign.cta and campaign.do_not_mention


def test_lost_logo_file_is_replaced(db):
    client_id = seed()["clientId"]
    default_storage.delete(Client.objects.get(id=client_id).logo_asset.file.name)

    seed()

    assert default_storage.exists(Client.objects.get(id=client_id).logo_asset.file.name)
    assert Asset.objects.filter(role=Asset.Role.LOGO).count() == 1


def test_the_product_image_is_a_stored_cut_out_of_the_demo_client(db):
    printed = seed()

    product = Asset.objects.get(id=printed["productAssetId"])
    assert str(product.client_id) == printed["clientId"] and product.type == Asset.Kind.IMAGE
    with default_storage.open(product.file.name, "rb") as stored, Image.open(stored) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # transparent around the shoe
        assert image.getpixel((image.width // 2, image.height // 2))[3] == 255
