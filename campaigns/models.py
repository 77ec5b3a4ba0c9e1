"""Campaigns and their briefs (injected into every scene prompt), owned by a client."""

from __future__ import annotations

import uuid

from django.db import models

from clients.models import Client


class Campaign(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    objective = models.TextField(blank=True)
    key_messages = models.JSONField(default=list, blank=True)
    cta = models.CharField(max_length=300, blank=True)
    do_not_mention = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "created_at"])]

    def __str__(self) -> str:
        return self.name
