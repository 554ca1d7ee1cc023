"""The coordinator screens' pure parts: every code plans answers has a Danish word, plans' English
refusals become Danish sentences (never English on a page), a change between two plan versions is
named by the goal's text instead of its id, and the pictures (pygal SVG) carry the cut-offs."""

from __future__ import annotations

import uuid

import pytest

from services.plans.domain import consent as consent_rules
from services.plans.domain import fit as fit_rules
from services.plans.domain import network as network_rules
from services.plans.domain import plan as plan_rules
from services.plans.domain import safety as safety_rules
from services.plans.domain.cadence import PRESETS
from services.plans.domain.errors import PlanRuleViolation
from services.portal import charts
from services.portal.domain import coordinator_words as cw
from services.portal.domain.words import NETWORK_ROLE_LABELS
from tests.browser.portal_support import english_words


@pytest.mark.parametrize(("table", "codes"), [
    (cw.GOAL_KINDS, plan_rules.GoalKind), (cw.GOAL_STATUSES, plan_rules.GoalStatus),
    (cw.SUB_GOAL_KINDS, plan_rules.SubGoalKind), (cw.ENTRY_KINDS, plan_rules.EntryKind),
    (cw.ACTOR_KINDS, plan_rules.ActorKind), (cw.CHANGE_BASES, network_rules.ChangeBasis),
    (cw.LEARNING_OUTCOMES, safety_rules.EpisodeOutcome), (cw.CONSENT_CATEGORIES, consent_rules.Category),
    (cw.RECIPIENT_KINDS, consent_rules.RecipientKind), (cw.FIT_DIRECTIONS, fit_rules.Direction),
    (NETWORK_ROLE_LABELS, network_rules.NetworkRole),
])
def test_every_code_plans_answers_has_a_danish_word(table, codes):
    assert {c.value for c in codes} <= set(table), "a code plans answers has no Danish word on the coordinator's pages"


def test_every_cadence_preset_plans_knows_can_be_chosen():
    assert set(cw.CADENCES) == set(PRESETS)


def _refusal(call) -> str:
    with pytest.raises(PlanRuleViolation) as caught:
        call()
    return caught.value.message


def test_plans_refusals_are_shown_as_danish_sentences():
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    refusals = [
        _refusal(lambda: safety_rules.rate(rating_id=uuid.uuid4(), level="red", reason="Uro", rated_at=now,
                                           rated_by="k1", reassess_at=None, previous=None)),
        _refusal(lambda: safety_rules.rate(rating_id=uuid.uuid4(), level="red", reason=" ", rated_at=now,
                                           rated_by="k1", reassess_at=now + timedelta(hours=1), previous=None)),
        _refusal(lambda: safety_rules.rate(rating_id=uuid.uuid4(), level="purple", reason="x", rated_at=now,
                                           rated_by="k1", reassess_at=None, previous=None)),
        _refusal(lambda: plan_rules.new_goal(goal_id=uuid.uuid4(), text="  ", written_with_citizen=True)),
        _refusal(lambda: consent_rules.parse_recipient("organisation", " ")),
        _refusal(lambda: consent_rules.parse_recipient("group", "naboer")),
    ]
    for refusal in refusals:
        danish = cw.rule_message(refusal)
        assert danish != cw.GENERIC_RULE, f"plans' refusal {refusal!r} is not shown"
        assert danish.rstrip(".").lower() == refusal.rstrip(".").lower()  # as plans says it
        assert english_words(danish) == [], danish


def test_every_rule_message_of_plans_reaches_the_page():
    from tests.unit.test_rule_messages_are_danish import FILES, messages

    texts = [text for path in FILES if "plans" in path.parts for _, text in messages(path)]
    assert len(texts) > 100
    # A text's name (``require_text``) reaches the page inside the rule's message.
    shown = {text: cw.rule_message(text) != cw.GENERIC_RULE or cw.rule_message(f"{text} må ikke være tom") != cw.GENERIC_RULE
             for text in texts}
    assert [text for text, ok in shown.items() if not ok] == []


def test_a_refusal_nobody_translated_yet_is_said_in_general_danish_words_and_danish_ones_pass():
    assert cw.rule_message("a brand-new rule nobody translated") == cw.GENERIC_RULE
    assert cw.rule_message(None) == cw.GENERIC_RULE
    assert cw.rule_message("medarbejderen er allerede i borgerens netværk") == "Medarbejderen er allerede i borgerens netværk."


def test_a_change_between_versions_names_the_goal_by_its_text():
    goal, sub = str(uuid.uuid4()), str(uuid.uuid4())
    names = {goal: "Jeg vil lave mad", sub: "Købe ind"}
    assert cw.diff_path(f"goals[{goal}].sub_goals[{sub}].text", names) == "Mål »Jeg vil lave mad«, Delmål »Købe ind«, tekst"
    assert cw.diff_path(f"goals[{goal}]", names) == "Mål »Jeg vil lave mad«"
    assert goal not in cw.diff_path(f"goals[{goal}].status", {})
    assert cw.diff_value("2026-12-24") == "24.12.2026" and cw.diff_value("achieved") == "Nået"
    assert cw.diff_value({"text": "Svømme"}) == "»Svømme«" and cw.diff_value(True) == "ja"


def test_cadences_and_scores_as_a_dane_writes_them():
    assert cw.cadence_label({"days": 14, "label": "14 days"}) == "Hver 14. dag"
    assert cw.cadence_label({"days": 56}) == "Hver 8. uge"
    assert cw.cadence_label({"months": 2, "latest_months": 3}) == "Hver 2.–3. måned"
    assert cw.cadence_label(None) == "Ingen fast opfølgning"
    assert cw.number(19.5) == "19,5" and cw.number(25.0) == "25" and cw.number(None) == "–"


def test_the_fit_picture_draws_both_scales_and_the_cut_offs_plans_answers():
    fit = {"sessions": [{"scale": "0-40", "held_at": "2026-11-01T10:00:00+00:00", "ors": 19.5, "srs": 37},
                        {"scale": "1-10", "held_at": "2026-10-01T10:00:00+00:00", "ors": 4, "srs": 5},
                        {"scale": "0-40", "held_at": "2026-11-15T10:00:00+00:00", "ors": None, "srs": 38}],
           "trend": {"ors": {"cutoff": 25.0}, "srs": {"cutoff": 36.0}}}
    svg = charts.fit_trend_svg(fit)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "ORS-grænse 25" in svg and "SRS-grænse 36" in svg and "19,5" in svg
    assert "01.11.2026" in svg and "01.10.2026" not in svg  # the old 1–10 scale is not in the trend
    assert 'href="http' not in svg and "@import" not in svg and "<script src" not in svg  # nothing from elsewhere


def test_the_la2_picture_names_the_levels_in_danish():
    svg = charts.la2_history_svg([{"rated_at": "2026-11-02T10:00:00+00:00", "level": "red"},
                                  {"rated_at": "2026-11-01T10:00:00+00:00", "level": "green"}])
    assert all(word in svg for word in ("Grøn", "Gul", "Rød", "01.11.2026", "02.11.2026"))
    assert "Ingen vurderinger endnu" in charts.la2_history_svg([])
