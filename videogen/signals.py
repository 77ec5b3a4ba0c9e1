"""Keeps the budget gauges current: every booked cost and every change of the limits republishes them.

Spending happens in the workers (`costs.record_cost`), so that is where the soft limit is
crossed; the admin's budget banner republishes on every page as well, which also brings the
gauges back to 0 after midnight UTC. Publishing runs after commit and never breaks the write
that triggered it (`robust=True`: an error is logged, the ledger row stays).

Connected by `VideogenConfig.ready()`, so in every process: web, qcluster and management commands.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from videogen.models import BudgetSettings, CostEntry


def _publish() -> None:
    from videogen.reports import publish_budget_metrics

    publish_budget_metrics()


@receiver(post_save, sender=CostEntry, dispatch_uid="videogen.signals.cost_booked")
def cost_booked(sender: Any, instance: CostEntry, created: bool, **kwargs: Any) -> None:
    if created:
        transaction.on_commit(_publish, robust=True)


@receiver(post_save, sender=BudgetSettings, dispatch_uid="videogen.signals.limits_saved")
@receiver(post_delete, sender=BudgetSettings, dispatch_uid="videogen.signals.limits_deleted")
def limits_changed(sender: Any, **kwargs: Any) -> None:
    transaction.on_commit(_publish, robust=True)
