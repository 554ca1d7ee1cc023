"""Plans' HTTP routes."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from tovholder.auth import StaffUser
from tovholder.errors import NotFound
from tovholder.service import UoW
from services.plans.models import Plan

staff = APIRouter(prefix="/api/v1", tags=["plans"])


@staff.get("/citizens/{citizen_id}/plan", summary="The citizen's plan")
async def get_plan(citizen_id: uuid.UUID, user: StaffUser, uow: UoW) -> dict[str, Any]:
    plan = (await uow.session.execute(select(Plan).where(Plan.citizen_id == citizen_id))).scalar_one_or_none()
    if plan is None:
        raise NotFound("This citizen has no plan yet; it opens when a place is granted.")
    uow.audit(user, "plan.read", citizen_id=citizen_id, object_type="plan", object_id=plan.id)
    await uow.commit()
    return {"plan_id": str(plan.id), "citizen_id": str(plan.citizen_id), "botilbud_id": plan.botilbud_id,
            "status": plan.status, "opened_at": plan.opened_at}


routers = [staff]
