"""Load the demo citizens' health records with their chosen tovholder and GP practice, each
botilbud's nurse consultants (the roster a citizen chooses from) and Tangkær's health-check cadence
(yearly, extended every fifth year; the others keep the GP agreement's default). Idempotent."""

from __future__ import annotations

import uuid
from typing import Any

from services.health import repository as repo
from services.health.domain import health_check as hc
from services.health.models import HealthRecord, KnownCitizen
from tovholder.cpr import CprVault
from tovholder.uow import UnitOfWork


async def seed(uow: UnitOfWork, demo: dict[str, Any], vault: CprVault) -> None:
    for person in demo.get("staff", []):
        if person.get("role") == "nurse-consultant" and person.get("botilbud"):
            await repo.add_nurse_consultant(uow, botilbud_id=person["botilbud"], sub=person["sub"], name=person.get("name"))
    if await repo.cadence_row(uow, "tangkaer") is None:
        await repo.set_cadence(uow, botilbud_id="tangkaer", cadence=hc.TANGKAER, set_by="demo")
    if await repo.any_health_record(uow):
        await uow.commit()
        return
    for c in demo["citizens"]:
        citizen_id = uuid.UUID(c["citizen_id"])
        repo.add(uow, KnownCitizen(citizen_id=citizen_id, cpr_hash=vault.hash(c["cpr"]), name=c["name"]))
        repo.add(uow, HealthRecord(citizen_id=citizen_id, botilbud_id=c["botilbud"], tovholder_sub=c["tovholder_sub"],
                                   gp_practice=c.get("gp_practice")))
    uow.audit(None, "demo.seed", detail={"citizens": len(demo["citizens"])})
    await uow.commit()
