"""The admin analytics page in a real browser: reach it from the admin index, pick a client and a
range, read the key figures and the SVG charts (the hand-computed week of tests/analytics_data.py),
open the numbers behind a chart, and come back to it from the client's page."""

from __future__ import annotations

import pytest

from tests.analytics_data import WEEK, build_week
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ops_user(transactional_db):
    user = UserFactory(username="ops", is_staff=True, is_superuser=True)
    user.set_password("ops-password-123")
    user.save()
    return user


def log_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "ops-password-123")
    page.click("input[type=submit]")
    page.wait_for_selector("#ops-module")


def test_analytics_page_end_to_end(live_server, page, screenshot, ops_user, tenant):
    week = build_week(tenant)
    log_in(page, live_server)

    page.click("#ops-module a:text-is('Analytics')")
    page.wait_for_selector("#choose-client")
    screenshot("choose-client")

    page.select_option("#id_client", str(week.tenant.client.pk))
    page.fill("#id_from", WEEK["from"])
    page.fill("#id_to", WEEK["to"])
    page.click("#analytics-form input[type=submit]")
    page.wait_for_selector("#chart-spend-by-day")

    figures = {key: page.inner_text(f"#kpi-{key} b") for key in
               ("spend", "started", "videos", "avg-cost", "approval-rate", "refinements", "median-approve")}
    assert figures == {"spend": "$15.04", "started": "6", "videos": "5", "avg-cost": "$3.01",
                       "approval-rate": "60%", "refinements": "0.50", "median-approve": "5 min"}
    assert page.locator("#chart-spend-by-day rect.vg-bar").count() == 7
    assert page.locator("#chart-outcomes rect.vg-bar").count() == 5
    assert page.locator("#chart-platforms rect.vg-bar").count() == 4
    assert page.locator("#chart-campaigns rect.vg-bar").count() == 2
    # Each chart is an image whose accessible name is its title (Chromium's accessibility tree).
    for chart_id, name in (("chart-spend-by-day", "Spend per day"), ("chart-outcomes", "Job outcomes"),
                           ("chart-platforms", "Spend by platform"), ("chart-campaigns", "Spend by campaign")):
        assert page.get_by_role("img", name=name).get_attribute("id") == chart_id
    # The tallest day (03-07, $6.00) is drawn taller than 03-01 ($4.53), in proportion.
    heights = page.eval_on_selector_all("#chart-spend-by-day rect.vg-bar",
                                        "bars => bars.map(bar => bar.getBoundingClientRect().height)")
    assert heights[6] / heights[0] == pytest.approx(6.00 / 4.53, rel=0.02)
    assert all(width > 200 for width in page.eval_on_selector_all(
        "svg.vg-chart", "charts => charts.map(chart => chart.getBoundingClientRect().width)"))
    screenshot("week")

    page.click("#campaigns summary")
    rows = page.locator("#campaigns details tbody tr")
    assert rows.nth(0).inner_text().split("\t") == ["Spring launch", "4", "$9.02"]
    assert rows.nth(1).inner_text().split("\t") == ["Summer drop", "1", "$6.02"]

    page.select_option("#id_campaign", str(week.summer.pk))
    page.click("#analytics-form input[type=submit]")
    page.wait_for_selector("#chart-spend-by-day")
    assert page.inner_text("#kpi-started b") == "2"
    assert page.locator("#chart-campaigns rect.vg-bar").count() == 1
    screenshot("one-campaign")

    page.goto(f"{live_server.url}/admin/clients/client/{week.tenant.client.pk}/change/")
    page.click("#client-analytics-link")
    page.wait_for_selector("#chart-spend-by-day")
    assert page.locator("#id_client option:checked").inner_text() == week.tenant.client.name
    assert page.locator(".vg-presets a[aria-current=true]").inner_text() == "Last 30 days"
