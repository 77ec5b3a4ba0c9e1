"""`manage.py cost_report [--date YYYY-MM-DD] [--format table|csv|json]`: one UTC day's costs.

Total spend, videos finished that day, average cost per video, estimate vs actual, and the
same by campaign and by client. Money in dollars, rounded half-up to cents.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from videogen import costs, reports
from videogen.pricing import format_money, to_cents
from videogen.reports import CostReport, ReportLine

CSV_COLUMNS = ["date", "scope", "key", "name", "client", "spend", "videos_finished", "average_cost_per_video",
               "estimated", "actual", "actual_to_estimate"]


def _money(amount: Any) -> str:
    return format_money(amount, missing="-")


class Command(BaseCommand):
    help = "Cost report for one UTC day: spend, finished videos, average cost per video, by campaign and client."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="UTC day as YYYY-MM-DD (default: today, UTC).")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        day = self._day(options.get("date"))
        report = reports.cost_report(day)
        soft, hard = costs.budget_limits()
        output = {"table": self._table, "csv": self._csv, "json": self._json}[options["format"]]
        output(report, soft, hard)

    def _day(self, raw: str | None) -> date:
        if not raw:
            return reports.utc_today()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise CommandError(f"--date must be a day written YYYY-MM-DD (e.g. 2025-11-15), not {raw!r}.") from None

    def _json(self, report: CostReport, soft: Any, hard: Any) -> None:
        body = {
            "date": report.start.isoformat(),
            **{key: value for key, value in report.as_dict().items() if key not in ("from", "to")},
            "limits": {"soft": str(to_cents(soft)), "hard": str(to_cents(hard)),
                       "soft_reached": report.total.spend >= soft, "hard_reached": report.total.spend >= hard},
        }
        self.stdout.write(json.dumps(body, indent=2))

    def _csv(self, report: CostReport, soft: Any, hard: Any) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        rows = [("total", report.total)] + [("campaign", line) for line in report.by_campaign] + [
            ("client", line) for line in report.by_client
        ]
        for scope, line in rows:
            values = line.as_dict()
            writer.writerow([report.start.isoformat(), scope, *(
                "" if values[column] is None else values[column] for column in CSV_COLUMNS[2:]
            )])

    def _table(self, report: CostReport, soft: Any, hard: Any) -> None:
        total = report.total
        ratio = total.actual_to_estimate
        ratio_text = "-" if ratio is None else f"{ratio}{'  OVER 20%' if total.over_estimate else ''}"
        write = self.stdout.write
        write(f"Cost report for {report.start.isoformat()} (UTC)")
        write("")
        summary = [
            ("Total spend", _money(total.spend)),
            ("Videos finished", str(total.videos_finished)),
            ("Average cost per video", _money(total.average_cost_per_video)),
            ("Estimated (finished videos)", _money(total.finished_estimated)),
            ("Actual (finished videos)", _money(total.finished_actual)),
            ("Actual / estimate", ratio_text),
            ("Daily limits (now)", f"soft {_money(soft)}, hard {_money(hard)}"
                                   + ("  HARD LIMIT REACHED" if total.spend >= hard else
                                      "  SOFT LIMIT REACHED" if total.spend >= soft else "")),
        ]
        width = max(len(label) for label, _ in summary)
        for label, value in summary:
            write(f"{label:<{width}}  {value}")
        self._lines("By campaign", report.by_campaign, with_client=True)
        self._lines("By client", report.by_client, with_client=False)

    def _lines(self, title: str, lines: list[ReportLine], *, with_client: bool) -> None:
        self.stdout.write("")
        self.stdout.write(title)
        if not lines:
            self.stdout.write("  (nothing)")
            return
        header = ["Name", *(["Client"] if with_client else []), "Spend", "Videos", "Avg/video", "Estimate", "Actual",
                  "Act/Est"]
        rows = [
            [line.name, *([line.client_name] if with_client else []), _money(line.spend), str(line.videos_finished),
             _money(line.average_cost_per_video), _money(line.finished_estimated), _money(line.finished_actual),
             "-" if line.actual_to_estimate is None else str(line.actual_to_estimate)]
            for line in lines
        ]
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        text_columns = 2 if with_client else 1
        for row in [header, *rows]:
            cells = [
                f"{cell:<{widths[i]}}" if i < text_columns else f"{cell:>{widths[i]}}" for i, cell in enumerate(row)
            ]
            self.stdout.write("  " + "  ".join(cells).rstrip())
