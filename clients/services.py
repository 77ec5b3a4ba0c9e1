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


def _lock_memberships(client_id: Any) -> None:
    """Serialises membership changes of one client until the transaction ends.

    The last-owner rule reads several rows and writes one: two owners demoting each other at once would
    each see the other still an owner and both succeed, leaving none. Locking the client row makes the
    second change wait, then see the first one's result.
    """
    list(Client.objects.select_for_update().filter(pk=client_id).values_list("pk", flat=True))


def _is_last_owner(client_id: Any, user: Any) -> bool:
    owners = Membership.objects.filter(client_id=client_id, role=Membership.Role.OWNER)
    return owners.count() == 1 and owners.filter(user=user).exists()


class NotOwner(Exception):
    """The acting user stopped being an owner of the client before their change could be applied."""


def _check_still_owner(client_id: Any, actor: Any) -> None:
    if actor is not None and not Membership.objects.filter(
        client_id=client_id, user=actor, role=Membership.Role.OWNER
    ).exists():
        raise NotOwner()


@transaction.atomic
def set_membership(*, client: Client, username: str, role: str, actor: Any = None) -> Membership:
    """Adds `username` to the client or changes their role. `actor`, when given, must still be an owner
    once the client's memberships are locked (a concurrent change may have demoted them)."""
    user = get_user_model().objects.get(username=username)
    _lock_memberships(client.pk)
    _check_still_owner(client.pk, actor)
    if role != Membership.Role.OWNER and _is_last_owner(client.pk, user):
        raise LastOwner()
    membership, _ = Membership.objects.update_or_create(user=user, client=client, defaults={"role": role})
    return membership


@transaction.atomic
def remove_membership(membership: Membership, *, actor: Any = None) -> None:
    _lock_memberships(membership.client_id)
    _check_still_owner(membership.client_id, actor)
    current = Membership.objects.filter(pk=membership.pk).first()  # as it is now, under the lock
    if current is None:
        return
    if current.role == Membership.Role.OWNER and _is_last_owner(current.client_id, current.user_id):
        raise LastOwner()
    current.delete()
