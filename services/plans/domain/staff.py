"""The staff plans knows, and who may join a citizen's network. Pure.

Tovholder has no staff register of its own; the municipality's identity provider is the source of
truth for who a staff member is (``sub``), their role and their botilbud. Plans keeps the smallest
honest directory built from what it has been told, by one of three sources:

- ``register``: the municipality's staff register, provisioned over SCIM 2.0 (``/scim/v2/Users``,
  ``services/plans/scim``): the identity provider creates a user when someone is hired, changes them
  and deactivates or deletes them when they leave. A register member is known at once (before they
  ever sign in) and may join a network. The register's ``userName`` is the staff id, the very ``sub``
  the identity provider puts in the member's tokens. The register has the last word: a later token
  neither re-activates a member the register deactivated nor changes their name, role or botilbud.
- ``token``: a coordinator or nurse consultant who signed in and used plans; the identity provider
  vouched for the sub, role and botilbud in the token (a later token with other claims updates them),
  for municipalities that do not provision over SCIM;
- ``demo``: the demo staff that ``make run`` loads (``tovholder demo``), development only.

A member who left (``active`` false: deactivated or deleted in the register) keeps their row, because
network history and plan entries name them; they cannot be added to a network, and the network shows
their current memberships as *fratrådt* (left the municipality's employment) until a coordinator
removes them.

A network member is either staff of the citizen's botilbud found in this directory, or a named
external partner with an organisation (a GP, a psychiatrist, a housing-support worker): a free-typed
string is never a staff member. A staff member the directory does not know yet joins once the register
provisions them or once they have signed in to plans.
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
    REGISTER = "register"


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    role: str
    botilbud_id: str
    name: str | None = None
    source: Source = Source.TOKEN
    active: bool = True


class RegisterEntryInvalid(ValueError):
    """A register entry plans cannot take (the SCIM API answers 400 ``invalidValue`` with the reason)."""


def from_register(*, user_name: str, role: str | None, botilbud_id: str | None, name: str | None,
                  active: bool) -> StaffMember:
    """A member as the municipality's staff register provisions them; English reasons (a machine reads them)."""
    user_name = (user_name or "").strip()
    if not user_name:
        raise RegisterEntryInvalid("userName is required: the staff member's sign-in id (the token's sub)")
    if user_name.startswith(EXTERNAL_PREFIX):
        raise RegisterEntryInvalid(f"userName must not start with '{EXTERNAL_PREFIX}' (Tovholder's external partners)")
    if role not in BOTILBUD_STAFF_ROLES:
        raise RegisterEntryInvalid(f"role must be one of {', '.join(sorted(BOTILBUD_STAFF_ROLES))} "
                                   f"(attribute {REGISTER_SCHEMA}:role)")
    if not (botilbud_id or "").strip():
        raise RegisterEntryInvalid(f"botilbudId is required: the botilbud the staff member works at "
                                   f"(attribute {REGISTER_SCHEMA}:botilbudId)")
    return StaffMember(staff_id=user_name, role=role, botilbud_id=botilbud_id.strip(), name=(name or "").strip() or None,
                       source=Source.REGISTER, active=active)


# The extension schema of the register's users: the role and botilbud a staff member has in Tovholder.
REGISTER_SCHEMA = "urn:dk:tovholder:params:scim:schemas:extension:tovholder:2.0:User"


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
    if not known.active:
        raise PlanRuleViolation(
            f"'{known.name or staff_id}' er fratrådt (deaktiveret i kommunens medarbejderregister) og kan ikke komme "
            "med i netværket", field="staff_id")
    if known.botilbud_id != botilbud_id:
        raise PlanRuleViolation(
            f"'{staff_id}' er ansat på et andet botilbud ({known.botilbud_id}); netværket er borgerens eget botilbuds "
            "personale – en ekstern samarbejdspartner tilføjes med navn og organisation", field="staff_id")
    return known
