"""A referrals service on real PostgreSQL and real Tansu for the module, plus helpers."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest_asyncio

from tests.support import run_service


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def referrals(pg, kafka, tmp_path_factory):
    state = tmp_path_factory.mktemp("referrals-state")
    async with run_service("referrals", pg=pg, kafka=kafka, state_dir=state) as svc:
        yield svc


def partner_message(cpr: str = "0101904321", org: str = "SOR:1234567", **kw) -> dict:
    body = {
        "message_id": str(uuid.uuid4()),
        "sent_at": datetime.now(timezone.utc).isoformat(),
        "sender": {"org": org, "name": "Psykiatrisk Center København"},
        "cpr": cpr,
        "citizen_name": "Anne Jensen",
        "reason": "Udskrives snart og har brug for et trygt sted at bo.",
        "requested_step": 7,
        "requested_offer": "SEL §108",
    }
    body.update(kw)
    return body


def offer_body(offer_id: str, **kw) -> dict:
    body = {
        "offer_id": offer_id, "name": offer_id.replace("-", " ").title(), "botilbud_id": offer_id,
        "legal_basis": "SEL §108", "step": 7, "approved_places": 10, "occupied_places": 0,
        "target_group": {"description": "Voksne med psykiske lidelser", "min_age": 18, "max_age": 67},
    }
    body.update(kw)
    return body


ASSESSMENT = {
    "scores": {"egenomsorg": 3, "socialt_liv": 2, "sundhed": 3},
    "wishes": "Jeg vil gerne bo et roligt sted tæt på min søster.",
    "needs": "Støtte til medicin og struktur.",
    "resources": "God kontakt til søsteren.",
    "traits": [],
}
