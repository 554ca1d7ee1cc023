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


async def placed_citizen(referrals, cpr: str, home: str, org: str = "SOR:1234567") -> tuple[str, str]:
    """A partner's (``org``) referral, granted and moved in today at the offer ``home`` (created first):
    (referral id, citizen id)."""
    from services.referrals.services import today

    r = await referrals.client.put(f"/api/v1/offers/{home}", json=offer_body(home), headers=referrals.auth("admin"))
    assert r.status_code == 200, r.text
    r = await referrals.client.post("/integration/v1/referrals", json=partner_message(cpr=cpr, org=org),
                                    headers=referrals.auth("partner", "pck", org=org))
    assert r.status_code == 202, r.text
    rid = r.json()["referral_id"]
    visitation = referrals.auth("visitation", "visitation-1")
    assert (await referrals.client.put(f"/api/v1/referrals/{rid}/assessment", json=ASSESSMENT,
                                       headers=visitation)).status_code == 200
    r = await referrals.client.post(f"/api/v1/referrals/{rid}/decision", headers=visitation, json={
        "decision": "granted", "legal_basis": "SEL §108", "offer_id": home,
        "reason": "Borgeren har brug for døgnstøtte.", "start_date": today().isoformat()})
    assert r.status_code == 200, r.text
    r = await referrals.client.post(f"/api/v1/referrals/{rid}/move-in", headers=visitation,
                                    json={"moved_in_on": today().isoformat()})
    assert r.status_code == 200, r.text
    return rid, (await referrals.client.get(f"/api/v1/referrals/{rid}", headers=visitation)).json()["citizen_id"]
