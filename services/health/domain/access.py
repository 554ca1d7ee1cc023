"""Who may see and change a citizen's health data: the citizen's tovholder, the other nurse consultants
at the botilbud (they dose all medication and cover at weekends, [4]:7141-7146, 7403-7407), the
citizen's network, and the citizen. Partners only deliver (integration endpoints); visitation only
works the queue of unmatched hospital notices; admin runs the system and reads no health data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    VISITATION = "visitation"
    COORDINATOR = "coordinator"
    NURSE_CONSULTANT = "nurse-consultant"
    PARTNER = "partner"
    CITIZEN = "citizen"
    ADMIN = "admin"


class Action(StrEnum):
    READ = "read"  # timeline, notices, medication changes, health checks, forensic data
    WRITE = "write"  # record contacts, medication changes, forensic entries, preparation steps
    HEALTH_CHECK_MINUTES = "health-check-minutes"  # hold the check, record decisions
    CHOOSE_TOVHOLDER = "choose-tovholder"
    DECLINE_HEALTH_CHECK = "decline-health-check"
    UNMATCHED_QUEUE = "unmatched-queue"


@dataclass(frozen=True)
class Actor:
    role: str
    sub: str
    botilbud: str | None = None
    org: str | None = None


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
    in_network = actor.role in (Role.COORDINATOR, Role.NURSE_CONSULTANT) and actor.sub in citizen.network_subs
    if action is Action.READ:
        return is_self or is_tovholder or house_nurse or in_network
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


def why_not(actor: Actor, action: Action) -> str:
    """A reason for a 403 that tells the person what to do, without revealing health data."""
    if actor.role == Role.PARTNER:
        return "partners deliver health information through the integration endpoints and cannot read it back"
    if actor.role == Role.ADMIN:
        return "administrators run the system and do not see citizens' health data"
    if action is Action.UNMATCHED_QUEUE:
        return "only visitation staff work the queue of unmatched hospital notices"
    return "only the citizen, their tovholder, the botilbud's nurse consultants and the citizen's network have access"
