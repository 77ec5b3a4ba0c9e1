"""`manage.py seed_demo`: the demo tenant, created or brought back to its known state.

Safe to run any number of times. Prints one JSON line with the ids a script needs:
`{"username": "demo", "clientId": "...", "campaignId": "...", "productAssetId": "..."}`.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from PIL import Image, ImageDraw

from campaigns.models import Campaign
from clients.models import Client, Membership
from videogen import assets
from videogen.models import Asset

USERNAME = "demo"
CLIENT_NAME = "Northwind Sneakers"
CAMPAIGN_NAME = "Spring Street Launch"
PALETTE = ["#1B1F3B", "#FF6B35", "#F7F7F2"]
GUIDELINES = {
    "brand_voice": "Confident, energetic and warm; short sentences, no jargon.",
    "visual_style": "Urban streets at golden hour, bold contrast, clean compositions with room for the product.",
    "forbidden_elements": ["competitor logos", "stock photography look", "smoking"],
    "color_palette": PALETTE,
}
BRIEF = {
    "objective": "Launch the new Northwind Aero sneaker line to 18-25 year-old urban athletes.",
    "key_messages": ["recycled materials", "all-day comfort", "made for the city"],
    "cta": "Shop the Aero at northwind.example.com",
    "do_not_mention": ["previous product lines", "discounts"],
}


def _logo_png() -> bytes:
    """A simple Northwind mark: navy tile, orange disc, light stripe (Pillow only, no fonts needed)."""
    size = 256
    image = Image.new("RGBA", (size, size), PALETTE[0])
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, size - 40, size - 40), fill=PALETTE[1])
    draw.polygon([(70, 180), (186, 64), (200, 78), (84, 194)], fill=PALETTE[2])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _product_png() -> bytes:
    """The Northwind Aero, drawn as a cut-out (transparent background) like a studio packshot."""
    w, h = 640, 400
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    navy, orange, light = PALETTE
    draw.rounded_rectangle((40, 300, 600, 350), radius=25, fill=light)  # sole
    draw.rounded_rectangle((40, 330, 600, 362), radius=16, fill=orange)  # outsole
    draw.polygon([(60, 305), (90, 170), (250, 120), (330, 190), (470, 215), (590, 262), (600, 305)], fill=navy)
    draw.polygon([(230, 135), (300, 180), (260, 210), (200, 160)], fill=light)  # tongue
    draw.line([(120, 250), (440, 226)], fill=orange, width=22)  # swoosh stripe
    for x in range(250, 340, 22):  # laces
        draw.line([(x, 170), (x + 30, 205)], fill=light, width=7)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Creates or updates the demo user, the Northwind Sneakers client (with logo) and a campaign."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", default="demo-password-123", help="The demo user's password.")

    def handle(self, *args: Any, password: str, **options: Any) -> None:
        with transaction.atomic():
            user = self._user(password)
            client = self._client(user)
            self._logo(client, user)
            product = self._product(client, user)
            campaign, _ = Campaign.objects.update_or_create(client=client, name=CAMPAIGN_NAME, defaults=BRIEF)
        self.stdout.write(json.dumps({"username": user.username, "clientId": str(client.id),
                                      "campaignId": str(campaign.id), "productAssetId": str(product.id)}))

    def _user(self, password: str) -> Any:
        user, _ = get_user_model().objects.get_or_create(username=USERNAME, defaults={"email": "demo@example.com"})
        user.is_staff = user.is_superuser = user.is_active = True  # the admin console is part of the demo
        user.set_password(password)
        user.save()
        return user

    def _client(self, user: Any) -> Client:
        client = Client.objects.filter(name=CLIENT_NAME, memberships__user=user).first()
        if client is None:
            client = Client.objects.create(name=CLIENT_NAME, **GUIDELINES)
        else:
            for field, value in GUIDELINES.items():
                setattr(client, field, value)
            client.save()
        Membership.objects.update_or_create(user=user, client=client, defaults={"role": Membership.Role.OWNER})
        return client

    def _logo(self, client: Client, user: Any) -> None:
        """Keeps the stored logo if it is still there; otherwise uploads a fresh one through the asset service."""
        logo = client.logo_asset if client.logo_asset_id and client.logo_asset.client_id == client.pk else None
        if logo is not None and not default_storage.exists(logo.file.name):
            logo.delete()  # its file is gone (media wiped): a row pointing at nothing helps no one
            logo = None
        if logo is None:
            upload = SimpleUploadedFile("northwind-logo.png", _logo_png(), content_type="image/png")
            logo = assets.store_asset(client=client, upload=upload, user=user, role=Asset.Role.LOGO)
        # The client's own asset, by reference: the pipeline opens it from storage for the end card.
        client.logo_asset = logo
        client.logo_url = ""
        client.save(update_fields=["logo_asset", "logo_url", "updated_at"])

    def _product(self, client: Client, user: Any) -> Asset:
        """The product packshot the demo puts in its product scene (uploaded once, kept while its file is)."""
        product = Asset.objects.filter(client=client, role=Asset.Role.PRODUCT, filename="northwind-aero.png").first()
        if product is not None and not default_storage.exists(product.file.name):
            product.delete()
            product = None
        if product is None:
            upload = SimpleUploadedFile("northwind-aero.png", _product_png(), content_type="image/png")
            product = assets.store_asset(client=client, upload=upload, user=user, role=Asset.Role.PRODUCT)
        return product
