"""The flow report as a spreadsheet for visitation: the same numbers as the page, in Danish, for Excel
as a Danish office opens it. Pure (the report is referrals' JSON, the offer names the portal's own).

Why not referrals' own ``?format=csv``: that one is for machines (English metric keys, comma, point);
a visitation officer double-clicks the file and expects semicolons, decimal commas, æøå intact (a UTF-8
byte-order mark, without which Excel reads it as Windows-1252) and the headings the page shows."""

from __future__ import annotations

import csv
import io
from typing import Any

from services.portal.domain.visitation_words import END_CAUSES
from services.portal.services.flow_charts import month_label

# A leading = + - @ (or tab/CR) makes a spreadsheet run the cell as a formula; an offer's name is typed
# by people, so it is quoted as text (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

FACTS = (
    ("referrals_received", "Henvisninger"),
    ("referrals_from_partners", "Henvisninger fra samarbejdspartnere"),
    ("referrals_from_staff", "Henvisninger fra visitationen"),
    ("citizens_referred", "Borgere henvist"),
    ("decisions_granted", "Bevillinger"),
    ("citizens_granted", "Borgere bevilget"),
    ("decisions_refused", "Afslag"),
    ("citizens_refused", "Borgere med afslag"),
    ("placements_started", "Indflytninger"),
    ("waiting_days_median", "Ventetid, median (dage)"),
    ("waiting_days_p90", "Ventetid, 90 % højst (dage)"),
    ("move_outs", "Udflytninger"),
    ("move_outs_to_own_home", "Udflytninger til egen bolig"),
    ("move_outs_to_other_offer", "Udflytninger til andet tilbud"),
    ("move_outs_elsewhere", "Udflytninger andet"),
    ("step_downs", "Nedtrapninger"),
    ("temporary_stays_drifting", "Midlertidige ophold, der trækker ud"),
)
MONTH_COLUMNS = (("referrals_received", "Henvisninger"), ("decisions_granted", "Bevillinger"),
                 ("decisions_refused", "Afslag"), ("placements_started", "Indflytninger"), ("move_outs", "Udflytninger"))
OFFER_COLUMNS = (("decisions_granted", "Bevillinger"), ("placements_started", "Indflytninger"),
                 ("move_outs", "Udflytninger"), ("step_downs", "Nedtrapninger"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",").removesuffix(",0")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _date(iso: str) -> str:
    year, month, day = iso[:10].split("-")
    return f"{day}.{month}.{year}"


def flow_csv(report: dict[str, Any], offer_names: dict[str, str]) -> str:
    """Three blocks, a blank line between: the period's numbers, per month, per offer."""
    out = io.StringIO()
    rows = csv.writer(out, delimiter=";", lineterminator="\r\n")
    rows.writerow(["Flowrapport", f"{_date(report['period_from'])}–{_date(report['period_to'])}"])
    rows.writerow([])
    rows.writerow(["Tal for perioden", "Antal"])
    for key, label in FACTS:
        rows.writerow([label, _cell(report.get(key))])
    for cause, count in (report.get("ended_by_cause") or {}).items():
        rows.writerow([f"Afsluttet: {END_CAUSES.get(cause, 'anden årsag')}", _cell(count)])
    rows.writerow([])
    rows.writerow(["Måned", *(label for _, label in MONTH_COLUMNS)])
    for month, counts in sorted((report.get("by_month") or {}).items()):
        rows.writerow([month_label(month), *(_cell(counts.get(key, 0)) for key, _ in MONTH_COLUMNS)])
    rows.writerow([])
    rows.writerow(["Tilbud", *(label for _, label in OFFER_COLUMNS)])
    for offer, counts in (report.get("by_offer") or {}).items():
        name = offer_names.get(offer) or "Tilbud uden navn"
        rows.writerow([_cell(name), *(_cell(counts.get(key, 0)) for key, _ in OFFER_COLUMNS)])
    return "\ufeff" + out.getvalue()


def flow_csv_filename(period_from: str, period_to: str) -> str:
    return f"flowrapport-{period_from[:10]}-{period_to[:10]}.csv"
