"""Who may see and change a case, and what they see (pure rules; the API enforces them)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.referrals.domain.model import Channel, VisitationCase


class Role(StrEnum):
    VISITATION = "visitation"
    COORDINATOR = "coordinator"
    NURSE_CONSULTANT = "nurse-consultant"
    PARTNER = "partner"
    CITIZEN = "citizen"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    role: str
    sub: str
    org: str | None = None
    botilbud_id: str | None = None
    municipality: str | None = None  # None: a single-municipality installation


class View(StrEnum):
    """How much of a case an actor sees."""

    FULL = "full"  # visitation staff of the case's municipality: everything incl. CPR and internal notes
    PLACEMENT = "placement"  # botilbud coordinator: the placement to their botilbud, no CPR, no internal notes
    REFERRER = "referrer"  # the referring partner: status and history, no internal notes
    CITIZEN = "citizen"  # the citizen: own status and history in plain Danish, no internal notes
    NONE = "none"


def view_of(actor: Actor, case: VisitationCase) -> View:
    role = actor.role
    if role == Role.VISITATION:
        same_municipality = actor.municipality is None or case.municipality is None or actor.municipality == case.municipality
        return View.FULL if same_municipality else View.NONE
    if role == Role.PARTNER:
        sent_it = case.referrer.channel is Channel.PARTNER and actor.org is not None and case.referrer.org == actor.org
        return View.REFERRER if sent_it else View.NONE
    if role == Role.COORDINATOR:
        to_their_botilbud = actor.botilbud_id is not None and case.botilbud_id == actor.botilbud_id
        return View.PLACEMENT if to_their_botilbud else View.NONE
    if role == Role.CITIZEN:
        return View.CITIZEN if actor.sub == str(case.citizen_id) else View.NONE
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
