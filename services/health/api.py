"""Health's HTTP routes."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from tovholder.auth import StaffUser
from tovholder.errors import NotFound
from tovholder.service import UoW
from services.health.models import HealthRecord

staff = APIRouter(prefix="/api/v1", tags=["health"])


@staff.get("/citizens/{citizen_id}/health-record", summary="The citizen's health record")
async def get_health_record(citizen_id: uuid.UUID, user: StaffUser, uow: UoW) -> dict[str, Any]:
    record = (await uow.session.execute(
        select(HealthRecord).where(HealthRecord.citizen_id == citizen_id))).scalar_one_or_none()
    if record is None:
        raise NotFound("This citizen has no health record yet; it opens when a place is granted.")
    uow.audit(user, "health_record.read", citizen_id=citizen_id, object_type="health_record", object_id=record.id)
    await uow.commit()
    return {"health_record_id": str(record.id), "citizen_id": str(record.citizen_id),
            "botilbud_id": record.botilbud_id, "tovholder_sub": record.tovholder_sub, "opened_at": record.opened_at}


routers = [staff]
