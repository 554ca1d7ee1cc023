"""Access to a citizen's health data: load the citizen's context, apply ``domain.access.may``, audit.

Every read and write of health data goes through ``authorize`` (which audits a refusal too) and the
route audits what it read or changed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.health.domain.access import Action, Actor, CitizenContext, knows_of, may, reads_health_data, why_not
from services.health.models import HealthRecord, NetworkMember
from tovholder.auth import Principal
from tovholder.errors import Forbidden, NotFound
from tovholder.scopes import scope_of
from tovholder.uow import UnitOfWork


def actor_of(user: Principal) -> Actor:
    return Actor(role=user.role, sub=user.sub, botilbud=user.botilbud, org=user.org)


# One answer for a citizen without a health record and for a record the caller may not see, so a
# nurse consultant or coordinator elsewhere cannot learn that a citizen exists (or has a record).
NO_RECORD_YOU_MAY_SEE = ("Ingen sundhedsjournal for denne borger, som du har adgang til "
                         "(den oprettes, når borgeren får en plads på et botilbud).")


async def authorize(
    uow: UnitOfWork, user: Principal, action: Action, citizen_id: uuid.UUID, *, lock: bool = False,
    not_found: str = NO_RECORD_YOU_MAY_SEE,
) -> HealthRecord:
    """The citizen's health record, if ``user`` may do ``action``. Otherwise the refusal is audited
    (when there is a record) and answered without revealing whether the citizen exists:

    - roles that never read health data (partner, admin, visitation) get the same 403 for every citizen;
    - the others get ``not_found`` (404) — the very answer for an unknown citizen (or for the
      unknown object the route looked up, e.g. a health check) — unless they may do something
      else with this record, which they then know of: then a 403 says why not.
    """
    actor = actor_of(user)
    query = select(HealthRecord).where(HealthRecord.citizen_id == citizen_id)
    record = (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if record is None:
        if not reads_health_data(user.role):
            raise Forbidden(why_not(actor, action))
        raise NotFound(not_found)
    network = set(
        (await uow.session.execute(select(NetworkMember.staff_sub).where(NetworkMember.citizen_id == citizen_id))).scalars()
    )
    context = CitizenContext(
        citizen_id=str(citizen_id),
        botilbud_id=record.botilbud_id,
        tovholder_sub=record.tovholder_sub,
        network_subs=frozenset(network),
    )
    if not may(actor, action, context):
        uow.audit(user, "health.access_denied", citizen_id=citizen_id, object_type="health_record",
                  object_id=record.id, detail={"action": action.value})
        await uow.commit()
        if reads_health_data(user.role) and not knows_of(actor, context):
            raise NotFound(not_found)
        raise Forbidden(why_not(actor, action))
    return record


def require_unmatched_queue(user: Principal, serving: str | None) -> None:
    """The queue of unmatched hospital notices is visitation's — of the municipality that received
    them: the one this installation serves (a notice matching nobody names no municipality)."""
    actor = actor_of(user)
    if not may(actor, Action.UNMATCHED_QUEUE):
        raise Forbidden(why_not(actor, Action.UNMATCHED_QUEUE))
    if not scope_of(user, serving=serving).sees_records_without_municipality:
        # The same answer for the list and every notice in it: nothing about any one notice.
        raise Forbidden(f"Køen af uparrede sygehusadviser hører til {serving or 'installationens kommune'}; "
                        f"dit token er udstedt til visitationen i {user.municipality}.")
