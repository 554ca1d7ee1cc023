"""The visitation's Danish words: referrals' rule texts and error codes become Danish sentences (and
nothing English reaches the page), the flow report's pictures carry no script."""

from __future__ import annotations

import re
from datetime import date

import pytest

from services.portal.domain.visitation_words import (
    END_CAUSES,
    LEGAL_BASES,
    VUM_SCALE,
    VUM_THEMES,
    problem_text,
    translate,
)
from tests.browser.portal_support import english_words
from tovholder.errors import TovholderError


def _refusal(call) -> str:
    with pytest.raises(TovholderError) as caught:
        call()
    return caught.value.message


def _referrals_refusals() -> list[tuple[str, str]]:
    """What referrals answers visitation (its own words, Danish), and what the page must say of it."""
    from datetime import date

    from services.referrals.domain import lifecycle as lc
    from services.referrals.domain.cpr import normalize_cpr
    from services.referrals.domain.model import LegalBasis, Trait
    from services.referrals.domain.offers import CitizenProfile, TargetGroup
    from tests.unit.referrals.referrals_builders import at, granted_case, make_offer, screened_case

    vista = make_offer(name="Vista Hus", target_group=TargetGroup(
        requires=frozenset({Trait.DOBBELTDIAGNOSE, Trait.BEHANDLINGSDOM})))
    full = make_offer(name="Orion", approved_places=38, occupied=38)
    temporary = make_offer(name="Cirklen", legal_basis=LegalBasis.SEL_107, step=6)
    decided, _ = granted_case()
    grant = dict(profile=CitizenProfile(age=30), start_date=date(2026, 2, 1), reason="Begrundet.", by="v", at=at(10))
    return [
        (_refusal(lambda: lc.grant(screened_case(), offer=vista, follow_up_date=None, **grant)),
         "Borgeren hører ikke til tilbuddets målgruppe (målgruppen kræver behandlingsdom, dobbeltdiagnose). Skriv den "
         "faglige begrundelse for at bevilge alligevel."),
        (_refusal(lambda: lc.grant(screened_case(), offer=full, follow_up_date=None, **grant)),
         "Vælg et andet passende tilbud, eller sæt kryds ved »Sæt borgeren på ventelisten«"),
        (_refusal(lambda: lc.grant(screened_case(), offer=temporary, follow_up_date=date(2027, 6, 9), **grant)),
         "senest"),
        (_refusal(lambda: lc.grant(decided, offer=make_offer(), follow_up_date=None, **grant)), "allerede afgjort"),
        (_refusal(lambda: normalize_cpr("12345")), "CPR-nummeret er ikke gyldigt"),
        ("Indflytningsdatoen (2026-12-07) ligger i fremtiden.", "Indflytningsdatoen (07.12.2026) ligger i fremtiden."),
    ]


def test_referrals_refusals_reach_the_page_in_danish():
    for detail, danish in _referrals_refusals():
        text = problem_text("rule-violation", detail)
        assert danish in text, (detail, text)
        assert english_words(text) == [], text
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), f"an API field name on the page: {text}"


@pytest.mark.parametrize("code", ["rule-violation", "conflict", "forbidden", "not-found", "invalid-request", "refused"])
def test_an_english_text_never_reaches_the_page_the_codes_danish_sentence_does(code):
    text = problem_text(code, "Something nobody has translated yet: the offer is not open.")
    assert "nobody" not in text and text and english_words(text) == []


def test_exclusions_and_mix_warnings_from_matching_are_shown_as_referrals_says_them():
    from services.referrals.domain.model import Trait
    from services.referrals.domain.offers import CitizenProfile, ResidentMix, TargetGroup, match_offers
    from tests.unit.referrals.referrals_builders import make_offer

    offer = make_offer(active=False, target_group=TargetGroup(min_age=35, requires=frozenset(
        {Trait.KOGNITIV_FUNKTIONSNEDSAETTELSE}), excludes=frozenset({Trait.MISBRUG, Trait.UDADREAGERENDE})),
        mix=ResidentMix(residents=4, withdrawn=2))
    [match] = match_offers([offer], CitizenProfile(age=26, traits=frozenset({Trait.MISBRUG, Trait.UDADREAGERENDE})))
    shown = [translate(text) for text in (*match.exclusions, *match.warnings)]
    assert shown == ["tilbuddet er lukket for nye henvisninger", "målgruppen starter ved 35 år; borgeren er 26",
                     "målgruppen kræver kognitiv funktionsnedsættelse", "målgruppen udelukker misbrug, udadreagerende",
                     "2 af de 4 beboere, visitationen har anbragt, er tilbagetrukne; borgerens udadreagerende adfærd "
                     "eller misbrug kan skade dem"]
    assert translate("Kun 2 udslusningsbesøg planlagt; erfaringen fra botilbuddene er 4–5 besøg efter udflytningen.") \
        .startswith("Kun 2 udslusningsbesøg planlagt")
    assert translate("some English sentence that is not known") == ""


