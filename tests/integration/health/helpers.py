"""Make citizens known to the health service the way production does: by publishing referrals'
events on the broker; and build hospital notifications."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from contracts.referrals import CitizenRegisteredV1, VisitationDecidedV1
from services.health.models import HealthRecord, KnownCitizen
from tests.support import eventually, publish_event

PARTNER_ORG = "SOR:1234567"

_serial = itertools.count(1000)


def new_cpr() -> str:
    """A fictitious, well-formed CPR (born 1 Jan 1990; unique serial per call)."""
    return f"010190{next(_serial):04d}"


async def known_citizen(health, kafka, vault, *, botilbud: str = "orion", tovholder: str | None = "nurse-a",
                        with_record: bool = True) -> tuple[uuid.UUID, str]:
    """Register a citizen (and grant a place) through referrals' events; choose a tovholder."""
    citizen_id, cpr = uuid.uuid4(), new_cpr()
    await publish_event(kafka, CitizenRegisteredV1(citizen_id=citizen_id, cpr_hash=vault.hash(cpr), citizen_name="Test Borger"))
    if with_record:
        await publish_event(kafka, VisitationDecidedV1(
            citizen_id=citizen_id, referral_id=uuid.uuid4(), decision="granted", decided_at=datetime.now(timezone.utc),
            decided_by="visitation-1", legal_basis="SEL §108", step=7, offer_id=botilbud, botilbud_id=botilbud))

        async def opened():
            async with health.ctx.sessions() as s:
                return (await s.execute(select(HealthRecord).where(HealthRecord.citizen_id == citizen_id))).scalar_one_or_none()

        await eventually(opened, message="health record opened")
        if tovholder:
            await join_roster(health, botilbud, tovholder)
            nurse = health.auth("nurse-consultant", tovholder, botilbud=botilbud)
            r = await health.client.put(f"/api/v1/citizens/{citizen_id}/tovholder", json={"nurse_consultant_sub": tovholder},
                                        headers=nurse)
            assert r.status_code == 200, r.text
    else:
        async def registered():
            async with health.ctx.sessions() as s:
                return await s.get(KnownCitizen, citizen_id)

        await eventually(registered, message="citizen known")
    return citizen_id, cpr


async def join_roster(health, botilbud: str, *subs: str) -> None:
    """Put nurse consultants on a botilbud's roster the way production does: an administrator sets it."""
    admin = health.auth("admin", "admin-1")
    url = f"/api/v1/botilbud/{botilbud}/nurse-consultants"
    r = await health.client.get(url, headers=admin)
    assert r.status_code == 200, r.text
    roster = {n["sub"]: n["name"] for n in r.json()["nurse_consultants"]}
    if set(subs) <= set(roster):
        return
    roster.update({sub: None for sub in subs if sub not in roster})
    r = await health.client.put(url, headers=admin, json=[{"sub": sub, **({"name": name} if name else {})}
                                                           for sub, name in roster.items()])
    assert r.status_code == 200, r.text
