"""Who may see and change a case, and what they see (pure rules; the API enforces them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from services.referrals.domain.model import Channel, VisitationCase
from tovholder import consent as kit_consent
from tovholder.access import Actor, Role

__all__ = ["Actor", "Role", "View", "can_change", "may_read_patient", "sees_cpr", "sees_internal_notes",
           "sees_patient", "view_of"]


class View(StrEnum):
    """How much of a case an actor sees."""

    FULL = "full"  # visitation staff of the case's municipality: everything incl. CPR and internal notes
    PLACEMENT = "placement"  # botilbud coordinator: the placement to their botilbud, no CPR, no internal notes
    REFERRER = "referrer"  # the referring partner: status and history, no internal notes
    CITIZEN = "citizen"  # the citizen: own status and history in plain Danish, no internal notes
    NONE = "none"


def view_of(actor: Actor, case: VisitationCase) -> View:
    role, scope = actor.role, actor.scope
    if role == Role.VISITATION:
        # A case without a municipality of its own (a partner's referral) is the receiving municipality's.
        return View.FULL if scope.sees_municipality(case.municipality) else View.NONE
    if role == Role.PARTNER:
        sent_it = case.referrer.channel is Channel.PARTNER and scope.sent_by(case.referrer.org)
        # A partner whose referral joined the citizen's open case follows that case.
        added_to_it = any(scope.sent_by(org) for org in case.added_by_orgs)
        return View.REFERRER if sent_it or added_to_it else View.NONE
    if role == Role.COORDINATOR:
        return View.PLACEMENT if scope.sees_botilbud(case.botilbud_id) else View.NONE
    if role == Role.CITIZEN:
        return View.CITIZEN if scope.is_citizen(case.citizen_id) else View.NONE
    return View.NONE


def can_change(actor: Actor, case: VisitationCase | None = None) -> bool:
    """Only visitation staff change cases (of their own municipality)."""
    if actor.role != Role.VISITATION:
        return False
    return case is None or view_of(actor, case) is View.FULL


def sees_cpr(view: View) -> bool:
    return view is View.FULL


def sees_internal_notes(view: View) -> bool:
    return view is View.FULL


def sees_patient(actor: Actor, cases: Iterable[VisitationCase]) -> bool:
    """Staff and the citizen read a citizen's ``Patient`` on the cases' rule: the citizen themselves, and
    staff who see one of the citizen's cases in full or as its placement (visitation of its municipality,
    the coordinators of the botilbud it is placed at) — those whom the REST API shows the citizen's
    name. A partner reads it only under ``may_read_patient`` (a referral it sent is no consent)."""
    if actor.role == Role.CITIZEN:
        return any(view_of(actor, case) is View.CITIZEN for case in cases)
    return actor.role != Role.PARTNER and any(view_of(actor, case) in (View.FULL, View.PLACEMENT) for case in cases)


def may_read_patient(consents: Iterable[kit_consent.Consent], org: str, at: datetime) -> kit_consent.Decision:
    """May the partner organisation ``org`` read who the citizen is (``Patient``)? The kit's one decision,
    for each category of information it knows: where a consent of the citizen to that organisation is in
    force at ``at`` for any of them (or a legal basis names the organisation for one), the organisation
    may read what the citizen shares with it, so it may know whom that is about — the rule of
    ``POST /integration/v1/citizen-references``. Otherwise the first refusal (its reason stays in our audit
    log; the partner reads one answer for every Patient it may not read)."""
    consents = list(consents)
    recipient = kit_consent.Recipient.organisation(org)
    refusal = None
    for category in kit_consent.CATEGORY_WORDS:
        for basis in kit_consent.legal_bases_naming(recipient, category) or [None]:
            decision = kit_consent.decide(consents=consents, legal_basis=basis.reference if basis else None,
                                          recipient=recipient, category=category, at=at)
            if decision:
                return decision
            refusal = refusal or decision
    assert refusal is not None
    return refusal
