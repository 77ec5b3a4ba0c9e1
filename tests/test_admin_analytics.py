"""The admin analytics page (per client and date range, SVG charts) and the charts themselves.

Figures come from the hand-computed week of tests/analytics_data.py (see tests/test_analytics_api.py).
"""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.analytics_data import WEEK, build_week
from tests.factories import ClientFactory, UserFactory
from videogen import charts

pytestmark = pytest.mark.django_db
PAGE = "/admin/videogen/videojob/analytics/"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def week(tenant):
    return build_week(tenant)


def page(admin_client, week, **params) -> str:
    response = admin_client.get(PAGE, {"client": week.tenant.client.pk, **WEEK, **params})
    assert response.status_code == 200
    return response.content.decode()


def kpi(body: str, key: str) -> str:
    return re.search(rf'id="kpi-{key}"><b>([^<]*)</b>', body).group(1)


def svg(body: str, chart_id: str) -> ElementTree.Element:
    markup = re.search(rf'<svg class="vg-chart" id="{chart_id}".*?</svg>', body, re.S).group(0)
    return ElementTree.fromstring(markup)


def test_the_page_lives_under_the_job_console():
    assert reverse("admin:videogen_analytics") == PAGE


def test_key_figures_are_the_weeks_hand_computed_numbers(admin_client, week):
    body = page(admin_client, week)

    assert [kpi(body, key) for key in ("spend", "started", "videos", "avg-cost", "approval-rate", "refinements",
                                       "median-approve")] == ["$15.04", "6", "5", "$3.01", "60%", "0.50", "5 min"]
    # $15.042 booked in the week, rounded once (the rounded days would add up to $15.06)


def test_spend_per_day_chart_has_one_bar_per_day_with_its_amount(admin_client, week):
    chart = svg(page(admin_client, week), "chart-spend-by-day")

    bars = chart.findall(f"{SVG}rect")
    assert [bar.find(f"{SVG}title").text for bar in bars] == [
        "2026-03-01: $4.53", "2026-03-02: $4.48", "2026-03-03: $0.01", "2026-03-04: $0.01", "2026-03-05: $0.01",
        "2026-03-06: $0.02", "2026-03-07: $6.00",
    ]
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[6] / heights[0] == pytest.approx(6.00 / 4.53, rel=0.01)


def test_every_chart_is_an_image_labelled_by_its_title_and_description(admin_client, week):
    body = page(admin_client, week)

    for chart_id in ("chart-spend-by-day", "chart-outcomes", "chart-platforms", "chart-campaigns"):
        chart = svg(body, chart_id)
        assert chart.get("role") == "img"
        labelled_by = chart.get("aria-labelledby").split()
        assert [chart.find(f"{SVG}{tag}").get("id") for tag in ("title", "desc")] == labelled_by
        assert chart.find(f"{SVG}desc").text


def test_outcome_chart_describes_the_job_counts(admin_client, week):
    chart = svg(page(admin_client, week), "chart-outcomes")

    assert chart.find(f"{SVG}desc").text == (
        "Jobs in the range: 6 started, 3 completed, 1 partially completed, 1 failed, 1 cancelled.")


def test_campaign_table_lists_spend_and_videos_most_spent_first(admin_client, week):
    body = page(admin_client, week)
    section = body[body.index('id="campaigns"'):]
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th><td class="num">([^<]*)</td><td class="num">([^<]*)</td>',
                      section)

    assert rows[:2] == [("Spring launch", "4", "$9.02"), ("Summer drop", "1", "$6.02")]


def test_campaign_choice_narrows_the_page(admin_client, week):
    body = page(admin_client, week, campaign=week.summer.pk)

    assert kpi(body, "started") == "2"
    assert kpi(body, "spend") == "$6.02"  # J3 .009 + .009 + 6.00, J4 .006


def test_without_a_client_the_page_offers_the_clients(admin_client, week):
    body = admin_client.get(PAGE).content.decode()

    assert 'id="choose-client"' in body
    assert f'href="?client={week.tenant.client.pk}"' in body
    assert '<svg class="vg-chart"' not in body


@pytest.mark.parametrize(("params", "message"), [
    ({"from": "2026-13-01"}, "“2026-13-01” is not a date for From; use YYYY-MM-DD."),
    ({"from": "2026-03-08", "to": "2026-03-01"}, "The range ends before it starts. Showing the last 30 days."),
    ({"client": "not-a-client"}, "There is no such client."),
])
def test_bad_choices_are_explained_and_a_safe_default_is_shown(admin_client, week, params, message):
    response = admin_client.get(PAGE, {"client": week.tenant.client.pk, **params})

    assert response.status_code == 200
    assert f'<p class="errornote">{message}</p>' in response.content.decode()


def test_staff_without_job_permission_is_refused(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(PAGE).status_code == 403


def test_staff_with_the_view_permission_may_read_it(client, week):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_videojob"))
    client.force_login(user)

    assert client.get(PAGE, {"client": week.tenant.client.pk, **WEEK}).status_code == 200


def test_admin_index_links_to_the_page(admin_client):
    assert f'<a href="{PAGE}">Analytics</a>' in admin_client.get("/admin/").content.decode()


def test_client_page_links_to_its_analytics(admin_client):
    client = ClientFactory()

    body = admin_client.get(f"/admin/clients/client/{client.pk}/change/").content.decode()

    assert f'href="{PAGE}?client={client.pk}"' in body


def test_job_console_links_to_the_page_for_the_filtered_client(admin_client):
    client = ClientFactory()

    body = admin_client.get("/admin/videogen/videojob/", {"client__id__exact": client.pk}).content.decode()

    assert f'href="{PAGE}?client={client.pk}"' in body


# --- The chart builders ------------------------------------------------------------------------------


@pytest.mark.parametrize(("largest", "expected"), [(4.53, (2.0, 6.0)), (6.0, (2.0, 6.0)), (0.018, (0.005, 0.02)),
                                                   (100, (25, 100)), (101, (50, 150)), (0, (1.0, 4.0))])
def test_axis_steps_are_round_and_cover_the_largest_value(largest, expected):
    step, top = charts.nice_scale(largest)

    assert (step, top) == pytest.approx(expected)
    assert top >= largest


def test_bar_chart_escapes_labels_and_scales_bars_to_the_largest():
    markup = charts.bar_chart("c", "Spend <by> campaign", "desc", [
        charts.Bar("<b>Launch</b>", Decimal("2"), "$2.00"), charts.Bar("Other", Decimal("1"), "$1.00"),
    ])
    chart = ElementTree.fromstring(str(markup))

    assert chart.find(f"{SVG}title").text == "Spend <by> campaign"
    bars = chart.findall(f"{SVG}rect[@class='vg-bar']")
    assert float(bars[0].get("width")) == pytest.approx(2 * float(bars[1].get("width")))
    assert "<b>" not in str(markup)


@pytest.mark.parametrize(("seconds", "text"), [(None, "—"), (45.4, "45 s"), (300, "5 min"), (250, "4 min 10 s"),
                                               (3600, "1 h"), (7500, "2 h 5 min"), (273600, "3 d 4 h"),
                                               (172800, "2 d")])
def test_waiting_times_read_at_a_glance(seconds, text):
    from videogen.admin_analytics import duration_text

    assert duration_text(seconds) == text
