"""Load the demo botilbud (as offers) and citizens into referrals (idempotent)."""

from __future__ import annotations

import uuid
from typing import Any

from contracts.referrals import CitizenRegisteredV1
from services.referrals import repository
from services.referrals.domain.cpr import birth_date_from_cpr
from services.referrals.models import Citizen, Offer
from tovholder.cpr import CprVault
from tovholder.uow import UnitOfWork

# Target groups from the sources' descriptions of the six homes (DIGEST §5, [4]:3182-3401). The
# resident mix is counted from placements, so the demo's hand-typed figure is gone.
TARGET_GROUPS: dict[str, dict[str, Any]] = {
    "tangkaer": {"target_min_age": 18, "target_max_age": 67},
    "vista-hus": {"target_requires": ["behandlingsdom", "dobbeltdiagnose"]},
    "cirklen": {"target_min_age": 18, "target_max_age": 30},
    "tuesten-huse": {"target_requires": ["misbrug"]},
    "mette-marie": {"target_min_age": 35, "target_max_age": 60, "target_requires": ["dobbeltdiagnose"]},
    "orion": {},
}


async def seed(uow: UnitOfWork, demo: dict[str, Any], vault: CprVault) -> None:
    if await repository.any_offer(uow):
        return
    occupied: dict[str, int] = {}
    for c in demo["citizens"]:
        occupied[c["botilbud"]] = occupied.get(c["botilbud"], 0) + 1
    for home in demo["botilbud"]:
        extra = TARGET_GROUPS.get(home["id"], {})
        repository.add_offer(uow, Offer(
            id=home["id"], botilbud_id=home["id"], name=home["name"], municipality=home["municipality"],
            legal_basis=home["legal_basis"], step=home["step"], approved_places=home["approved_places"],
            occupied_places=occupied.get(home["id"], 0), reserved_places=0, target_group=home["target_group"],
            target_min_age=extra.get("target_min_age"), target_max_age=extra.get("target_max_age"),
            target_requires=extra.get("target_requires", []), target_excludes=extra.get("target_excludes", []),
        ))
    for c in demo["citizens"]:
        cpr_hash = vault.hash(c["cpr"])
        repository.add_citizen(uow, Citizen(id=uuid.UUID(c["citizen_id"]), cpr_hash=cpr_hash,
                                cpr_encrypted=vault.encrypt(c["cpr"]), name=c["name"],
                                birth_date=birth_date_from_cpr(c["cpr"])))
        uow.emit(CitizenRegisteredV1(citizen_id=c["citizen_id"], cpr_hash=cpr_hash, citizen_name=c["name"]))
    uow.audit(None, "demo.seed", detail={"citizens": len(demo["citizens"])})
    await uow.commit()
