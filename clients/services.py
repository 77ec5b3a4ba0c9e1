"""Writes for clients and memberships."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from clients.models import Client, Membership


@transaction.atomic
def create_client(*, user: Any, **fields: Any) -> Client:
    """Any authenticated user may create a client and becomes its owner."""
    client = Client.objects.create(**fields)
    Membership.objects.create(user=user, client=client, role=Membership.Role.OWNER)
    return client


def set_membership(*, client: Client, username: str, role: str) -> Membership:
    user = get_user_model().objects.get(username=username)
    membership, _ = Membership.objects.update_or_create(user=user, client=client, defaults={"role": role})
    return membership
