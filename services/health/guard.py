"""Access to a citizen's health data: load the citizen's context, apply ``domain.access.may``, audit.

Every read and write of health data goes through ``authorize`` (which audits a refusal too) and the
route audits what it read or changed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.health.domain.access import Action, Actor, CitizenContext, Role, may, why_not
from services.health.models import HealthRecord, NetworkMember
from tovholder.auth import Principal
from tovholder.errors import Forbidden, NotFound
from tovholder.uow import UnitOfWork


def actor_of(user: Principal) -> Actor:
    return Actor(role=user.role, sub=user.sub, botilbud=user.botilbud, org=user.org)


async def authorize(
    uow: UnitOfWork, user: Principal, action: Action, citizen_id: uuid.UUID, *, lock: bool = False
) -> HealthRecord:
    """The citizen's health record, if ``user`` may do ``action``; otherwise the refusal is audited and
    a 403 with a reason is raised. An unknown citizen is a 404 only for those who could see it."""
    query = select(HealthRecord).where(HealthRecord.citizen_id == citizen_id)
    record = (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    network = set(
        (await uow.session.execute(select(NetworkMember.staff_sub).where(NetworkMember.citizen_id == citizen_id))).scalars()
    )
    context = CitizenContext(
        citizen_id=str(citizen_id),
        botilbud_id=record.botilbud_id if record else None,
        tovholder_sub=record.tovholder_sub if record else None,
        network_subs=frozenset(network),
    )
    if record is None:
        # Do not reveal whether a citizen exists to someone who could not see them anyway.
        if user.role in (Role.NURSE_CONSULTANT, Role.COORDINATOR) or (user.role == Role.CITIZEN and user.sub == str(citizen_id)):
            raise NotFound("This citizen has no health record; it opens when a place at a botilbud is granted.")
        raise Forbidden(why_not(actor_of(user), action))
    if not may(actor_of(user), action, context):
        uow.audit(user, "health.access_denied", citizen_id=citizen_id, object_type="health_record",
                  object_id=record.id, detail={"action": action.value})
        await uow.commit()
        raise Forbidden(why_not(actor_of(user), action))
    return record


def require_unmatched_queue(user: Principal) -> None:
    if not may(actor_of(user), Action.UNMATCHED_QUEUE):
        raise Forbidden(why_not(actor_of(user), Action.UNMATCHED_QUEUE))
