"""The flow report's pictures: SVG rendered on the server with pygal (a maintained chart library), so
the browser runs no chart script. Each picture has a table with the same numbers beside it on the page
(the accessible version); the SVG is served as an image with its own style only (no script)."""

from __future__ import annotations

from typing import Any

import pygal
from pygal.style import Style

from services.portal.domain.words import local_date, number

STYLE = Style(background="#ffffff", plot_background="#ffffff", foreground="#1b1b1b", foreground_strong="#1b1b1b",
              foreground_subtle="#76766f", font_family="system-ui, sans-serif",
              colors=("#0b4f8a", "#2e7d32", "#b3261e", "#a15c00", "#5b3f8c"),
              # Readable at the page's width; pygal's default "no data" text (64 px) ran out of the picture.
              label_font_size=12, major_label_font_size=12, legend_font_size=13, title_font_size=15,
              no_data_font_size=28)
MONTH_SERIES = (("referrals_received", "Henvisninger"), ("decisions_granted", "Bevillinger"),
                ("decisions_refused", "Afslag"), ("placements_started", "Indflytninger"), ("move_outs", "Udflytninger"))
OFFER_SERIES = (("decisions_granted", "Bevillinger"), ("placements_started", "Indflytninger"),
                ("move_outs", "Udflytninger"), ("step_downs", "Nedtrapninger"))
MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def month_label(key: str) -> str:
    """``2026-03`` → ``mar 2026``."""
    year, month = key.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def _chart(kind, title: str, **options):
    return kind(style=STYLE, title=title, js=(), disable_xml_declaration=False, legend_at_bottom=True,
                print_values=False, show_y_guides=True, width=800, height=380, truncate_legend=-1,
                no_data_text="Ingen data i perioden", **options)


def _whole_numbers(values) -> list[int]:
    """Axis marks for counts: whole numbers, about five of them (pygal's own would be 0.1, 0.2 … for a 1)."""
    top = max([int(v) for v in values if v is not None] + [1])
    step = -(-top // 5)
    return list(range(0, top + step, step))


def _danish_number(value) -> str:
    return "" if value is None else number(value)


def flow_chart(chart: str, report: dict[str, Any], offer_names: dict[str, str]) -> bytes:
    if chart == "maaned":
        months = sorted(report["by_month"])
        picture = _chart(pygal.Bar, "Flow pr. måned", x_label_rotation=0)
        picture.x_labels = [month_label(m) for m in months]
        for key, label in MONTH_SERIES:
            picture.add(label, [report["by_month"][m][key] for m in months])
        picture.y_labels = _whole_numbers(row[key] for row in report["by_month"].values() for key, _ in MONTH_SERIES)
    elif chart == "tilbud":
        offers = sorted(report["by_offer"], key=lambda o: offer_names.get(o, o))
        picture = _chart(pygal.HorizontalBar, "Flow pr. tilbud")
        picture.x_labels = [offer_names.get(o, "Tilbud uden navn") for o in offers]
        for key, label in OFFER_SERIES:
            picture.add(label, [report["by_offer"][o][key] for o in offers])
        picture.y_labels = _whole_numbers(row[key] for row in report["by_offer"].values() for key, _ in OFFER_SERIES)
    else:
        picture = _chart(pygal.HorizontalBar, f"Ventetid fra henvisning til indflytning, "
                                              f"{local_date(report['period_from'])}–{local_date(report['period_to'])} (dage)",
                         value_formatter=_danish_number)
        picture.x_labels = ["Median", "90 % har ventet højst"]
        picture.add("Dage", [report.get("waiting_days_median"), report.get("waiting_days_p90")])
    return without_scripts(picture.render())


def without_scripts(svg: bytes) -> bytes:
    """pygal always embeds its tooltip configuration as a script; a picture needs none (and the page
    policy would block it anyway)."""
    from lxml import etree

    root = etree.fromstring(svg, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    for script in root.iter("{http://www.w3.org/2000/svg}script", "script"):
        script.getparent().remove(script)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
