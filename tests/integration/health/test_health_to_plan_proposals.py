"""Issue 15, "Plans learn from the health check": health and plans together on real PostgreSQL and the
broker. A decision in the check's minutes becomes a proposal in plans, which the coordinator answers
with the citizen: confirmed, it is a plan entry written with the citizen; declined, the reason is kept."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
import pytest_asyncio
from sqlalchemy import select

from services.plans.models import Plan
from tests.integration.health.helpers import known_citizen
from tests.integration.plans.conftest import known_staff, outbox_drained, staff
from tests.support import eventually, run_service
from tovholder import clock

pytestmark = pytest.mark.integration

CET = timezone(timedelta(hours=1))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def plans(pg, kafka, tmp_path_factory):
    async with run_service("plans", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("plans-state")) as svc:
        yield svc
        await outbox_drained(svc)


async def test_a_decision_from_the_minutes_is_proposed_and_confirmed_with_the_citizen(health, plans, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault, tovholder="nurse-a")

    async def plan_opened():
        async with plans.ctx.sessions() as session:
            return await session.scalar(select(Plan.id).where(Plan.citizen_id == citizen_id))

    await eventually(plan_opened, message="plan opened")

    # The citizen's choice of tovholder reaches plans as an event and puts the nurse in the network;
    # the nurse then records the coordinator the citizen chose (the network is no longer empty).
    tovholder = plans.auth("nurse-consultant", "nurse-a", botilbud="orion")

    async def tovholder_in_network():
        body = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/network", headers=tovholder)).json()
        return any(m["staff_id"] == "nurse-a" for m in body.get("members", []))

    await eventually(tovholder_in_network, message="tovholder in the network")
    await known_staff(plans, citizen_id, "k1")
    added = await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=tovholder,
                                    json={"staff_id": "orion-k1", "role": "coordinator", "basis": "citizen-choice"})
    assert added.status_code == 201, added.text
    coordinator = staff(plans, "k1")

    nurse = health.auth("nurse-consultant", "nurse-a", botilbud="orion")
    starts_at = datetime.combine(clock.next_working_day(date.today() + timedelta(days=30)), time(10, 0), tzinfo=CET)
    hc_id = (await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks",
                                      json={"starts_at": starts_at.isoformat()}, headers=nurse)).json()["health_check_id"]
    held = {"held_at": (starts_at + timedelta(minutes=12)).isoformat(), "minutes": "Afføringsmiddel halveres.",
            "participants": [{"role": r, "name": r} for r in ("citizen", "minute-taker", "gp")],
            "decisions": [{"kind": "reduce-dose", "title": "Halvér afføringsmidlet"},
                          {"kind": "lifestyle", "title": "Gå en tur hver dag"}]}
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/held", json=held, headers=nurse)
    assert r.status_code == 200, r.text

    url = f"/api/v1/citizens/{citizen_id}/plan/proposals"

    async def proposed():
        r = await plans.client.get(url, headers=coordinator)
        return r.json()["proposals"] if r.status_code == 200 and len(r.json()["proposals"]) == 2 else None

    proposals = {p["title"]: p for p in await eventually(proposed, timeout=30, message="two proposals in plans")}
    dose = proposals["Halvér afføringsmidlet"]
    assert dose["status"] == "proposed" and dose["proposed_text"].startswith("Fra sundhedstjekket")
    plan = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=coordinator)).json()
    assert not any("Halvér" in e["text"] for e in plan["entries"])  # nothing in the plan before it is confirmed

    answer = f"{url}/{dose['proposal_id']}/answer"
    alone = await plans.client.post(answer, json={"accepted": True, "with_citizen": False}, headers=coordinator)
    assert alone.status_code == 422 and "med borgeren" in alone.json()["detail"]
    r = await plans.client.post(answer, json={"accepted": True, "with_citizen": True}, headers=coordinator)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["proposal"]["status"] == "confirmed" and body["proposal"]["entry_id"]
    (entry,) = [e for e in body["plan"]["entries"] if e["entry_id"] == body["proposal"]["entry_id"]]
    assert entry["text"] == dose["proposed_text"] and entry["written_with_citizen"] is True
    again = await plans.client.post(answer, json={"accepted": True, "with_citizen": True}, headers=coordinator)
    assert again.status_code == 422 and "allerede besvaret" in again.json()["detail"]

    walk = f"{url}/{proposals['Gå en tur hver dag']['proposal_id']}/answer"
    r = await plans.client.post(walk, json={"accepted": False, "with_citizen": True, "reason": "Vil hellere cykle"},
                                headers=coordinator)
    assert r.status_code == 200 and r.json()["proposal"]["status"] == "declined" and r.json()["plan"] is None

    outsider = await plans.client.get(url, headers=staff(plans, "x9", "tangkaer"))
    assert outsider.status_code == 404  # the same answer as for a citizen who does not exist
