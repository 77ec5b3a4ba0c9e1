"""Tenancy in one place: every object is visible only to members of its client.

Querysets are scoped here; a foreign tenant's object is simply absent (404, never 403),
and viewers may read but not write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import permissions
from rest_framework.request import Request

from clients.models import Client, Membership


def client_ids_for(user: Any) -> QuerySet:
    return Membership.objects.filter(user=user).values("client_id")


def role_for(user: Any, client_id: Any) -> str | None:
    return Membership.objects.filter(user=user, client_id=client_id).values_list("role", flat=True).first()


def scope_to_user(queryset: QuerySet, user: Any, client_field: str = "client") -> QuerySet:
    """Restricts any client-owned queryset to the clients `user` belongs to."""
    if not user or not user.is_authenticated:
        return queryset.none()
    if queryset.model is Client:
        return queryset.filter(id__in=client_ids_for(user))
    return queryset.filter(**{f"{client_field}_id__in": client_ids_for(user)})


def belongs_to_another_tenant(queryset: QuerySet, object_id: Any, user: Any, client_field: str = "client") -> bool:
    """True when the object exists but `user` is not a member of its client (a probe the logs report).

    A malformed id is simply not an object.
    """
    try:
        found = queryset.filter(pk=object_id)
        return found.exists() and not scope_to_user(found, user, client_field).exists()
    except (ValueError, TypeError, DjangoValidationError):
        return False


def tenant_probe(model: Any) -> Callable[[Any, Any], bool]:
    """A probe for config.logging's cross-tenant warning: does object `id` of `model` belong to another tenant?"""
    return lambda object_id, user: belongs_to_another_tenant(model.objects.all(), object_id, user)


def client_of(obj: Any) -> Any:
    return obj.id if isinstance(obj, Client) else obj.client_id


class TenantWritePermission(permissions.BasePermission):
    """Reads for any member; writes for owners and editors. Objects were already scoped to members."""

    message = "Viewers may read but not change this client's data."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return role_for(request.user, client_of(obj)) in Membership.WRITER_ROLES


class TenantScopedViewSetMixin:
    """Viewset mixin: the queryset is scoped to the caller's clients before any lookup."""

    client_field = "client"
    permission_classes = [permissions.IsAuthenticated, TenantWritePermission]

    def get_queryset(self) -> QuerySet:
        return scope_to_user(super().get_queryset(), self.request.user, self.client_field)
