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


def check_logo_url(url: str) -> None:
    """Raises UnsafeURL unless `url` is empty or an http(s) URL that the SSRF guard lets through.

    A host that does not resolve now is accepted: the render resolves and vets it again when it fetches.
    """
    from videogen.netguard import UnresolvableHost, check_public_url

    if not url:
        return
    try:
        check_public_url(url)
    except UnresolvableHost:
        pass


def is_own_logo_asset(client: Client | None, asset_id: Any) -> bool:
    """True if `asset_id` is an image uploaded for `client` (a client being created owns no asset yet)."""
    from videogen.models import Asset

    if client is None or client.pk is None:
        return False
    return Asset.objects.filter(pk=asset_id, client_id=client.pk, type=Asset.Kind.IMAGE).exists()


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
