"""Issue 15, "Plans learn from the health check": a decision from the minutes is a proposal that the
coordinator answers together with the citizen."""

from datetime import date, datetime, timedelta, timezone

import pytest

from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.health_proposals import Proposal, ProposalStatus, answer, entry_text

HELD = datetime(2027, 3, 10, 9, 12, tzinfo=timezone(timedelta(hours=1)))


def proposal(**kw):
    return Proposal(**{"decision_kind": "reduce-dose", "title": "Halvér afføringsmidlet", "held_at": HELD, **kw})


def test_the_entry_says_where_it_comes_from_in_danish():
    assert entry_text(proposal()) == "Fra sundhedstjekket 10.03.2027 (dosis nedsættes): Halvér afføringsmidlet"
    dated = proposal(decision_kind="book-examination", title="EKG", due_at=HELD + timedelta(days=14))
    assert entry_text(dated).endswith("EKG. Dato: 24.03.2027 kl. 09:12")
    watched = proposal(decision_kind="watch-symptom", title="Blodsukker", review_on=date(2027, 6, 9))
    assert entry_text(watched).endswith("Blodsukker. Ses på igen 09.06.2027")
    assert entry_text(proposal(), "Halv dosis afføringsmiddel, som jeg selv foreslog").endswith("som jeg selv foreslog")


def test_confirmed_only_with_the_citizen():
    assert answer(proposal(), accepted=True, with_citizen=True) is ProposalStatus.CONFIRMED
    with pytest.raises(PlanRuleViolation, match="med borgeren"):
        answer(proposal(), accepted=True, with_citizen=False)


def test_declining_needs_the_reason_and_an_answer_is_given_once():
    with pytest.raises(PlanRuleViolation, match="hvorfor"):
        answer(proposal(), accepted=False, with_citizen=True, reason=" ")
    assert answer(proposal(), accepted=False, with_citizen=True, reason="Vil tale med lægen først") is ProposalStatus.DECLINED
    with pytest.raises(PlanRuleViolation, match="allerede besvaret"):
        answer(proposal(status=ProposalStatus.CONFIRMED), accepted=True, with_citizen=True)
