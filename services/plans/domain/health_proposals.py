"""Proposals from the health check: a decision in the check's minutes becomes a *proposed* entry in
Borgerens Plan ("the minutes are the checklist for updating the intervention plans", [4]:4946-4952).

Nothing enters the plan on the health service's word alone: the coordinator goes through the proposal
with the citizen, and either confirms it (it becomes a plan entry written with the citizen) or records
that the citizen does not want it in the plan, with a reason. Pure rules, no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from services.plans.domain.errors import PlanRuleViolation
from tovholder import clock


class ProposalStatus(str, enum.Enum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"  # gone through with the citizen and entered in the plan
    DECLINED = "declined"  # the citizen does not want it in the plan (the reason is kept)


DECISION_WORDS = {
    "reduce-dose": "dosis nedsættes",
    "stop-drug": "medicin stoppes",
    "start-drug": "medicin startes",
    "book-examination": "undersøgelse bookes",
    "watch-symptom": "hold øje med et symptom",
    "lifestyle": "livsstil (KRAM)",
    "other": "anden aftale",
}


@dataclass(frozen=True)
class Proposal:
    decision_kind: str
    title: str
    held_at: datetime
    status: ProposalStatus = ProposalStatus.PROPOSED
    due_at: datetime | None = None
    review_on: date | None = None


def entry_text(proposal: Proposal, wording: str | None = None) -> str:
    """The plan entry a confirmed proposal becomes, in Danish: what was agreed at the check and when."""
    what = (wording or "").strip() or proposal.title.strip()
    text = (f"Fra sundhedstjekket {clock.local(proposal.held_at):%d.%m.%Y} "
            f"({DECISION_WORDS.get(proposal.decision_kind, proposal.decision_kind)}): {what}")
    if proposal.due_at is not None:
        text += f". Dato: {clock.local(proposal.due_at):%d.%m.%Y kl. %H:%M}"
    elif proposal.review_on is not None:
        text += f". Ses på igen {proposal.review_on:%d.%m.%Y}"
    return text


def answer(proposal: Proposal, *, accepted: bool, with_citizen: bool, reason: str | None = None) -> ProposalStatus:
    """The coordinator's answer. A proposal is answered once, and always together with the citizen;
    a proposal the citizen does not want in the plan needs the reason."""
    if proposal.status is not ProposalStatus.PROPOSED:
        raise PlanRuleViolation("forslaget er allerede besvaret", field="accepted")
    if not with_citizen:
        raise PlanRuleViolation("gennemgå forslaget med borgeren, før det besvares (with_citizen)", field="with_citizen")
    if accepted:
        return ProposalStatus.CONFIRMED
    if not (reason or "").strip():
        raise PlanRuleViolation("skriv, hvorfor borgeren ikke vil have forslaget i planen", field="reason")
    return ProposalStatus.DECLINED
