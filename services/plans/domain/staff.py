"""The staff plans knows, and who may join a citizen's network. Pure.

Tovholder has no staff register of its own; the municipality's identity provider is the source of
truth for who a staff member is (``sub``), their role and their botilbud (the token's claims). Plans
keeps the smallest honest directory built from what it has been told:

- ``token``: a coordinator or nurse consultant who signed in and used plans; the identity provider
  vouched for the sub, role and botilbud in the token (a later token with other claims updates them);
- ``demo``: the demo staff that ``make run`` loads (``tovholder demo``), development only.

A network member is either staff of the citizen's botilbud found in this directory, or a named
external partner with an organisation (a GP, a psychiatrist, a housing-support worker): a free-typed
string is never a staff member. A staff member the directory does not know yet joins once they have
signed in to plans (or once the municipality's staff register feeds the directory, not built yet).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from services.plans.domain.errors import PlanRuleViolation

# The staff who work at a botilbud (the token roles that carry a botilbud).
BOTILBUD_STAFF_ROLES = frozenset({"coordinator", "nurse-consultant"})
# Ids of external partners in a network are made by plans and never look like a staff sub.
EXTERNAL_PREFIX = "ekstern:"


class Source(str, enum.Enum):
    TOKEN = "token"
    DEMO = "demo"


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    role: str
    botilbud_id: str
    name: str | None = None
    source: Source = Source.TOKEN


def from_token(*, sub: str, role: str, botilbud: str | None) -> StaffMember | None:
    """What a signed-in user's token tells the directory; None when it tells nothing (citizens,
    partners, visitation, staff without a botilbud, or a sub that looks like an external id)."""
    if role not in BOTILBUD_STAFF_ROLES or not botilbud or not sub or sub.startswith(EXTERNAL_PREFIX):
        return None
    return StaffMember(staff_id=sub, role=role, botilbud_id=botilbud, source=Source.TOKEN)


def require_may_join(staff_id: str, known: StaffMember | None, *, botilbud_id: str) -> StaffMember:
    """A staff member joins a network only if plans knows them as staff of the citizen's botilbud."""
    staff_id = (staff_id or "").strip()
    if not staff_id:
        raise PlanRuleViolation("angiv hvilken medarbejder, der skal med i netværket", field="staff_id")
    if known is None:
        raise PlanRuleViolation(
            f"'{staff_id}' er ikke en medarbejder, systemet kender; en medarbejder kendes, når vedkommende har "
            "logget ind – en ekstern samarbejdspartner tilføjes med navn og organisation", field="staff_id")
    if known.botilbud_id != botilbud_id:
        raise PlanRuleViolation(
            f"'{staff_id}' er ansat på et andet botilbud ({known.botilbud_id}); netværket er borgerens eget botilbuds "
            "personale – en ekstern samarbejdspartner tilføjes med navn og organisation", field="staff_id")
    return known
