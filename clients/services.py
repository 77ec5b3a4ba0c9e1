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


class LastOwner(Exception):
    """A client always keeps at least one owner, or nobody could manage it any more."""


def _is_last_owner(client: Client, user: Any) -> bool:
    owners = Membership.objects.filter(client=client, role=Membership.Role.OWNER)
    return owners.count() == 1 and owners.filter(user=user).exists()


@transaction.atomic
def set_membership(*, client: Client, username: str, role: str) -> Membership:
    user = get_user_model().objects.get(username=username)
    if role != Membership.Role.OWNER and _is_last_owner(client, user):
        raise LastOwner()
    membership, _ = Membership.objects.update_or_create(user=user, client=client, defaults={"role": role})
    return membership


@transaction.atomic
def remove_membership(membership: Membership) -> None:
    if membership.role == Membership.Role.OWNER and _is_last_owner(membership.client, membership.user):
        raise LastOwner()
    membership.delete()
