"""Cost aggregation shared by the cost review page and `cost_report` (UTC days, Decimal money)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.cost_data import DAY, at, book, known_day
from tests.factories import VideoJobFactory
from videogen import reports
from videogen.models import JobStatus

pytestmark = pytest.mark.django_db


def test_total_spend_is_what_the_ledger_booked_that_utc_day():
    known_day()

    assert reports.cost_report(DAY).total.spend == Decimal("12.25")


def test_finished_videos_are_jobs_completed_or_partially_completed_that_day():
    known_day()

    assert reports.cost_report(DAY).total.videos_finished == 2


def test_average_cost_per_video_uses_the_finished_jobs_whole_actual_cost():
    known_day()

    assert reports.cost_report(DAY).total.average_cost_per_video == Decimal("4.75")


def test_estimate_vs_actual_of_the_finished_videos():
    known_day()

    total = reports.cost_report(DAY).total

    assert (total.finished_estimated, total.finished_actual) == (Decimal("9.02"), Decimal("9.50"))
    assert total.actual_to_estimate == Decimal("1.05")
    assert not total.over_estimate


def test_spend_by_campaign_is_ranked_by_spend_with_its_client():
    known_day()

    lines = reports.cost_report(DAY).by_campaign

    assert [(line.name, line.client_name, line.spend, line.videos_finished) for line in lines] == [
        ("Holiday", "Northwind", Decimal("6.00"), 1),
        ("Spring", "Acme", Decimal("3.25"), 0),
        ("Launch", "Northwind", Decimal("3.00"), 1),
    ]


def test_spend_by_client():
    known_day()

    lines = reports.cost_report(DAY).by_client

    assert [(line.name, line.spend, line.videos_finished, line.average_cost_per_video) for line in lines] == [
        ("Northwind", Decimal("9.00"), 2, Decimal("4.75")),
        ("Acme", Decimal("3.25"), 0, None),
    ]


def test_a_range_includes_both_end_days():
    known_day()

    report = reports.cost_report(date(2025, 11, 14), date(2025, 11, 16))

    assert report.total.spend == Decimal("12.75")
    assert report.total.videos_finished == 3


def test_a_range_that_ends_before_it_starts_is_an_error():
    with pytest.raises(ValueError):
        reports.cost_report(date(2025, 11, 15), date(2025, 11, 14))


def test_an_empty_day_has_zero_spend_and_no_average():
    report = reports.cost_report(DAY)

    assert report.total.spend == Decimal("0")
    assert report.total.videos_finished == 0
    assert report.total.average_cost_per_video is None
    assert report.total.actual_to_estimate is None


def test_jobs_more_than_20_percent_over_their_estimate_are_listed():
    over = VideoJobFactory(status=JobStatus.COMPLETED, finished_at=at(DAY, 8), estimated_cost=Decimal("1.00"),
                           actual_cost=Decimal("1.21"))
    VideoJobFactory(status=JobStatus.COMPLETED, finished_at=at(DAY, 8), estimated_cost=Decimal("1.00"),
                    actual_cost=Decimal("1.20"))

    assert reports.cost_report(DAY).over_estimate_jobs == [over]


def test_report_as_dict_gives_money_in_cents_as_strings():
    data = known_day()
    book(data.jobs[2], "0.003", at(DAY, 14))

    total = reports.cost_report(DAY).as_dict()["total"]

    assert total["spend"] == "12.25"  # 12.253 rounded half-up to cents
    assert total["average_cost_per_video"] == "4.75"
    assert total["actual_to_estimate"] == "1.05"
