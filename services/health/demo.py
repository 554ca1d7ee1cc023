"""Load the demo citizens' health records with their chosen tovholder (idempotent)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from tovholder.cpr import CprVault
from tovholder.uow import UnitOfWork
from services.health.models import HealthRecord, KnownCitizen


async def seed(uow: UnitOfWork, demo: dict[str, Any], vault: CprVault) -> None:
    if (await uow.session.execute(select(HealthRecord).limit(1))).first() is not None:
        return
    for c in demo["citizens"]:
        citizen_id = uuid.UUID(c["citizen_id"])
        uow.session.add(KnownCitizen(citizen_id=citizen_id, cpr_hash=vault.hash(c["cpr"]), name=c["name"]))
        uow.session.add(HealthRecord(citizen_id=citizen_id, botilbud_id=c["botilbud"], tovholder_sub=c["tovholder_sub"]))
    uow.audit(None, "demo.seed", detail={"citizens": len(demo["citizens"])})
    await uow.commit()
