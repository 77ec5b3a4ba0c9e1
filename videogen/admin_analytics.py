"""The admin analytics page: one client's jobs and spend over a range of UTC days, charted as SVG.

The figures are `videogen.analytics.client_analytics`, the same as GET /api/v2/analytics; this
module only reads the form, picks the charts and renders them (videogen.charts) with their tables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from campaigns.models import Campaign
from clients.models import Client
from videogen import analytics, charts
from videogen.models import Platform
from videogen.pricing import format_money as dollars

TOP_CAMPAIGNS = 12
PLATFORM_NAMES = {Platform.TIKTOK: "TikTok", Platform.META: "Meta", Platform.YOUTUBE: "YouTube",
                  Platform.CUSTOM: "Custom"}
PRESET_DAYS = (7, 30, 90, 365)
OUTCOMES = [  # (field, label, tone)
    ("started", "Started", "primary"), ("completed", "Completed", "ok"),
    ("partially_completed", "Partially completed", "warn"), ("failed", "Failed", "bad"),
    ("cancelled", "Cancelled", "muted"),
]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: SafeString
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    wide: bool = False


def duration_text(seconds: float | None) -> str:
    """45 s, 4 min 10 s, 5 min, 2 h 5 min, 3 d 4 h: how long people waited, at a glance."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min" + (f" {seconds % 60} s" if seconds % 60 else "")
    if seconds < 86400:
        return f"{seconds // 3600} h" + (f" {seconds % 3600 // 60} min" if seconds % 3600 // 60 else "")
    return f"{seconds // 86400} d" + (f" {seconds % 86400 // 3600} h" if seconds % 86400 // 3600 else "")


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%".replace(".0%", "%")


def analytics_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("videogen.view_videojob"):
        raise PermissionDenied
    form = read_form(request)
    report = None
    if form["client"] is not None:
        report = analytics.client_analytics(form["client"].pk, form["start"], form["end"],
                                            form["campaign"].pk if form["campaign"] else None)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Analytics: {form['client'].name}" if form["client"] else "Analytics",
        "opts": model_admin.model._meta,
        "form": form,
        "clients": Client.objects.order_by("name").only("id", "name"),
        "campaigns": Campaign.objects.filter(client=form["client"]).order_by("name").only("id", "name")
        if form["client"] else [],
        "presets": presets(form),
        "report": report,
        "kpis": kpis(report) if report else [],
        "charts": build_charts(report) if report else [],
        "jobs_url": jobs_url(form) if form["client"] else "",
    }
    return TemplateResponse(request, "admin/videogen/analytics.html", context)


def read_form(request: HttpRequest) -> dict[str, Any]:
    """Client, campaign and range from the query string; what is wrong is reported, with safe fallbacks."""
    errors: list[str] = []
    client = _by_id(Client.objects.all(), request.GET.get("client"), "client", errors)
    campaign = _by_id(Campaign.objects.filter(client=client), request.GET.get("campaign"), "campaign of this client",
                      errors) if client else None
    start = _day(request.GET.get("from"), "From", errors)
    end = _day(request.GET.get("to"), "To", errors)
    start, end = analytics.default_range(start, end)
    problem = analytics.range_error(start, end)
    if problem:
        errors.append(f"{problem} Showing the last {analytics.DEFAULT_DAYS} days.")
        start, end = analytics.default_range()
    return {"client": client, "campaign": campaign, "start": start, "end": end, "errors": errors}


def _by_id(queryset: Any, raw: str | None, what: str, errors: list[str]) -> Any:
    if not raw:
        return None
    try:
        found = queryset.filter(pk=uuid.UUID(raw)).first()
    except ValueError:
        found = None
    if found is None:
        errors.append(f"There is no such {what}.")
    return found


def _day(raw: str | None, name: str, errors: list[str]) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(f"“{raw}” is not a date for {name}; use YYYY-MM-DD.")
        return None
    problem = analytics.day_error(day)
    if problem:
        errors.append(f"{name}: {problem}")
        return None
    return day


def presets(form: dict[str, Any]) -> list[dict[str, Any]]:
    """Links for the last 7/30/90/365 days, keeping the client and campaign."""
    today = analytics.utc_today()
    keep = {"client": form["client"].pk} if form["client"] else {}
    if form["campaign"]:
        keep["campaign"] = form["campaign"].pk
    links = []
    for days in PRESET_DAYS:
        start = today - timedelta(days=days - 1)
        links.append({"label": f"Last {days} days", "query": urlencode({**keep, "from": start, "to": today}),
                      "active": (form["start"], form["end"]) == (start, today)})
    return links


def jobs_url(form: dict[str, Any]) -> str:
    query = {"client__id__exact": form["client"].pk}
    if form["campaign"]:
        query["campaign__id__exact"] = form["campaign"].pk
    return reverse("admin:videogen_videojob_changelist") + "?" + urlencode(query)


def kpis(report: analytics.Analytics) -> list[dict[str, str]]:
    return [
        {"key": "spend", "value": dollars(report.spend), "label": "spent in the range"},
        {"key": "started", "value": f"{report.jobs.started:,}", "label": "jobs started"},
        {"key": "videos", "value": f"{report.videos:,}", "label": "videos finished"},
        {"key": "avg-cost", "value": dollars(report.avg_cost_per_video), "label": "average cost per finished video"},
        {"key": "approval-rate", "value": percent(report.approval_rate), "label": "storyboards approved"},
        {"key": "refinements", "value": "—" if report.refinements_per_job is None else
         f"{report.refinements_per_job:.2f}", "label": "refinements per job"},
        {"key": "median-approve", "value": duration_text(report.median_seconds_to_approve),
         "label": "median time from storyboard to approval"},
    ]


def build_charts(report: analytics.Analytics) -> list[Chart]:
    return [spend_by_day(report), outcomes(report), by_platform(report), by_campaign(report)]


def spend_by_day(report: analytics.Analytics) -> Chart:
    days = report.cost_by_day
    peak = max(days, key=lambda day: day.cost)
    description = (f"Spend per UTC day from {report.start} to {report.end}: {dollars(report.spend)} in total"
                   + (f"; the most, {dollars(peak.cost)}, on {peak.date}." if peak.cost else "; nothing was spent."))
    bars = [charts.Bar(label=day.date.isoformat(), value=day.cost, display=dollars(day.cost)) for day in days]
    svg = charts.column_chart("chart-spend-by-day", "Spend per day", description, bars, axis_format=_axis_dollars)
    return Chart("spend-by-day", "Spend per day (UTC)", svg, ("Day", "Spend"),
                 [(day.date.isoformat(), dollars(day.cost)) for day in days], wide=True)


def _axis_dollars(value: float) -> str:
    return f"${value:,.0f}" if value >= 10 or value == 0 else f"${value:,.2f}".rstrip("0").rstrip(".")


def outcomes(report: analytics.Analytics) -> Chart:
    counts = [(label, getattr(report.jobs, field), tone) for field, label, tone in OUTCOMES]
    description = "Jobs in the range: " + ", ".join(f"{count:,} {label.lower()}" for label, count, _ in counts) + "."
    bars = [charts.Bar(label=label, value=count, display=f"{count:,}", tone=tone) for label, count, tone in counts]
    svg = charts.bar_chart("chart-outcomes", "Job outcomes", description, bars)
    return Chart("outcomes", "Job outcomes", svg, ("Outcome", "Jobs"), [(label, f"{count:,}")
                                                                         for label, count, _ in counts])


def by_platform(report: analytics.Analytics) -> Chart:
    rows = [(PLATFORM_NAMES.get(row.platform, row.platform), row) for row in report.by_platform]
    description = "Spend and jobs started per platform: " + "; ".join(
        f"{name} {dollars(row.cost)}, {row.jobs:,} jobs" for name, row in rows) + "."
    bars = [charts.Bar(label=name, value=row.cost, display=dollars(row.cost), tone="accent",
                       note=f"· {row.jobs:,} job{'s' if row.jobs != 1 else ''}") for name, row in rows]
    svg = charts.bar_chart("chart-platforms", "Spend by platform", description, bars)
    return Chart("platforms", "Spend by platform", svg, ("Platform", "Jobs started", "Spend"),
                 [(name, f"{row.jobs:,}", dollars(row.cost)) for name, row in rows])


def by_campaign(report: analytics.Analytics) -> Chart:
    rows = report.cost_by_campaign
    shown, rest = rows[:TOP_CAMPAIGNS], rows[TOP_CAMPAIGNS:]
    bars = [charts.Bar(label=row.name, value=row.cost, display=dollars(row.cost),
                       note=f"· {row.videos:,} video{'s' if row.videos != 1 else ''}") for row in shown]
    if rest:
        cost, videos = sum((row.cost for row in rest), Decimal("0")), sum(row.videos for row in rest)
        bars.append(charts.Bar(label=f"{len(rest)} other campaigns", value=cost, display=dollars(cost), tone="muted",
                               note=f"· {videos:,} videos"))
    description = (f"Spend per campaign in the range, most spent first ({len(rows)} campaigns)."
                   if rows else "No campaign spent anything or finished a video in the range.")
    svg = charts.bar_chart("chart-campaigns", "Spend by campaign", description, bars, width=960, label_width=240,
                           value_room=170)
    return Chart("campaigns", "Spend by campaign", svg, ("Campaign", "Finished videos", "Spend"),
                 [(row.name, f"{row.videos:,}", dollars(row.cost)) for row in rows], wide=True)
