"""Clients with their brand guidelines, and who may act for them (memberships, also on each user)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from campaigns.models import Campaign
from clients.models import Client, Membership, validate_palette
from videogen import callbacks
from videogen.signed_urls import sign_media_url

HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


class LinesField(forms.CharField):
    """A JSON list of strings edited as one item per line."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "One per line.")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(item) for item in value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


class PaletteField(forms.CharField):
    """Colours edited as `#FF6B6B, #4ECDC4` and stored as a JSON list."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Up to 12 colours like #FF6B6B, separated by commas or spaces.")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        colours = [part.upper() for part in re.split(r"[\s,;]+", text) if part]
        try:
            validate_palette(colours)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return colours


def swatches(colours: Any) -> str:
    """Colour chips for a palette; only well-formed hex colours reach the style attribute."""
    valid = [colour for colour in colours or [] if isinstance(colour, str) and HEX.match(colour)]
    if not valid:
        return "—"
    return format_html_join(
        "", '<span class="vg-swatch" style="background:{}" title="{}"></span>', ((c, c) for c in valid)
    )


def logo_preview(client: Client) -> str:
    """The client's logo: its own uploaded asset (signed URL) or an external http(s) image.

    Only an asset row of this client is ever signed; a stored string is never turned into a storage name.
    """
    asset = client.logo_asset
    if asset is not None and asset.client_id == client.pk:
        if not default_storage.exists(asset.file.name):
            return format_html("<code>{}</code> (not found in storage)", asset.filename or asset.pk)
        url = sign_media_url(asset.file.name)
    elif client.logo_url.lower().startswith(("http://", "https://")):
        url = client.logo_url
    else:
        return "—"
    return format_html('<img src="{}" alt="logo" style="max-height:80px;max-width:240px">', url)


class ClientForm(forms.ModelForm):
    color_palette = PaletteField()
    forbidden_elements = LinesField(help_text="Things the brand never shows; one per line.")

    class Meta:
        model = Client
        fields = ["name", "brand_voice", "visual_style", "forbidden_elements", "color_palette", "logo_url",
                  "logo_asset", "daily_budget"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from videogen.models import Asset

        # Only this client's own images can be its logo (none before it exists).
        own = Asset.objects.filter(client_id=self.instance.pk, type=Asset.Kind.IMAGE) if self.instance.pk else None
        self.fields["logo_asset"].queryset = own if own is not None else Asset.objects.none()
        self.fields["logo_url"].help_text = "An external http(s) image; or pick one of the client's uploads below."

    def clean_logo_url(self) -> str:
        from clients.services import check_logo_url
        from videogen.netguard import UnsafeURL

        url = self.cleaned_data.get("logo_url", "")
        try:
            check_logo_url(url)
        except UnsafeURL as exc:
            raise ValidationError(str(exc)) from None
        return url


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "client"
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class CampaignInline(admin.TabularInline):
    model = Campaign
    extra = 0
    fields = ["name", "cta", "created_at"]
    readonly_fields = ["name", "cta", "created_at"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientForm
    list_display = ["name", "palette", "member_count", "campaign_count", "jobs_link", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["palette", "logo", "callback_secret_status", "created_at", "updated_at"]
    actions = ["rotate_callback_secret"]
    fieldsets = [
        (None, {"fields": ["name"]}),
        ("Brand guidelines", {"fields": ["brand_voice", "visual_style", "forbidden_elements", "color_palette",
                                         "palette", "logo_url", "logo_asset", "logo"]}),
        ("Spend", {"fields": ["daily_budget"]}),
        ("Job callbacks", {"fields": ["callback_secret_status"]}),
        ("Times", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [MembershipInline, CampaignInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(
            _members=Count("memberships", distinct=True), _campaigns=Count("campaigns", distinct=True)
        )

    @admin.display(description="palette")
    def palette(self, client: Client) -> str:
        return swatches(client.color_palette)

    @admin.display(description="logo preview")
    def logo(self, client: Client) -> str:
        return logo_preview(client)

    @admin.display(description="callback secret")
    def callback_secret_status(self, client: Client) -> str:
        # Never the secret itself: it is shown once, by the rotate action.
        if not client.callback_secret:
            return "Not set: callbacks cannot be signed. Use the action “Rotate callback secret”."
        when = client.callback_secret_rotated_at
        return f"Set{' on ' + when.strftime('%Y-%m-%d %H:%M UTC') if when else ''} (shown once when made)."

    @admin.action(description="Rotate callback secret (shows the new secret once)")
    def rotate_callback_secret(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse:
        rotated = [(client, callbacks.rotate_secret(client)) for client in queryset.order_by("name")]
        for client, _secret in rotated:
            self.log_change(request, client, "Rotated the callback secret.")
        return TemplateResponse(request, "admin/clients/client/callback_secret.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "rotated": rotated,
            "title": "New callback secret",
        })

    @admin.display(description="members", ordering="_members")
    def member_count(self, client: Client) -> int:
        return client._members

    @admin.display(description="campaigns", ordering="_campaigns")
    def campaign_count(self, client: Client) -> int:
        return client._campaigns

    @admin.display(description="jobs")
    def jobs_link(self, client: Client) -> str:
        url = reverse("admin:videogen_videojob_changelist") + f"?client__id__exact={client.pk}"
        return format_html('<a href="{}">jobs</a>', url)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "client", "role", "created_at"]
    list_filter = ["role", ("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__email", "client__name"]
    autocomplete_fields = ["user", "client"]
    list_select_related = ["user", "client"]


# Memberships on each user's page too: replace the registered user admin with one that has them.
User = get_user_model()


class UserMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["client"]
    fields = ["client", "role", "created_at"]
    readonly_fields = ["created_at"]


_BaseUserAdmin: type[admin.ModelAdmin] = type(admin.site._registry[User]) if admin.site.is_registered(User) \
    else UserAdmin
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserWithMembershipsAdmin(_BaseUserAdmin):  # type: ignore[misc, valid-type]
    inlines = [*_BaseUserAdmin.inlines, UserMembershipInline]
