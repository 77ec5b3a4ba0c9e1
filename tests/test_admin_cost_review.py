"""The cost review page and the budget limits in admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.cost_data import known_day
from tests.factories import BudgetSettingsFactory, CostEntryFactory, UserFactory
from videogen.models import BudgetSettings

pytestmark = pytest.mark.django_db
REVIEW = "/admin/videogen/costentry/review/"


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_cost_review_lives_under_the_videogen_app():
    assert reverse("admin:videogen_cost_review") == REVIEW


def test_cost_review_shows_the_chosen_range_by_client_and_campaign(admin_client):
    known_day()

    response = admin_client.get(REVIEW, {"from": "2025-11-15", "to": "2025-11-15"})

    assert response.status_code == 200
    body = response.content.decode()
    assert '<b id="range-spend">$12.25</b>' in body
    assert '<b id="range-average">$4.75</b>' in body
    assert '<b id="range-ratio">1.05</b>' in body
    by_client = body[body.index('id="by-client"'):body.index('id="by-campaign"')]
    assert by_client.index("Northwind") < by_client.index("Acme")
    by_campaign = body[body.index('id="by-campaign"'):body.index('id="overruns"')]
    assert by_campaign.index("Holiday") < by_campaign.index("Spring") < by_campaign.index("Launch")


def test_cost_review_shows_todays_spend_against_the_limits(admin_client, settings):
    settings.DAILY_BUDGET_SOFT = Decimal("5")
    settings.DAILY_BUDGET_HARD = Decimal("8")
    CostEntryFactory(amount=Decimal("6.10"))

    body = admin_client.get(REVIEW).content.decode()

    assert '<b id="spent-today">$6.10</b>' in body
    budget = body[body.index('id="budget"'):body.index('id="range-form"')]
    assert "$5.00" in budget and "$8.00" in budget
    assert '<span class="vg-badge vg-badge--warn">reached</span>' in budget
    assert "Daily soft budget limit reached" in body


def test_cost_review_reports_a_bad_date_and_falls_back_to_the_last_week(admin_client):
    body = admin_client.get(REVIEW, {"from": "15/11/2025"}).content.decode()

    assert "is not a date for From; use YYYY-MM-DD" in body


def test_cost_review_refuses_a_range_that_ends_before_it_starts(admin_client):
    body = admin_client.get(REVIEW, {"from": "2025-11-16", "to": "2025-11-15"}).content.decode()

    assert "The range ends before it starts" in body


def test_staff_without_cost_permission_gets_403_on_cost_review(client):
    client.force_login(staff_with("view_videojob"))

    assert client.get(REVIEW).status_code == 403


def test_staff_with_cost_view_permission_may_open_cost_review(client):
    client.force_login(staff_with("view_costentry"))

    assert client.get(REVIEW).status_code == 200


def test_non_staff_are_sent_to_login_from_cost_review(client):
    client.force_login(UserFactory())

    response = client.get(REVIEW)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_index_links_the_console_cost_review_and_task_queue(admin_client):
    body = admin_client.get("/admin/").content.decode()

    ops = body[body.index('id="ops-module"'):]
    assert reverse("admin:videogen_videojob_changelist") in ops
    assert REVIEW in ops
    assert reverse("admin:django_q_failure_changelist") in ops
    assert reverse("admin:django_q_schedule_changelist") in ops


def test_cost_ledger_is_read_only(admin_client):
    entry = CostEntryFactory()

    assert admin_client.get(reverse("admin:videogen_costentry_add")).status_code == 403
    assert admin_client.post(reverse("admin:videogen_costentry_change", args=[entry.pk]),
                             {"amount": "0"}).status_code == 403


# --- Budget limits -------------------------------------------------------------------------------


def test_budget_settings_list_leads_to_the_single_settings_form(admin_client):
    response = admin_client.get(reverse("admin:videogen_budgetsettings_changelist"))
    assert response["Location"] == reverse("admin:videogen_budgetsettings_add")

    settings_row = BudgetSettingsFactory()
    response = admin_client.get(reverse("admin:videogen_budgetsettings_changelist"))
    assert response["Location"] == reverse("admin:videogen_budgetsettings_change", args=[settings_row.pk])


def test_a_second_budget_settings_row_cannot_be_added(admin_client):
    BudgetSettingsFactory()

    assert admin_client.get(reverse("admin:videogen_budgetsettings_add")).status_code == 403


def test_budget_limits_saved_in_admin_are_in_force(admin_client, settings):
    from videogen import costs

    response = admin_client.post(reverse("admin:videogen_budgetsettings_add"),
                                 {"daily_soft_limit": "40", "daily_hard_limit": ""})

    assert response.status_code == 302
    assert costs.budget_limits() == (Decimal("40"), settings.DAILY_BUDGET_HARD)


def test_a_soft_limit_above_the_hard_limit_is_refused(admin_client, settings):
    settings.DAILY_BUDGET_HARD = Decimal("150")

    response = admin_client.post(reverse("admin:videogen_budgetsettings_add"),
                                 {"daily_soft_limit": "200", "daily_hard_limit": ""})

    assert response.status_code == 200
    assert "must not exceed the hard limit ($150)" in response.content.decode()
    assert not BudgetSettings.objects.exists()
