"""Who may see a citizen's health details, whichever service holds the copy.

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

CITIZEN = "citizen"
NURSE_CONSULTANT = "nurse-consultant"
COORDINATOR = "coordinator"


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
