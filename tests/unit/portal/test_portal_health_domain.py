"""The nurse consultant's pure rules in the portal: hospital stays from health's notices (corrections in
place, cancellations out), check days as a Dane types them, health's refusals as Danish sentences,
the navigation, and the årshjul drawn as SVG the page policy allows (no inline style or script)."""

from __future__ import annotations

from datetime import date

import pytest

from services.portal.domain import health_words as hw
from services.portal.domain.health_chart import year_wheel_svg
from services.portal.domain.navigation import screens_for


def notice(kind, at, *, episode="EPJ-1", status="active", action="new", department="Afsnit P2"):
    return {"kind": kind, "occurred_at": at, "hospital_episode_id": episode, "status": status, "action": action,
            "department": department, "sender_org": "SOR:1", "sender_name": "Psykiatrisk Center"}


def test_a_stay_is_folded_from_its_notices_newest_first():
    stays = hw.hospital_stays([
        notice("admission", "2026-11-01T10:00:00+01:00", episode="EPJ-OLD"),
        notice("discharge", "2026-11-05T10:00:00+01:00", episode="EPJ-OLD"),
        notice("admission", "2026-11-20T08:00:00+01:00", status="superseded"),
        notice("admission", "2026-11-20T09:00:00+01:00", department="Afsnit P3"),
        notice("leave-started", "2026-11-22T09:00:00+01:00", department="Afsnit P3"),
        notice("leave-ended", "2026-11-23T09:00:00+01:00", department="Afsnit P3"),
        notice("discharge", "2026-11-24T09:00:00+01:00", status="cancelled"),
    ])
    assert [s.episode for s in stays] == ["EPJ-1", "EPJ-OLD"]
    current, old = stays
    assert current.open and current.department == "Afsnit P3" and current.admitted_at.hour == 9
    assert len(current.leaves) == 1 and current.leaves[0][1] is not None
    assert len(current.notices) == 5  # the history is kept, the cancelled discharge too
    assert not old.open and old.discharged_at.day == 5


def test_check_days_are_typed_the_danish_way():
    assert hw.parse_days("12.03.2027, 13.03.2027") == [date(2027, 3, 12), date(2027, 3, 13)]
    assert hw.parse_days("2027-03-12") == [date(2027, 3, 12)]
    with pytest.raises(ValueError, match="er ikke en dato"):
        hw.parse_days("32.13.2027")
    with pytest.raises(ValueError, match="mindst én dag"):
        hw.parse_days(" ")


def test_health_refusals_become_danish_sentences():
    assert hw.health_problem("rule-violation", "sundhedstjekket er allerede holdt", None) == "Sundhedstjekket er allerede holdt."
    assert "advarslerne" in hw.health_problem("confirm-warnings", "Planen ligger …", None)
    invalid = [{"loc": ["body", "slot_minutes"], "msg": "Input should be a valid integer"}]
    assert hw.health_problem("invalid-request", invalid, None).startswith("Tjek minutter pr. borger:")
    assert hw.health_problem("something-new", None, "Sundhed afviste det.") == "Sundhed afviste det."
    # The new forms' fields are named in Danish too (medication change, treatment order, depot plan, cadence).
    invalid = [{"loc": ["body", "fmk_reference"]}, {"loc": ["body", "conditions", 0]}, {"loc": ["body", "extended_every_years"]}]
    assert hw.health_problem("invalid-request", invalid, None).startswith("Tjek FMK-referencen, det udvidede tjek, vilkårene:")


def test_the_examination_form_sends_what_was_ticked_and_names_the_rest_in_danish():
    from services.portal.pages.health import _examination_body

    body = _examination_body({"u_dato": "2027-03-01", "hvor": "mobile-lab", "bt_liver": "ja", "m_ecg": "ja", "m_pulse": ""})
    assert body == {"done_on": "2027-03-01", "where": "mobile-lab", "blood_tests": ["liver"], "measurements": ["ecg"]}
    assert _examination_body({"u_dato": "", "hvor": "own-gp"}) == "Skriv datoen for undersøgelsen."
    assert _examination_body({"u_dato": "2027-03-01", "hvor": "elsewhere"}) == "Vælg, hvor undersøgelsen blev gjort."
    # Every code health accepts has a Danish label (services/health/schemas.py ExaminationBody).
    assert set(hw.BLOOD_TESTS) == {"red-blood-count", "white-blood-count", "liver", "fluid", "b12", "vitamin-d",
                                   "cholesterol", "thyroid"}
    assert set(hw.MEASUREMENTS) == {"height", "weight", "waist", "blood-pressure", "pulse", "ecg", "spirometry"}


def test_the_nurse_consultant_has_the_health_screens():
    paths = [s.path for s in screens_for("nurse-consultant")]
    assert paths[:3] == ["/", "/arbejdsko", "/borgere"] and "/helbred/indlagte" in paths and "/helbred/dagsplan" in paths
    assert "/helbred/indlagte" not in [s.path for s in screens_for("coordinator")]


def test_the_year_wheel_is_svg_without_inline_style_or_script():
    checks = [{"citizen_id": "a", "starts_at": "2027-03-10T09:00:00+01:00",
               "steps": [{"deadline": "2027-02-17", "status": "done"}, {"deadline": "2027-03-06", "status": "late"}]},
              {"citizen_id": "b", "starts_at": "2027-05-10T09:00:00+02:00", "steps": [{"deadline": "2027-05-06", "status": "due"}]}]
    svg = str(year_wheel_svg(2027, checks, {"a": "Anna <Ø>", "b": "Bo"}))
    assert svg.startswith('<svg viewBox="0 0 ') and 'role="img"' in svg and "aria-label=" in svg
    assert "style" not in svg.lower() and "<script" not in svg.lower()
    assert "Anna &lt;Ø&gt;" in svg and ">mar<" in svg  # names escaped; Danish months
    assert year_wheel_svg(2027, [], {}) is None
