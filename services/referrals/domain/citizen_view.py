"""What the citizen (and a referring partner) sees of a case: status and history in plain Danish,
no internal notes, nothing about other citizens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.referrals.domain.model import CaseStatus, VisitationCase
from tovholder import clock

STATUS_TEXT: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: "Vi har modtaget henvisningen. En visitator ser på den snarest.",
    CaseStatus.SCREENING: "Visitationen er i gang med at udrede, hvad du har brug for. Vi taler med dig om dine ønsker.",
    CaseStatus.GRANTED: "Du har fået bevilget et tilbud, og der er en plads klar til dig.",
    CaseStatus.REFUSED: "Du har fået afslag. Du kan klage over afgørelsen – se klagevejledningen.",
    CaseStatus.WAITING: "Du har fået bevilget et tilbud og står på venteliste til en plads.",
    CaseStatus.PLACED: "Du bor nu i dit tilbud. Vi følger op på, hvordan det går.",
    CaseStatus.ENDED: "Dit ophold er afsluttet.",
    CaseStatus.WITHDRAWN: "Henvisningen er trukket tilbage.",
}

ACTION_TEXT: dict[str, str] = {
    "received": "Henvisning modtaget",
    "screening-started": "Udredning begyndt",
    "assessment-recorded": "Udredning lavet",
    "assessment-revised": "Udredning opdateret",
    "granted": "Tilbud bevilget",
    "refused": "Afslag",
    "reopened": "Sagen vurderes igen",
    "place-released": "Sat på venteliste",
    "place-reserved": "Plads fundet",
    "moved-in": "Flyttet ind",
    "follow-up-held": "Opfølgning",
    "move-out-planned": "Plan for udflytning",
    "phase-out-visit": "Udslusningsbesøg",
    "placement-ended": "Ophold afsluttet",
    "withdrawn": "Henvisning trukket tilbage",
    "referral-added": "Ny henvisning lagt til sagen",
    "continued-from": "Forløbet fortsætter her",
    "assessment-carried-over": "Udredningen følger med",
    "continued-in": "Forløbet fortsætter i et nyt tilbud",
}


@dataclass(frozen=True)
class PublicHistoryItem:
    at: datetime
    title: str
    text: str | None
    status: str


@dataclass(frozen=True)
class PublicCaseView:
    case_id: str
    status: str
    status_text: str
    received_on: date
    offer_id: str | None
    start_date: date | None
    next_follow_up: date | None
    complaint_guidance: str | None
    history: tuple[PublicHistoryItem, ...]


def public_view(case: VisitationCase) -> PublicCaseView:
    """Status and history without internal notes or staff identities (only the texts meant for the citizen)."""
    return PublicCaseView(
        case_id=str(case.case_id),
        status=case.status.value,
        status_text=STATUS_TEXT[case.status],
        received_on=clock.local_date(case.received_at),
        offer_id=case.offer_id,
        start_date=case.grant.start_date if case.grant else None,
        next_follow_up=case.placement.follow_up_date if case.placement and case.status is CaseStatus.PLACED else None,
        complaint_guidance=case.refusal.complaint_guidance if case.refusal and case.status is CaseStatus.REFUSED else None,
        history=tuple(
            PublicHistoryItem(at=h.at, title=ACTION_TEXT.get(h.action, h.action), text=h.reason, status=h.to_status.value)
            for h in case.history
        ),
    )
