"""The coordinator's pictures as server-rendered SVG, drawn by pygal (pinned in pyproject.toml): the FIT
trend with the clinical cut-offs, and the LA2 history. A page shows them as ``<img>`` (the page's CSP
allows no inline style, and pygal's SVG carries its own); the numbers are in a table beside each
picture, so nobody needs the picture to read them. No script runs in an image."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pygal
from pygal.style import Style

from services.portal.domain.words import COPENHAGEN, local_date, number

# Dark enough against white for text; the cut-offs dashed in the series' own colour.
FIT_STYLE = Style(background="white", plot_background="white", foreground="#1b1b1b", foreground_strong="#1b1b1b",
                  foreground_subtle="#6b6b66", colors=("#0b4f8a", "#8c4a00", "#0b4f8a", "#8c4a00"),
                  font_family="system-ui, sans-serif", label_font_size=12, major_label_font_size=12,
                  legend_font_size=13, title_font_size=15)
LA2_STYLE = Style(background="white", plot_background="white", foreground="#1b1b1b", foreground_strong="#1b1b1b",
                  foreground_subtle="#6b6b66", colors=("#12385e",), font_family="system-ui, sans-serif",
                  label_font_size=12, major_label_font_size=12, title_font_size=15)
LA2_VALUES = {"green": 1, "yellow": 2, "red": 3}
# The SVG's own policy (an image: no script, its inline style only).
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _config(**extra: Any) -> dict[str, Any]:
    return {"js": [], "width": 720, "height": 340, "disable_xml_declaration": False, "show_dots": True,
            "dots_size": 4, "truncate_label": -1, "x_label_rotation": 30, "margin": 16, **extra}


def _moment(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return moment.astimezone(COPENHAGEN).replace(tzinfo=None)  # pygal draws naive times; Copenhagen's


def fit_trend_svg(fit: dict[str, Any]) -> str:
    """ORS and SRS totals on a time axis (the 0–40 sessions), with the cut-offs plans answers (ORS 25,
    SRS 36) drawn across the whole period."""
    sessions = sorted((s for s in fit.get("sessions", []) if s.get("scale") == "0-40"), key=lambda s: s["held_at"])
    trend = fit.get("trend") or {}
    ors_cut = (trend.get("ors") or {}).get("cutoff", 25)
    srs_cut = (trend.get("srs") or {}).get("cutoff", 36)
    chart = pygal.DateTimeLine(style=FIT_STYLE, range=(0, 40), title="FIT: ORS og SRS over tid",
                               y_title="Total (0–40)", legend_at_bottom=True, legend_at_bottom_columns=2,
                               x_value_formatter=lambda moment: moment.strftime("%d.%m.%Y"), **_config())
    chart.value_formatter = number
    chart.no_data_text = "Ingen samtaler endnu"
    if not sessions:
        return chart.render(is_unicode=True)
    times = [_moment(s["held_at"]) for s in sessions]
    chart.x_labels = times  # a label at each session, not at pygal's even steps
    chart.add("ORS (borgerens trivsel)", [(t, s["ors"]) for t, s in zip(times, sessions) if s.get("ors") is not None])
    chart.add("SRS (samarbejdet)", [(t, s["srs"]) for t, s in zip(times, sessions) if s.get("srs") is not None])
    start, end = times[0] - timedelta(days=1), times[-1] + timedelta(days=1)
    chart.add(f"ORS-grænse {number(ors_cut)}", [(start, ors_cut), (end, ors_cut)], show_dots=False,
              stroke_style={"dasharray": "8, 5", "width": 2})
    chart.add(f"SRS-grænse {number(srs_cut)}", [(start, srs_cut), (end, srs_cut)], show_dots=False,
              stroke_style={"dasharray": "3, 4", "width": 2})
    return chart.render(is_unicode=True)


def la2_history_svg(ratings: list[dict[str, Any]]) -> str:
    """LA2 levels over time, oldest first: grøn, gul, rød."""
    ordered = sorted(ratings, key=lambda r: r["rated_at"])
    chart = pygal.Line(style=LA2_STYLE, range=(0.5, 3.5), title="LA2 over tid", show_legend=False,
                       **_config(height=280))
    chart.y_labels = [{"label": "Grøn", "value": 1}, {"label": "Gul", "value": 2}, {"label": "Rød", "value": 3}]
    chart.x_labels = [local_date(r["rated_at"]) for r in ordered]
    chart.add("LA2", [LA2_VALUES.get(r["level"]) for r in ordered], allow_interruptions=True)
    chart.no_data_text = "Ingen vurderinger endnu"
    return chart.render(is_unicode=True)
