"""Template helpers for the ops console: the budget banner and money formatting."""

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
