"""`manage.py cost_report`: one UTC day's spend, finished videos, average cost, by campaign and client."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from tests.cost_data import known_day
from tests.factories import CostEntryFactory

pytestmark = pytest.mark.django_db


def cost_report(*args: str) -> str:
    out = io.StringIO()
    call_command("cost_report", *args, stdout=out)
    return out.getvalue()


def test_table_shows_the_day_totals():
    known_day()

    out = cost_report("--date", "2025-11-15")

    assert "Cost report for 2025-11-15 (UTC)" in out
    assert "Total spend                  $12.25" in out
    assert "Videos finished              2" in out
    assert "Average cost per video       $4.75" in out
    assert "Estimated (finished videos)  $9.02" in out
    assert "Actual (finished videos)     $9.50" in out
    assert "Actual / estimate            1.05" in out


def test_table_lists_spend_by_campaign_and_by_client():
    known_day()

    out = cost_report("--date", "2025-11-15")

    campaigns = out[out.index("By campaign"):out.index("By client")].splitlines()
    assert campaigns[2].split() == ["Holiday", "Northwind", "$6.00", "1", "$6.00", "$6.00", "$6.00", "1.00"]
    assert campaigns[3].split() == ["Spring", "Acme", "$3.25", "0", "-", "$0.00", "$0.00", "-"]
    assert campaigns[4].split() == ["Launch", "Northwind", "$3.00", "1", "$3.50", "$3.02", "$3.50", "1.16"]
    clients = out[out.index("By client"):].splitlines()
    assert clients[2].split()[:4] == ["Northwind", "$9.00", "2", "$4.75"]
    assert clients[3].split()[:3] == ["Acme", "$3.25", "0"]


def test_json_has_the_same_numbers():
    known_day()

    data = json.loads(cost_report("--date", "2025-11-15", "--format", "json"))

    assert data["date"] == "2025-11-15"
    assert data["total"]["spend"] == "12.25"
    assert data["total"]["videos_finished"] == 2
    assert data["total"]["average_cost_per_video"] == "4.75"
    assert (data["total"]["estimated"], data["total"]["actual"]) == ("9.02", "9.50")
    assert [(c["name"], c["spend"]) for c in data["by_campaign"]] == [
        ("Holiday", "6.00"), ("Spring", "3.25"), ("Launch", "3.00")
    ]
    assert [(c["name"], c["spend"], c["videos_finished"]) for c in data["by_client"]] == [
        ("Northwind", "9.00", 2), ("Acme", "3.25", 0)
    ]


def test_csv_has_a_total_row_then_campaigns_then_clients():
    known_day()

    rows = list(csv.DictReader(io.StringIO(cost_report("--date", "2025-11-15", "--format", "csv"))))

    assert [(row["scope"], row["name"], row["spend"]) for row in rows] == [
        ("total", "All clients", "12.25"),
        ("campaign", "Holiday", "6.00"),
        ("campaign", "Spring", "3.25"),
        ("campaign", "Launch", "3.00"),
        ("client", "Northwind", "9.00"),
        ("client", "Acme", "3.25"),
    ]
    assert rows[0]["average_cost_per_video"] == "4.75"
    assert rows[0]["actual_to_estimate"] == "1.05"
    assert rows[2]["average_cost_per_video"] == ""


def test_date_defaults_to_today_utc(settings):
    settings.DAILY_BUDGET_SOFT = Decimal("1")
    CostEntryFactory(amount=Decimal("1.50"))

    data = json.loads(cost_report("--format", "json"))

    assert data["total"]["spend"] == "1.50"
    assert data["limits"] == {"soft": "1.00", "hard": "150.00", "soft_reached": True, "hard_reached": False}


def test_an_empty_day_reports_zero():
    out = cost_report("--date", "2020-01-01")

    assert "Total spend                  $0.00" in out
    assert "Average cost per video       -" in out
    assert "(nothing)" in out


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday", "15/11/2025"])
def test_an_invalid_date_is_a_clear_command_error(bad):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        cost_report("--date", bad)
