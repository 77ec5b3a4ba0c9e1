"""Small server-side SVG charts for the admin (no JavaScript, no CDN: the admin works offline).

Each chart is an `<svg role="img">` labelled by its own `<title>` and `<desc>`, with a `<title>`
tooltip on every bar; the page shows the same numbers in a table next to it. Colours of text and
grid lines come from the admin's CSS variables (`.vg-chart` rules in base_site.html), so charts
follow the light and dark themes; bars use a fixed palette by meaning (`tone`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

TONES = {"primary": "#417690", "accent": "#79aec8", "ok": "#2e7d32", "warn": "#d08c00", "bad": "#c62828",
         "muted": "#8a9ba8"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | float | int
    display: str  # the value as people read it ("$4.53", "12 jobs")
    tone: str = "primary"
    note: str = ""  # shown after the value in horizontal charts ("· 3 videos")


def nice_scale(largest: float, ticks: int = 4) -> tuple[float, float]:
    """(step, top) of an axis: a round step (1, 2, 2.5 or 5 x 10^n) near largest / `ticks`, and the first
    multiple of it that reaches `largest` (so at most `ticks` + 1 steps and little empty headroom)."""
    if largest <= 0:
        return 1.0, float(ticks)
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    return step, step * max(1, math.ceil(largest / step - 1e-9))


def _svg(chart_id: str, title: str, description: str, width: int, height: int, body: str, *,
         stretch: bool) -> SafeString:
    """`stretch`: fill the container's width (a time series); else drawn at its own size (text stays at
    its size), shrinking only when the container is narrower."""
    return format_html(
        '<svg class="vg-chart" id="{}" role="img" aria-labelledby="{}-title {}-desc" viewBox="0 0 {} {}" '
        'width="{}" style="max-width: 100%; height: auto" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        chart_id, chart_id, chart_id, width, height, "100%" if stretch else width, chart_id, title, chart_id,
        description, mark_safe(body),
    )


def column_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar], *,
                 axis_format: Callable[[float], str], width: int = 960, height: int = 280) -> SafeString:
    """Vertical bars over a sequence (days): a y axis with round ticks, at most ~12 x labels."""
    left, right, top, bottom = 64, 12, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    step, top_value = nice_scale(max((float(bar.value) for bar in bars), default=0))
    parts = []
    for tick in range(round(top_value / step) + 1):
        value = step * tick
        y = top + plot_h - plot_h * value / top_value
        parts.append(format_html('<line class="vg-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                                 '<text class="vg-axis" x="{}" y="{}" text-anchor="end">{}</text>',
                                 left, width - right, _n(y), _n(y), left - 8, _n(y + 4), axis_format(value)))
    slot = plot_w / max(len(bars), 1)
    bar_w = max(min(slot * 0.72, 42), 1)
    label_every = max(1, math.ceil(len(bars) / 12))
    for index, bar in enumerate(bars):
        x = left + slot * index + (slot - bar_w) / 2
        # A day with any spend stays visible (a hairline), however small next to the others.
        bar_h = max(plot_h * float(bar.value) / top_value, 1.5 if bar.value else 0)
        parts.append(format_html(
            '<rect class="vg-bar" x="{}" y="{}" width="{}" height="{}" rx="1.5" fill="{}">'
            '<title>{}: {}</title></rect>',
            _n(x), _n(top + plot_h - bar_h), _n(bar_w), _n(bar_h), TONES[bar.tone], bar.label, bar.display,
        ))
        if index % label_every == 0:
            parts.append(format_html('<text class="vg-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                                     _n(x + bar_w / 2), height - bottom + 18, _short_day(bar.label)))
    parts.append(format_html('<line class="vg-baseline" x1="{}" x2="{}" y1="{}" y2="{}"/>',
                             left, width - right, top + plot_h, top + plot_h))
    return _svg(chart_id, title, description, width, height, "".join(parts), stretch=True)


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar], *, width: int = 470,
              label_width: int = 140, row: int = 30, value_room: int = 130) -> SafeString:
    """Horizontal bars, one labelled row each, the value (and note) written after the bar."""
    height = max(len(bars), 1) * row + 8
    plot_w = width - label_width - value_room
    largest = max((float(bar.value) for bar in bars), default=0) or 1
    parts = []
    for index, bar in enumerate(bars):
        y = 4 + index * row
        bar_w = plot_w * float(bar.value) / largest
        label = bar.label if len(bar.label) <= 24 else bar.label[:23] + "…"
        parts.append(format_html(
            '<text class="vg-label" x="{}" y="{}" text-anchor="end"><title>{}</title>{}</text>'
            '<rect class="vg-track" x="{}" y="{}" width="{}" height="{}" rx="3"/>'
            '<rect class="vg-bar" x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}"><title>{}: {}{}</title>'
            '</rect><text class="vg-value" x="{}" y="{}">{}<tspan class="vg-note">{}</tspan></text>',
            label_width - 10, _n(y + row / 2 + 4), bar.label, label,
            label_width, y + 5, plot_w, row - 10,
            label_width, y + 5, _n(max(bar_w, 0)), row - 10, TONES[bar.tone], bar.label, bar.display,
            f" {bar.note}" if bar.note else "",
            _n(label_width + max(bar_w, 0) + 8), _n(y + row / 2 + 4), bar.display, f"  {bar.note}" if bar.note else "",
        ))
    if not bars:
        parts.append(format_html('<text class="vg-axis" x="{}" y="20">{}</text>', label_width, "No data"))
    return _svg(chart_id, title, description, width, height, "".join(parts), stretch=False)


def _n(number: float) -> str:
    """SVG coordinates: two decimals are plenty (format_html escapes its arguments into strings first)."""
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _short_day(label: str) -> str:
    """`2026-03-01` -> `03-01`; other labels unchanged."""
    return label[5:] if len(label) == 10 and label[4] == "-" else label


def legend(items: Sequence[tuple[str, str]]) -> SafeString:
    """`[(tone, text)]` as a row of colour keys (for charts whose colours carry meaning)."""
    return format_html('<ul class="vg-legend">{}</ul>', format_html_join(
        "", '<li><span class="vg-key" style="background:{}"></span>{}</li>',
        ((TONES[tone], text) for tone, text in items)))
