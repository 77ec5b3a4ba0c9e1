"""Template helpers for the ops console: the budget banner, money, and timeline details."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from videogen import reports
from videogen.pricing import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None) -> str:
    """$1,234.56 (cents, half-up like the API); an em dash for nothing."""
    return format_money(amount)


@register.filter
def key_values(details: Any) -> str:
    """A timeline entry's details as `key: value` lines (lists joined by commas), not Python's dict syntax."""
    if not isinstance(details, dict):
        return _plain(details)
    return "\n".join(f"{key}: {_plain(value)}" for key, value in details.items())


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key} {_plain(item)}" for key, item in value.items()) or "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(item) for item in value) or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value is None or value == "" else str(value)


@register.inclusion_tag("admin/videogen/budget_banner.html", takes_context=True)
def budget_banner(context: Any) -> dict[str, Any]:
    """The soft/hard daily limit banner, for staff on every admin page once a limit is reached today."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return {"alert": None}
    return {
        "alert": reports.budget_alert(),
        "can_review": user.has_perm("videogen.view_costentry"),
        "can_edit_budget": user.has_perm("videogen.view_budgetsettings"),
    }
