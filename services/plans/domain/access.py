"""Who may read and write what about a citizen in the plans service. Pure: the use cases load the
facts (network, botilbud, consents) and ask here.

- The citizen reads their own plan, comments on it, writes their own goals and perspective, chooses
  their network and gives or revokes consent (Borgeren ved roret, DIGEST section 1 and 4).
- Staff in the citizen's network read and write the plan ([4]:7769-7805).
- All staff of the citizen's botilbud read the tryghedsplan and the current LA2 rating (it hangs in
  the back office for every staff member, [4]:6425-6427) and may rate and open a learning plan: the
  staff on duty assess together ([4]:6431-6447). Before the network has any member, they read the plan
  and make the initial assignment ([4]:6613-6618, 7774-7775).
- Anyone else (a partner organisation) sees a category only where the citizen's consent or a legal
  basis allows it (``consent.may_receive``). Nobody else sees anything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from tovholder.access import Actor, Role
from services.plans.domain.consent import ConsentDecision, ConsentRecord, may_receive

# The staff a citizen can choose into their network.
NETWORK_ROLES = frozenset({Role.COORDINATOR, Role.NURSE_CONSULTANT})


class Relation(str, enum.Enum):
    CITIZEN = "citizen"  # the citizen themselves
    NETWORK = "network"  # staff in the citizen's network
    BOTILBUD_STAFF = "botilbud-staff"  # staff at the citizen's botilbud, not in the network
    PARTNER = "partner"  # an external organisation
    OTHER = "other"


class Action(str, enum.Enum):
    READ_PLAN = "read-plan"
    WRITE_PLAN = "write-plan"  # goals, sub-goals, actions, entries, follow-ups, cadence
    COMMENT_PLAN = "comment-plan"
    READ_NETWORK = "read-network"
    CHANGE_NETWORK = "change-network"
    READ_SAFETY = "read-safety"  # tryghedsplan, LA2 rating, learning plans
    WRITE_TRYGHEDSPLAN = "write-tryghedsplan"
    RATE_SAFETY = "rate-safety"  # LA2 rating, citizen told, learning plan, BVC
    READ_FIT = "read-fit"
    RECORD_FIT = "record-fit"
    READ_CONSENT = "read-consent"
    CHANGE_CONSENT = "change-consent"
    CALL_NETWORK_MEETING = "call-network-meeting"  # the citizen convenes their network
    RUN_NETWORK_MEETING = "run-network-meeting"  # staff in the network set its time and close it
    SHARE_FIT = "share-fit"  # the citizen shares (or stops sharing) a FIT session's scores


# The viewer is the kit's actor (sub, role, botilbud, org).
Viewer = Actor


def relation(viewer: Viewer, *, citizen_id: str, network: Iterable[str], botilbud_id: str | None) -> Relation:
    if viewer.role == "citizen":
        return Relation.CITIZEN if viewer.sub == str(citizen_id) else Relation.OTHER
    if viewer.role in NETWORK_ROLES:
        if viewer.sub in set(network):
            return Relation.NETWORK
        if botilbud_id is not None and viewer.botilbud == botilbud_id:
            return Relation.BOTILBUD_STAFF
        return Relation.OTHER
    if viewer.role == "partner" and viewer.org:
        return Relation.PARTNER
    return Relation.OTHER


_ALLOWED: dict[Relation, frozenset[Action]] = {
    Relation.CITIZEN: frozenset({
        Action.READ_PLAN, Action.WRITE_PLAN, Action.COMMENT_PLAN, Action.READ_NETWORK, Action.CHANGE_NETWORK,
        Action.READ_SAFETY, Action.WRITE_TRYGHEDSPLAN, Action.READ_FIT, Action.READ_CONSENT, Action.CHANGE_CONSENT,
        Action.CALL_NETWORK_MEETING, Action.SHARE_FIT,
    }),
    # What only the citizen does (comment on, call a meeting, share FIT) is not staff's to do for them.
    Relation.NETWORK: frozenset(set(Action) - {Action.COMMENT_PLAN, Action.CALL_NETWORK_MEETING, Action.SHARE_FIT}),
    Relation.BOTILBUD_STAFF: frozenset({Action.READ_NETWORK, Action.READ_SAFETY, Action.RATE_SAFETY}),
    Relation.PARTNER: frozenset(),
    Relation.OTHER: frozenset(),
}

# Before the network has members, the botilbud's staff prepare the move-in (a small team is formed in
# advance, [4]:6613-6618): they read the plan and make the initial assignment.
_BEFORE_THE_NETWORK = frozenset({Action.READ_PLAN, Action.CHANGE_NETWORK})

# What a partner may read on consent, by the consent category that covers it.
PARTNER_READS = {Action.READ_PLAN: "plan", Action.READ_SAFETY: "safety-plan", Action.READ_FIT: "fit"}


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    relation: Relation
    reason: str  # Danish: the citizen or staff member reads it in a refusal
    consent: ConsentDecision | None = None
    en: str = ""  # the same in English, for a partner (FHIR)

    def __bool__(self) -> bool:
        return self.allowed


# Who the viewer is to the citizen, in the words of an allowed decision's reason.
_AS = {Relation.CITIZEN: "borgeren selv", Relation.NETWORK: "medarbejder i borgerens netværk",
       Relation.BOTILBUD_STAFF: "medarbejder på borgerens botilbud"}


def decide(viewer: Viewer, action: Action, *, citizen_id: str, network: Iterable[str], botilbud_id: str | None,
           consents: Iterable[ConsentRecord] = (), at: datetime, network_is_empty: bool = False) -> AccessDecision:
    rel = relation(viewer, citizen_id=citizen_id, network=network, botilbud_id=botilbud_id)
    if action in _ALLOWED[rel]:
        return AccessDecision(True, rel, f"tilladt som {_AS.get(rel, rel.value)}", en=f"allowed as {rel.value}")
    if rel == Relation.BOTILBUD_STAFF and network_is_empty and action in _BEFORE_THE_NETWORK:
        return AccessDecision(True, rel, "netværket er ikke dannet endnu: medarbejderne på borgerens botilbud "
                                         "forbereder indflytningen",
                              en="the network is not formed yet: staff of the citizen's botilbud prepare the move-in")
    if rel == Relation.PARTNER and action in PARTNER_READS:
        consent = may_receive(recipient_kind="organisation", recipient_id=viewer.org or "",
                              category=PARTNER_READS[action], at=at, consents=consents)
        return AccessDecision(consent.allowed, rel, consent.reason, consent, en=consent.en)
    danish, english = _refusal(rel, action)
    return AccessDecision(False, rel, danish, en=english)


def _refusal(rel: Relation, action: Action) -> tuple[str, str]:
    """Why not: in Danish for the person refused, and in English."""
    if rel == Relation.CITIZEN:
        return "det gør medarbejderne i dit netværk", "this is for staff in your network"
    if rel == Relation.BOTILBUD_STAFF:
        if action == Action.CHANGE_NETWORK:
            return ("kun borgeren kan ændre netværket, eller en medarbejder, der allerede er i borgerens netværk, "
                    "på borgerens vegne",
                    "only the citizen, or staff already in the citizen's network on the citizen's behalf, can "
                    "change the network")
        return ("kun medarbejdere i borgerens netværk kan gøre det; borgeren vælger, hvem der er med",
                "only staff in the citizen's network can do this; the citizen chooses who is in it")
    if rel == Relation.NETWORK:
        return ("det gør kun borgeren selv (kommenterer planen, indkalder til netværksmøde, deler FIT-scorer)",
                "only the citizen does this (comment on the plan, call a network meeting, share FIT scores)")
    if rel == Relation.PARTNER:
        return ("samarbejdspartnere ser kun det, borgeren har givet samtykke til at dele med deres organisation",
                "partners see only what the citizen has consented to share with their organisation")
    return ("du er hverken borgeren eller medarbejder i borgerens netværk",
            "you are neither the citizen nor staff in the citizen's network")
