"""Load the demo citizens into notifications' citizen read model (name, botilbud, tovholder), so the
staff pages show names from the first minute of `make run`. Idempotent; events later keep it current."""

from __future__ import annotations

import uuid
from typing import Any

from services.notifications import repository as repo
from tovholder.cpr import CprVault
from tovholder.uow import UnitOfWork


async def seed(uow: UnitOfWork, demo: dict[str, Any], vault: CprVault) -> None:
    for c in demo["citizens"]:
        await repo.seed_citizen(uow.session, citizen_id=uuid.UUID(c["citizen_id"]), name=c["name"],
                                botilbud_id=c["botilbud"], tovholder_sub=c.get("tovholder_sub"))
    uow.audit(None, "demo.seed", detail={"citizens": len(demo["citizens"])})
    await uow.commit()
