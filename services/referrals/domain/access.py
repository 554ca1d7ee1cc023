"""Who may see and change a case, and what they see (pure rules; the API enforces them)."""

from __future__ import annotations

from enum import StrEnum

from services.referrals.domain.model import Channel, VisitationCase
from tovholder.access import Actor, Role

__all__ = ["Actor", "Role", "View", "can_change", "sees_cpr", "sees_internal_notes", "view_of"]


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
