"""The access vocabulary every service uses: roles, the actor, ``authorize``, and the one rule for
health details.

- ``Role`` (the six roles a token may carry), ``STAFF_ROLES`` (the municipality's and the botilbud's
  people: they log in to the staff pages), ``Actor`` and ``actor_from(principal)``: who acts, with the
  ``Scope`` (``tovholder.scopes``) that narrows single reads and lists alike.
- ``authorize(allowed, reason, …)``: a refusal is ``Forbidden`` (403), or ``NotVisible`` (404, the
  very answer for an unknown object) when telling the caller "no" would reveal that the citizen or
  object exists. The kit's error handler writes an audit entry for every such refusal — and for any
  ``Forbidden`` — in a transaction of its own (the refused use case's transaction is rolled back), so
  a refusal is never lost and no service audits it twice.

Who may see a citizen's health details, whichever service holds the copy.

Health details are hospital stays (with department and sender), medication changes, health checks,
treatment orders (behandlingsdom), depot medication and the coercion log. The health service owns
them; other services keep copies built from its events (notifications' citizen timeline and the tasks
those events create). One rule for every copy, the one the health service applies to its own data:

- the citizen themselves;
- the citizen's tovholder (the nurse consultant the citizen chose);
- the nurse consultants of the citizen's botilbud (they dose the medication and cover for each other);
- coordinators and nurse consultants in the citizen's network (the citizen chose them).

Visitation, administrators, partners and other staff do not see health details (administrators run
the system; partners deliver health information and receive it only under consent, ``tovholder.consent``).

Pure: the caller passes what it knows about the citizen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tovholder.errors import Forbidden, NotVisible
from tovholder.scopes import PrincipalClaims, Scope, scope_for


class Role(StrEnum):
    VISITATION = "visitation"
    COORDINATOR = "coordinator"
    NURSE_CONSULTANT = "nurse-consultant"
    PARTNER = "partner"
    CITIZEN = "citizen"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)
# The people of the municipality and the botilbud (and the administrators): they use the staff pages.
STAFF_ROLES: tuple[str, ...] = (Role.VISITATION, Role.COORDINATOR, Role.NURSE_CONSULTANT, Role.ADMIN)

CITIZEN = Role.CITIZEN.value
NURSE_CONSULTANT = Role.NURSE_CONSULTANT.value
COORDINATOR = Role.COORDINATOR.value
SYSTEM_SUB = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (from the token) or the system itself (``Actor.system()``, role None)."""

    sub: str
    role: Role | None = None
    botilbud: str | None = None  # coordinators, nurse consultants: their botilbud
    org: str | None = None  # a partner's organisation
    municipality: str | None = None  # visitation's claim; None: every municipality of the installation
    serving: str | None = None  # the installation's municipality (records that name none belong to it)

    @classmethod
    def system(cls) -> "Actor":
        return cls(sub=SYSTEM_SUB)

    @property
    def botilbud_id(self) -> str | None:
        return self.botilbud

    @property
    def serving_municipality(self) -> str | None:
        return self.serving

    @property
    def scope(self) -> Scope:
        """The records within reach; the same scope narrows the lists."""
        return scope_for(self.role or "", sub=self.sub, org=self.org, botilbud=self.botilbud,
                         municipality=self.municipality, serving=self.serving)


def actor_from(principal: PrincipalClaims, *, serving: str | None = None) -> Actor:
    """The actor a token names (an unknown role, which the verifier never lets through, gets None).
    ``serving``: ``tovholder.scopes.serving_municipality(settings)``, where the scope needs it."""
    role = Role(principal.role) if principal.role in ROLES else None
    return Actor(sub=principal.sub, role=role, org=principal.org, botilbud=principal.botilbud,
                 municipality=principal.municipality, serving=serving)


_NOT_FOUND = "Findes ikke."


def authorize(allowed: bool, reason: str, *, hide: bool = False, not_found: str = _NOT_FOUND,
              en: str | None = None, not_found_en: str | None = None, citizen_id: Any = None,
              action: str | None = None, object_type: str | None = None, object_id: Any = None) -> None:
    """Let an allowed request through; refuse any other with ``reason`` (403), or with ``not_found``
    (404, ``hide=True``) where a 403 would tell the caller that the citizen or object exists. The kit
    audits the refusal (``action``, default ``access.refused``; the citizen and object it names).

    ``reason`` and ``not_found`` are the Danish a staff member or citizen reads; ``en`` and
    ``not_found_en`` the English a partner reads where the route is a partner's (``/integration/``, FHIR)."""
    if allowed:
        return
    names = {"citizen_id": citizen_id, "audit_action": action, "object_type": object_type, "object_id": object_id}
    if hide:
        raise NotVisible(not_found, en=not_found_en or ("Not found." if not_found == _NOT_FOUND else None), **names)
    raise Forbidden(reason, en=en, **names)


@dataclass(frozen=True, slots=True)
class Viewer:
    role: str
    sub: str
    botilbud: str | None = None


@dataclass(frozen=True, slots=True)
class CitizenCircle:
    """The people around one citizen that the health rule looks at."""

    citizen_id: str
    botilbud_id: str | None
    tovholder_sub: str | None
    network_subs: frozenset[str] = field(default_factory=frozenset)


def may_read_health_details(viewer: Viewer, citizen: CitizenCircle) -> bool:
    is_self = viewer.role == CITIZEN and viewer.sub == citizen.citizen_id
    is_tovholder = viewer.role == NURSE_CONSULTANT and citizen.tovholder_sub is not None \
        and viewer.sub == citizen.tovholder_sub
    house_nurse = viewer.role == NURSE_CONSULTANT and viewer.botilbud is not None \
        and viewer.botilbud == citizen.botilbud_id
    in_network = viewer.role in (COORDINATOR, NURSE_CONSULTANT) and viewer.sub in citizen.network_subs
    return is_self or is_tovholder or house_nurse or in_network
