"""Campaigns and their briefs (objective, key messages, CTA, what not to mention)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from campaigns.models import Campaign
from clients.admin import LinesField


class CampaignForm(forms.ModelForm):
    key_messages = LinesField(help_text="The messages every video carries; one per line.")
    do_not_mention = LinesField(help_text="Never said or shown; one per line.")

    class Meta:
        model = Campaign
        fields = ["client", "name", "objective", "key_messages", "cta", "do_not_mention"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ["name", "client", "cta", "jobs_link", "created_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "client__name", "objective"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["client", "name"]}),
        ("Brief", {"fields": ["objective", "key_messages", "cta", "do_not_mention"]}),
        ("Times", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(_jobs=Count("jobs"))

    @admin.display(description="jobs", ordering="_jobs")
    def jobs_link(self, campaign: Campaign) -> str:
        url = reverse("admin:videogen_videojob_changelist") + f"?campaign__id__exact={campaign.pk}"
        return format_html('<a href="{}">{} job{}</a>', url, campaign._jobs, "" if campaign._jobs == 1 else "s")
