"""Plans' event handlers."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from contracts.plans import PlanOpenedV1
from contracts.referrals import VisitationDecidedV1
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork
from services.plans.models import Plan
from services.plans.store import opening_version, version_row

events = EventRouter()


@events.handles(VisitationDecidedV1)
async def open_plan_when_place_granted(event: VisitationDecidedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    if event.decision != "granted" or not event.botilbud_id:
        return
    existing = (await uow.session.execute(select(Plan).where(Plan.citizen_id == event.citizen_id))).scalar_one_or_none()
    if existing is not None:
        return
    opened_at = datetime.now(timezone.utc)
    plan = Plan(id=uuid.uuid4(), citizen_id=event.citizen_id, botilbud_id=event.botilbud_id, opened_at=opened_at,
                current_version=1)
    uow.session.add(plan)
    await uow.session.flush()
    uow.session.add(version_row(opening_version(plan)))
    uow.emit(PlanOpenedV1(citizen_id=event.citizen_id, plan_id=plan.id, botilbud_id=event.botilbud_id,
                          opened_at=opened_at))
    uow.audit(None, "plan.open", citizen_id=event.citizen_id, object_type="plan", object_id=plan.id,
              detail={"cause": meta.event_id})
