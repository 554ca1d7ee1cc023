"""Load the demo citizens' health records with their chosen tovholder and GP practice, and each
botilbud's nurse consultants (the roster a citizen chooses from). Idempotent."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from tovholder.cpr import CprVault
from tovholder.uow import UnitOfWork
from services.health.models import HealthRecord, KnownCitizen, NurseConsultant


async def seed(uow: UnitOfWork, demo: dict[str, Any], vault: CprVault) -> None:
    for person in demo.get("staff", []):
        if person.get("role") == "nurse-consultant" and person.get("botilbud"):
            await uow.session.execute(
                insert(NurseConsultant)
                .values(botilbud_id=person["botilbud"], sub=person["sub"], name=person.get("name"))
                .on_conflict_do_nothing()
            )
    if (await uow.session.execute(select(HealthRecord).limit(1))).first() is not None:
        await uow.commit()
        return
    for c in demo["citizens"]:
        citizen_id = uuid.UUID(c["citizen_id"])
        uow.session.add(KnownCitizen(citizen_id=citizen_id, cpr_hash=vault.hash(c["cpr"]), name=c["name"]))
        uow.session.add(HealthRecord(citizen_id=citizen_id, botilbud_id=c["botilbud"], tovholder_sub=c["tovholder_sub"],
                                     gp_practice=c.get("gp_practice")))
    uow.audit(None, "demo.seed", detail={"citizens": len(demo["citizens"])})
    await uow.commit()
