"""The citizen-chosen network (Orion, DIGEST W7): 1–14 staff, chosen and changed by the citizen.

Fixed functions in every network ([4]:7792-7794): a network coordinator with a partner (makker), a
nurse consultant (sygeplejekonsulent, the citizen's tovholder) and a rehabilitation leader. One
coordinator per citizen ([4]:3304-3306); the citizen chooses one nurse consultant ([4]:7280-7281).
Staff may suggest members, never decide ([4]:7783-7790): a change records whether it was the
citizen's choice or the initial assignment at move-in (about five staff, [4]:7774-7775).

Members are staff of the citizen's botilbud that plans knows (``domain/staff.py``) or named external
partners with an organisation (role ``other``; they do not count towards the 1–14 staff and hold no
fixed function). The coordinator cannot leave the network, or the role, without a successor: a
network that has a coordinator keeps one, so removing oneself never locks the plan out of coordination.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from services.plans.domain.errors import PlanRuleViolation

MIN_MEMBERS = 1
MAX_MEMBERS = 14


class NetworkRole(str, enum.Enum):
    COORDINATOR = "coordinator"  # netværkskoordinator
    MAKKER = "makker"  # the coordinator's partner
    NURSE_CONSULTANT = "nurse-consultant"  # sygeplejekonsulent: the tovholder
    REHABILITATION_LEADER = "rehabilitation-leader"
    MEDICATION_PARTNER = "medication-partner"
    OTHER = "other"

    @property
    def danish(self) -> str:
        """The role in a Danish sentence ("netværket har allerede en netværkskoordinator")."""
        return {"coordinator": "netværkskoordinator", "makker": "makker", "nurse-consultant": "sygeplejekonsulent",
                "rehabilitation-leader": "rehabiliteringsleder", "medication-partner": "medicinmakker",
                "other": "anden rolle"}[self.value]


# At most one member may hold these.
SINGLE_HOLDER_ROLES = frozenset({NetworkRole.COORDINATOR, NetworkRole.NURSE_CONSULTANT})
FIXED_ROLES = (NetworkRole.COORDINATOR, NetworkRole.MAKKER, NetworkRole.NURSE_CONSULTANT,
               NetworkRole.REHABILITATION_LEADER)


class MemberKind(str, enum.Enum):
    STAFF = "staff"
    EXTERNAL = "external"  # a named partner outside the botilbud, with an organisation


class ChangeBasis(str, enum.Enum):
    CITIZEN_CHOICE = "citizen-choice"
    INITIAL_ASSIGNMENT = "initial-assignment"  # before the citizen knows the staff


@dataclass(frozen=True)
class NetworkMember:
    staff_id: str
    role: NetworkRole
    added_at: datetime
    basis: ChangeBasis
    kind: MemberKind = MemberKind.STAFF
    name: str | None = None  # external partners: the person's name
    organisation: str | None = None  # external partners: where they work


@dataclass(frozen=True)
class Network:
    citizen_id: str
    members: tuple[NetworkMember, ...] = ()

    def staff_members(self) -> tuple[NetworkMember, ...]:
        return tuple(m for m in self.members if m.kind == MemberKind.STAFF)

    def staff_ids(self) -> frozenset[str]:
        return frozenset(m.staff_id for m in self.members)

    def contains(self, staff_id: str) -> bool:
        return staff_id in self.staff_ids()

    def holder_of(self, role: NetworkRole) -> NetworkMember | None:
        return next((m for m in self.members if m.role == role), None)

    @property
    def tovholder(self) -> NetworkMember | None:
        return self.holder_of(NetworkRole.NURSE_CONSULTANT)

    @property
    def coordinator(self) -> NetworkMember | None:
        return self.holder_of(NetworkRole.COORDINATOR)

    def missing_fixed_roles(self) -> tuple[NetworkRole, ...]:
        """Fixed functions nobody holds yet: a prompt for the conversation, never a block."""
        held = {m.role for m in self.members}
        return tuple(r for r in FIXED_ROLES if r not in held)

    def follow_up_owner(self) -> str | None:
        """Who a due plan follow-up goes to: the coordinator, else the tovholder, else nobody."""
        member = self.coordinator or self.tovholder
        return member.staff_id if member else None


def is_full(network: Network) -> bool:
    return len(network.staff_members()) >= MAX_MEMBERS


def add_member(network: Network, *, staff_id: str, role: NetworkRole, at: datetime,
               basis: ChangeBasis, departed: dict[str, str] | None = None) -> Network:
    """Add a staff member (whom ``staff.require_may_join`` has found at the citizen's botilbud).
    ``departed``: members who have left the municipality (fratrådt), id → name; a full network's
    refusal names them, because they are the ones to remove first."""
    staff_id = (staff_id or "").strip()
    if not staff_id:
        raise PlanRuleViolation("angiv hvilken medarbejder, der skal med i netværket", field="staff_id")
    role = NetworkRole(role)
    if network.contains(staff_id):
        raise PlanRuleViolation("medarbejderen er allerede i borgerens netværk", field="staff_id")
    if is_full(network):
        gone = [name for member_id, name in (departed or {}).items() if network.contains(member_id)]
        hint = (f" – {_danish_list(gone)} er fratrådt og kan fjernes" if gone else "")
        raise PlanRuleViolation(
            f"et netværk har højst {MAX_MEMBERS} medarbejdere; borgeren må fjerne en først{hint}", field="staff_id"
        )
    _require_free(network, role)
    member = NetworkMember(staff_id=staff_id, role=role, added_at=at, basis=ChangeBasis(basis))
    return replace(network, members=network.members + (member,))


def add_external_partner(network: Network, *, member_id: str, name: str, organisation: str, role: NetworkRole,
                         at: datetime, basis: ChangeBasis) -> Network:
    """A named partner outside the botilbud (a GP, a psychiatrist, a housing-support worker)."""
    name, organisation = (name or "").strip(), (organisation or "").strip()
    if not name:
        raise PlanRuleViolation("en ekstern samarbejdspartner skal have et navn", field="external.name")
    if not organisation:
        raise PlanRuleViolation("en ekstern samarbejdspartner skal have en organisation", field="external.organisation")
    if NetworkRole(role) != NetworkRole.OTHER:
        raise PlanRuleViolation("eksterne samarbejdspartnere har rollen 'other'; netværkets faste funktioner "
                                "varetages af botilbuddets personale", field="role")
    if any(m.kind == MemberKind.EXTERNAL and (m.name or "").casefold() == name.casefold()
           and (m.organisation or "").casefold() == organisation.casefold() for m in network.members):
        raise PlanRuleViolation(f"{name} ({organisation}) er allerede i borgerens netværk", field="external.name")
    member = NetworkMember(staff_id=member_id, role=NetworkRole.OTHER, added_at=at, basis=ChangeBasis(basis),
                           kind=MemberKind.EXTERNAL, name=name, organisation=organisation)
    return replace(network, members=network.members + (member,))


def remove_member(network: Network, *, staff_id: str) -> tuple[Network, NetworkMember]:
    member = next((m for m in network.members if m.staff_id == staff_id), None)
    if member is None:
        raise PlanRuleViolation("medlemmet er ikke i borgerens netværk", field="staff_id")
    if member.role == NetworkRole.COORDINATOR:
        raise PlanRuleViolation(
            "netværkets koordinator kan ikke fjernes, før en anden har overtaget rollen: giv koordinatorrollen til "
            "et andet medlem (skift rolle med previous_holder_role), og fjern så medlemmet", field="staff_id")
    if member.kind == MemberKind.STAFF and len(network.staff_members()) <= MIN_MEMBERS:
        raise PlanRuleViolation(
            f"et netværk har mindst {MIN_MEMBERS} medarbejder; tilføj den nye, før den sidste fjernes",
            field="staff_id",
        )
    return replace(network, members=tuple(m for m in network.members if m.staff_id != staff_id)), member


def change_role(network: Network, *, staff_id: str, role: NetworkRole,
                previous_holder_role: NetworkRole | None = None) -> Network:
    """Give a member another role. A role only one member may hold (coordinator, nurse consultant)
    that someone else holds is handed over: ``previous_holder_role`` says what the previous holder
    becomes, so the seat is never empty in between. The coordinator's own role changes only by
    handing it to someone else."""
    role = NetworkRole(role)
    member = next((m for m in network.members if m.staff_id == staff_id), None)
    if member is None:
        raise PlanRuleViolation("medlemmet er ikke i borgerens netværk", field="staff_id")
    if member.role == role:
        raise PlanRuleViolation(f"medlemmet har allerede rollen {role.danish}", field="role")
    if member.kind == MemberKind.EXTERNAL:
        raise PlanRuleViolation("eksterne samarbejdspartnere har rollen 'other'", field="role")
    if member.role == NetworkRole.COORDINATOR:
        raise PlanRuleViolation(
            "koordinatoren skifter rolle ved at give koordinatorrollen videre: skift det nye medlems rolle til "
            "coordinator med previous_holder_role", field="role")
    holder = network.holder_of(role) if role in SINGLE_HOLDER_ROLES else None
    if holder is None:
        if previous_holder_role is not None:
            raise PlanRuleViolation("ingen har rollen endnu; udelad previous_holder_role", field="previous_holder_role")
        return replace(network, members=tuple(replace(m, role=role) if m.staff_id == staff_id else m
                                              for m in network.members))
    if previous_holder_role is None:
        raise PlanRuleViolation(
            f"netværket har allerede en {role.danish} ({holder.staff_id}); angiv previous_holder_role for at give "
            "rollen videre, eller skift eller fjern det medlem først", field="role")
    previous_holder_role = NetworkRole(previous_holder_role)
    if previous_holder_role == role:
        raise PlanRuleViolation("den tidligere indehaver kan ikke beholde rollen", field="previous_holder_role")
    if previous_holder_role in SINGLE_HOLDER_ROLES and network.holder_of(previous_holder_role) not in (None, member):
        raise PlanRuleViolation(f"netværket har allerede en {previous_holder_role.danish}",
                                field="previous_holder_role")

    def moved(m: NetworkMember) -> NetworkMember:
        if m.staff_id == staff_id:
            return replace(m, role=role)
        if m.staff_id == holder.staff_id:
            return replace(m, role=previous_holder_role)
        return m

    return replace(network, members=tuple(moved(m) for m in network.members))


def _require_free(network: Network, role: NetworkRole) -> None:
    if role in SINGLE_HOLDER_ROLES and network.holder_of(role) is not None:
        raise PlanRuleViolation(
            f"netværket har allerede en {role.danish}; skift eller fjern det medlem først", field="role"
        )


def _danish_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} og {names[-1]}"
