"""The citizen-chosen network (Orion, DIGEST W7): 1–14 staff, chosen and changed by the citizen.

Fixed functions in every network ([4]:7792-7794): a network coordinator with a partner (makker), a
nurse consultant (sygeplejekonsulent, the citizen's tovholder) and a rehabilitation leader. One
coordinator per citizen ([4]:3304-3306); the citizen chooses one nurse consultant ([4]:7280-7281).
Staff may suggest members, never decide ([4]:7783-7790): a change records whether it was the
citizen's choice or the initial assignment at move-in (about five staff, [4]:7774-7775).
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


# At most one member may hold these.
SINGLE_HOLDER_ROLES = frozenset({NetworkRole.COORDINATOR, NetworkRole.NURSE_CONSULTANT})
FIXED_ROLES = (NetworkRole.COORDINATOR, NetworkRole.MAKKER, NetworkRole.NURSE_CONSULTANT,
               NetworkRole.REHABILITATION_LEADER)


class ChangeBasis(str, enum.Enum):
    CITIZEN_CHOICE = "citizen-choice"
    INITIAL_ASSIGNMENT = "initial-assignment"  # before the citizen knows the staff


@dataclass(frozen=True)
class NetworkMember:
    staff_id: str
    role: NetworkRole
    added_at: datetime
    basis: ChangeBasis


@dataclass(frozen=True)
class Network:
    citizen_id: str
    members: tuple[NetworkMember, ...] = ()

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


def add_member(network: Network, *, staff_id: str, role: NetworkRole, at: datetime,
               basis: ChangeBasis) -> Network:
    staff_id = (staff_id or "").strip()
    if not staff_id:
        raise PlanRuleViolation("say which staff member to add", field="staff_id")
    role = NetworkRole(role)
    if network.contains(staff_id):
        raise PlanRuleViolation("this staff member is already in the citizen's network", field="staff_id")
    if len(network.members) >= MAX_MEMBERS:
        raise PlanRuleViolation(
            f"a network has at most {MAX_MEMBERS} staff; the citizen must remove someone first", field="staff_id"
        )
    _require_free(network, role)
    member = NetworkMember(staff_id=staff_id, role=role, added_at=at, basis=ChangeBasis(basis))
    return replace(network, members=network.members + (member,))


def remove_member(network: Network, *, staff_id: str) -> tuple[Network, NetworkMember]:
    member = next((m for m in network.members if m.staff_id == staff_id), None)
    if member is None:
        raise PlanRuleViolation("this staff member is not in the citizen's network", field="staff_id")
    if len(network.members) <= MIN_MEMBERS:
        raise PlanRuleViolation(
            f"a network keeps at least {MIN_MEMBERS} staff member; add the new one before removing the last",
            field="staff_id",
        )
    return replace(network, members=tuple(m for m in network.members if m.staff_id != staff_id)), member


def change_role(network: Network, *, staff_id: str, role: NetworkRole) -> Network:
    role = NetworkRole(role)
    member = next((m for m in network.members if m.staff_id == staff_id), None)
    if member is None:
        raise PlanRuleViolation("this staff member is not in the citizen's network", field="staff_id")
    if member.role == role:
        raise PlanRuleViolation(f"this staff member already is the {role.value}", field="role")
    _require_free(network, role)
    return replace(network, members=tuple(replace(m, role=role) if m.staff_id == staff_id else m
                                          for m in network.members))


def _require_free(network: Network, role: NetworkRole) -> None:
    if role in SINGLE_HOLDER_ROLES and network.holder_of(role) is not None:
        raise PlanRuleViolation(
            f"the network already has a {role.value}; change or remove that member first", field="role"
        )
