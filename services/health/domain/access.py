"""Who may see and change a citizen's health data: the citizen's tovholder, the other nurse consultants
at the botilbud (they dose all medication and cover at weekends, [4]:7141-7146, 7403-7407), the
citizen's network, and the citizen. Partners only deliver (integration endpoints); visitation only
works the queue of unmatched hospital notices; admin runs the system and reads no health data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Iterable

from tovholder import consent as kit_consent
from tovholder.access import Actor, CitizenCircle, Role, Viewer, may_read_health_details


class Action(StrEnum):
    READ = "read"  # timeline, notices, medication changes, health checks, forensic data
    WRITE = "write"  # record contacts, medication changes, forensic entries, preparation steps
    HEALTH_CHECK_MINUTES = "health-check-minutes"  # hold the check, record decisions
    CHOOSE_TOVHOLDER = "choose-tovholder"
    DECLINE_HEALTH_CHECK = "decline-health-check"
    UNMATCHED_QUEUE = "unmatched-queue"


@dataclass(frozen=True)
class CitizenContext:
    citizen_id: str
    botilbud_id: str | None
    tovholder_sub: str | None
    network_subs: frozenset[str] = field(default_factory=frozenset)


def _same_botilbud(actor: Actor, citizen: CitizenContext) -> bool:
    return actor.botilbud is not None and actor.botilbud == citizen.botilbud_id


def may(actor: Actor, action: Action, citizen: CitizenContext | None = None) -> bool:
    if action is Action.UNMATCHED_QUEUE:
        return actor.role == Role.VISITATION
    if citizen is None:
        return False
    is_self = actor.role == Role.CITIZEN and actor.sub == citizen.citizen_id
    is_tovholder = actor.role == Role.NURSE_CONSULTANT and actor.sub == citizen.tovholder_sub
    house_nurse = actor.role == Role.NURSE_CONSULTANT and _same_botilbud(actor, citizen)
    if action is Action.READ:
        # The kit's one rule, the same for every copy of health details (notifications' timeline too).
        return may_read_health_details(
            Viewer(actor.role, actor.sub, actor.botilbud),
            CitizenCircle(citizen.citizen_id, citizen.botilbud_id, citizen.tovholder_sub, citizen.network_subs),
        )
    if action is Action.WRITE:
        return is_tovholder or house_nurse
    if action is Action.HEALTH_CHECK_MINUTES:
        # The home's coordinator takes the minutes; the nurse consultants run the cycle.
        return is_tovholder or house_nurse or (actor.role == Role.COORDINATOR and _same_botilbud(actor, citizen))
    if action is Action.CHOOSE_TOVHOLDER:
        # The citizen chooses; staff at the botilbud may record the choice on the citizen's behalf.
        return is_self or (actor.role in (Role.COORDINATOR, Role.NURSE_CONSULTANT) and _same_botilbud(actor, citizen))
    if action is Action.DECLINE_HEALTH_CHECK:
        return is_self or is_tovholder or house_nurse
    return False


# The actions on one citizen's data (the unmatched queue is about no citizen).
CITIZEN_ACTIONS = tuple(a for a in Action if a is not Action.UNMATCHED_QUEUE)


def reads_health_data(role: str) -> bool:
    """Whether the role can ever be let in to a citizen's health data (partners, admin and visitation
    never are: their refusal depends on the role alone, so it says nothing about the citizen)."""
    return role in (Role.CITIZEN, Role.NURSE_CONSULTANT, Role.COORDINATOR)


def knows_of(actor: Actor, citizen: CitizenContext) -> bool:
    """Whether the actor may do anything at all with the citizen's record, and so knows it exists
    (a refusal of one action can then say why; otherwise it must look like "no such record")."""
    return any(may(actor, a, citizen) for a in CITIZEN_ACTIONS)


def why_not(actor: Actor, action: Action) -> str:
    """A reason for a 403 that tells the person what to do, without revealing health data."""
    if actor.role == Role.PARTNER:
        return "partners deliver health information through the integration endpoints and cannot read it back"
    if actor.role == Role.ADMIN:
        return "administratorer driver systemet og ser ikke borgernes helbredsoplysninger"
    if action is Action.UNMATCHED_QUEUE:
        return "kun visitationen arbejder med køen af hospitalsadviser uden match"
    return "kun borgeren, borgerens tovholder, botilbuddets sygeplejekonsulenter og borgerens netværk har adgang"


# --- passing health information on to partners -----------------------------------------------

HEALTH_CATEGORY = "health"
# The citizen's consents as every read model keeps them: the kit's (``tovholder.consent``).
Consent = kit_consent.Consent


def may_pass_on(consents: Iterable[Consent], org: str, at: datetime, category: str = HEALTH_CATEGORY, *,
                legal_basis: str | None = None) -> kit_consent.Decision:
    """May health information reach the organisation ``org`` (a partner document passed on, a hospital
    stay read through the FHIR API)? The kit's one decision: only under the citizen's consent for
    ``category`` to that organisation, in force at ``at`` (a revocation stops every later reading, also of
    what was shared before), or a legal basis naming it — the basis recorded on hospital notices
    (retssikkerhedsloven § 12 c) names no organisation beyond the municipality."""
    return kit_consent.decide(consents=consents, legal_basis=legal_basis, recipient=kit_consent.Recipient.organisation(org),
                              category=category, at=at)