def test_the_scale_themes_and_legal_bases_are_complete_and_danish():
    from services.referrals.domain.model import LegalBasis, VumTheme

    assert set(VUM_THEMES) == {t.value for t in VumTheme}
    assert set(VUM_SCALE) == {0, 1, 2, 3, 4}
    assert set(LEGAL_BASES) == {b.value for b in LegalBasis}
    assert english_words(" ".join([*VUM_THEMES.values(), *VUM_SCALE.values(), *LEGAL_BASES.values()])) == []


def test_the_flow_pictures_have_no_script():
    from services.portal.services.flow_charts import flow_chart

    report = {"period_from": "2026-01-01", "period_to": "2026-12-31", "waiting_days_median": 12.0,
              "waiting_days_p90": 40.0,
              "by_month": {"2026-01": {"referrals_received": 3, "decisions_granted": 1, "decisions_refused": 1,
                                       "placements_started": 1, "move_outs": 0}},
              "by_offer": {"orion": {"decisions_granted": 1, "placements_started": 1, "move_outs": 0, "step_downs": 0}}}
    for chart in ("maaned", "tilbud", "ventetid"):
        svg = flow_chart(chart, report, {"orion": "Orion"}).decode()
        assert svg.startswith("<?xml") and "<svg" in svg and "<script" not in svg, chart
    assert "jan 2026" in flow_chart("maaned", report, {}).decode()
    assert "Orion" in flow_chart("tilbud", report, {"orion": "Orion"}).decode()


def test_the_flow_spreadsheet_is_the_pages_numbers_in_danish_excel_form():
    import csv
    import io

    from services.portal.services.flow_export import FACTS, flow_csv, flow_csv_filename
    from services.referrals.domain.report import flow_report

    report = flow_report([], date(2026, 1, 1), date(2026, 2, 28)).as_dict()
    report.update(referrals_received=7, waiting_days_median=12.5, waiting_days_p90=40.0,
                  by_offer={"orion": {"decisions_granted": 2, "placements_started": 1, "move_outs": 0, "step_downs": 0},
                            "x": {"decisions_granted": 1, "placements_started": 0, "move_outs": 0, "step_downs": 0}})
    text = flow_csv(report, {"orion": "Orion", "x": "=HYPERLINK(\"http://evil\")"})
    assert text.startswith("\ufeff")  # Excel reads UTF-8 (æøå) only with the byte-order mark
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0] == ["Flowrapport", "01.01.2026–28.02.2026"]
    facts = {row[0]: row[1] for row in rows if len(row) == 2}
    assert facts["Henvisninger"] == "7"
    assert facts["Ventetid, median (dage)"] == "12,5" and facts["Ventetid, 90 % højst (dage)"] == "40"
    assert all(label in facts for _, label in FACTS)  # every number the page shows
    assert {f"Afsluttet: {label}" for label in END_CAUSES.values()} <= set(facts)
    assert ["jan 2026", "0", "0", "0", "0", "0"] in rows and ["feb 2026", "0", "0", "0", "0", "0"] in rows
    assert ["Orion", "2", "1", "0", "0"] in rows
    assert ["'=HYPERLINK(\"http://evil\")", "1", "0", "0", "0"] in rows  # a typed name never runs as a formula
    assert english_words(" ".join(cell for row in rows for cell in row if not cell.startswith("'"))) == []
    assert flow_csv_filename("2026-01-01", "2026-02-28") == "flowrapport-2026-01-01-2026-02-28.csv"
