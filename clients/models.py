"""Clients (the brands an agency works for), their brand guidelines, and who may act for them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

hex_colour = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Use a colour like #FF6B6B.")


def validate_logo_url(value: str) -> None:
    """A logo URL is an external http(s) address: never a storage name, a path or another scheme.

    Stored strings that became storage names let one tenant read another's files (issue 10); a client's
    own uploaded logo is referenced by `logo_asset` instead. Where the URL may point is checked by the SSRF
    guard when it is saved through the API and again when the render fetches it.
    """
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValidationError("Use an http(s) URL, or upload the logo as an asset and reference it by id.")


def validate_palette(value: object) -> None:
    if not isinstance(value, list) or len(value) > 12:
        raise ValidationError("A palette is a list of at most 12 colours.")
    for colour in value:
        if not isinstance(colour, str):
            raise ValidationError("Colours are strings like #FF6B6B.")
        hex_colour(colour)


class Client(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # Brand guidelines, injected into every scene prompt (videogen/prompts.py).
    brand_voice = models.CharField(max_length=500, blank=True)
    visual_style = models.CharField(max_length=500, blank=True)
    forbidden_elements = models.JSONField(default=list, blank=True)
    # The logo is either one of this client's uploaded image assets, or an external http(s) URL fetched
    # through the SSRF guard at render time. Never a storage name (see validate_logo_url).
    logo_url = models.CharField(max_length=1000, blank=True, validators=[validate_logo_url])
    logo_asset = models.ForeignKey(
        "videogen.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="One of this client's uploaded images, used as its logo.",
    )
    color_palette = models.JSONField(default=list, blank=True, validators=[validate_palette])
    # Optional cap on this client's spend per UTC day, set by ops in admin: one tenant's runaway spend is
    # refused (429 budget_exceeded) without pausing the others. The global soft/hard budget still applies.
    daily_budget = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True,
        help_text="Dollars per UTC day for this client; empty: only the global budget applies.",
    )
    # Signs job callbacks (HMAC-SHA256). Shown once when made or rotated in admin, never again.
    callback_secret = models.CharField(max_length=100, blank=True, editable=False)
    callback_secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="clients")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    WRITER_ROLES = (Role.OWNER, Role.EDITOR)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="unique_membership")]
        ordering = ["client__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.client} ({self.role})"
