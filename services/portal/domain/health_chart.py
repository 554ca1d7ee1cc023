"""The health-check year (årshjul) as a picture: one row per citizen, the months across, the check day
and each preparation step's deadline as a dot coloured by how far it has come. Drawn on the server by
leather (a maintained Python charting library, pinned in pyproject.toml) as SVG with presentation
attributes only — no inline style or script, so the page's CSP holds — and inlined in the page with
a Danish text alternative (the table beside it says the same in words)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Iterable, Mapping

import leather
from markupsafe import Markup, escape

from services.portal.domain.health_words import STEP_STATUS

MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
# Colour-blind-safe (Okabe–Ito), dark enough on white.
SERIES = (("check", "Sundhedstjekket", "#000000"), ("done", STEP_STATUS["done"], "#009e73"),
          ("on-track", STEP_STATUS["on-track"], "#0072b2"), ("due", STEP_STATUS["due"], "#e69f00"),
          ("late", STEP_STATUS["late"], "#d55e00"))

for name, value in (("background_color", "#ffffff"), ("title_color", "#1a1a1a"), ("legend_color", "#1a1a1a"),
                    ("axis_title_color", "#1a1a1a"), ("label_color", "#333333"), ("tick_color", "#dddddd"),
                    ("default_dot_radius", 5)):
    setattr(leather.theme, name, value)
for part in ("title", "legend", "axis_title", "tick"):
    setattr(leather.theme, f"{part}_font_family", "system-ui, sans-serif")


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date() if "T" in value else date.fromisoformat(value[:10])
    return None


def year_wheel_svg(year: int, checks: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> Markup | None:
    """The årshjul of one botilbud's year as inline SVG (None when there is nothing to draw). ``checks``
    are health's overview items (``starts_at``, ``steps`` with ``deadline`` and ``status``)."""
    rows = sorted(checks, key=lambda c: (str(c.get("starts_at")), names.get(c.get("citizen_id"), "")))
    if not rows:
        return None
    points: dict[str, list[tuple[date, int]]] = {key: [] for key, _, _ in SERIES}
    start, end = date(year, 1, 1), date(year, 12, 31)
    last = len(rows) - 1
    for position, check in enumerate(rows):
        index = last - position  # the first row on top (leather's scales do not invert)
        day = _day(check.get("starts_at"))
        if day and start <= day <= end:
            points["check"].append((day, index))
        for step in check.get("steps") or []:
            deadline = _day(step.get("deadline"))
            if deadline and step.get("status") in points and start <= deadline <= end:
                points[step["status"]].append((deadline, index))
    labels = [names.get(c.get("citizen_id"), "Borger")[:28] for c in rows]
    chart = leather.Chart()
    for key, title, colour in SERIES:
        if points[key]:
            chart.add_dots(points[key], name=title, fill_color=colour)
    if not any(points.values()):
        return None
    chart.add_x_scale(start, end)
    chart.add_y_scale(-0.5, last + 0.5)
    chart.add_x_axis(ticks=[date(year, m, 1) for m in range(1, 13)], tick_formatter=lambda v, i, count=None: MONTHS[v.month - 1])
    chart.add_y_axis(ticks=list(range(len(rows))), tick_formatter=lambda v, i, count=None: labels[last - int(v)])
    width, height = 900, 120 + 26 * len(rows)
    svg = chart.to_svg(width=width, height=height)
    summary = (f"Årshjul {year}: {len(rows)} sundhedstjek. Hver række er en borger; sort prik er dagen for "
               "sundhedstjekket, farvede prikker er forberedelsernes frister (grøn: gjort, blå: i god tid, "
               "orange: skal gøres nu, rød: over frist). Tabellen nedenfor siger det samme i ord.")
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"',
                 f'<svg viewBox="0 0 {width} {height}" class="aarshjul" role="img" aria-label="{escape(summary)}"',
                 svg, count=1)
    return Markup(svg)  # leather escapes the text it writes (ElementTree)
