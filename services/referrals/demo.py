"""Load the demo botilbud (as offers) and citizens into referrals (idempotent)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from contracts.referrals import CitizenRegisteredV1
from tovholder.cpr import CprVault
from tovholder.uow import UnitOfWork
from services.referrals.models import Citizen, Offer


async def seed(uow: UnitOfWork, demo: dict[str, Any], vault: CprVault) -> None:
    if (await uow.session.execute(select(Offer).limit(1))).first() is not None:
        return
    occupied: dict[str, int] = {}
    for c in demo["citizens"]:
        occupied[c["botilbud"]] = occupied.get(c["botilbud"], 0) + 1
    for home in demo["botilbud"]:
        uow.session.add(Offer(
            id=home["id"], botilbud_id=home["id"], name=home["name"], municipality=home["municipality"],
            legal_basis=home["legal_basis"], step=home["step"], approved_places=home["approved_places"],
            occupied_places=occupied.get(home["id"], 0), target_group=home["target_group"],
        ))
    for c in demo["citizens"]:
        cpr_hash = vault.hash(c["cpr"])
        uow.session.add(Citizen(id=uuid.UUID(c["citizen_id"]), cpr_hash=cpr_hash,
                                cpr_encrypted=vault.encrypt(c["cpr"]), name=c["name"]))
        uow.emit(CitizenRegisteredV1(citizen_id=c["citizen_id"], cpr_hash=cpr_hash, citizen_name=c["name"]))
    uow.audit(None, "demo.seed", detail={"citizens": len(demo["citizens"])})
    await uow.commit()
